"""The compiled PostgreSQL parser (`_pg.pyx`: line loop and pgbadger normalisation) gives the
events of the Python one (postgresql.py, fingerprint_pg.py: the specification), field for field
and in the same order, over generated logs, odd and near-miss lines and random chunk cuts."""

from __future__ import annotations

import io
import itertools
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.parsers import parser_for, postgresql
from processor.parsers.fingerprint_pg import normalize_query_python
from tests.parsers.generate import write_postgresql
from tests.parsers.helpers import sample
from tests.parsers.pg_helpers import FP, implementation, require_compiled
from tests.parsers.test_pgbadger_report import _log


@pytest.fixture(scope="module")
def compiled() -> None:
    require_compiled()


def _events(data: bytes, cuts: list[int], max_line_bytes: int) -> list[str]:
    parser = parser_for("postgresql", 100, max_line_bytes)
    out = []
    last = 0
    for cut in [*sorted(cuts), len(data)]:
        out += parser.feed(data[last:cut])
        last = cut
    out += parser.flush()
    assert parser.committed_offset == 100 + len(data)
    return [json.dumps(e.to_dict()) for e in out]


def _same(data: bytes, cuts: list[int] = [], max_line_bytes: int = 1 << 20) -> None:  # noqa: B006
    ours = _events(data, cuts, max_line_bytes)
    with implementation("python"):
        spec = _events(data, [], max_line_bytes)
    assert ours == spec


ODD = [
    b"2023-11-29 09:23:51 UTC:10.0.2.55(57562):u@d:[1]:LOG:  duration: 1.5 ms  statement: SELECT 1",
    b"2023-11-29 09:23:51 UTC:a:b(5):u@d:[1]:LOG:  statement: SELECT 2",
    b"2023-11-29 09:23:51 UTC:h:u@x@d:[1]:LOG:  statement: SELECT 3",
    b"2023-11-29 09:23:51 UTC:h:u@d:x:[1]:LOG:  statement: SELECT 4",
    b"2023-11-29 09:23:51 UTC:h:u@d:[1]:LOG:x(5):[2]:LOG:  y",
    b"2023-11-29 09:23:51 UTC::@:[560]:LOG:  checkpoint complete: wrote 3 buffers (0.1%)",
    b"2023-11-29 09:23:51 UTC:::1(5432):u@d:[1]:LOG:  statement: SELECT 15",
    b"2023-11-29 09:23:51 UTC:a)b(5):u@d:[1]:LOG:  statement: SELECT 16",
    b"2023-11-29 09:23:51 UTC:h@x:u@d:[1]:LOG:  statement: SELECT 17",
    b"2023-11-29 09:23:51 UTC:h(5)x:u@d:[1]:LOG:  statement: SELECT 18",
    b"2023-11-29 09:23:51 UTC:h(5):u@d:[1]:LOG:  x (y(1):[2]:LOG:",
    b"2023-11-29 09:23:51 UTC:[local]:postgres@postgres:[7]:LOG:  statement: BEGIN",
    b"2023-11-29 09:23:51 UTC:[local](5):u@d:[7]:LOG:  statement: COMMIT;",
    b"2023-11-29 09:23:51 UTC:h(99999999999999999999999):u@d:[7]:LOG:  statement: SELECT 5",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[99999999999999999999999]:LOG:  statement: SELECT 6",
    b"2023-11-29T09:23:51.000Z 2023-11-29 09:23:51 UTC:h(1):u@d:[8]:LOG:  statement: SELECT 7",
    b"2023-11-29 09:23:51.123 UTC:h(1):u@d:[8]:LOG:  statement: SELECT 8",
    b"2023-11-29 09:23:51 CET:h(1):u@d:[8]:LOG:  duration: 2 ms  execute S_1: SELECT $1",
    b"2023-11-29 09:23:51 CET:h(1):u@d:[8]:DETAIL:  parameters: $1 = 'a,b'",
    b"2023-11-29 09:23:51 IST:h(1):u@d:[8]:LOG:  duration: 2. ms  statement: SELECT 9",
    b"2023-11-29 09:23:51 ABCDEFG:h(1):u@d:[8]:LOG:  statement: SELECT 19",
    b"2023-11-29 09:23:51 ABCDEF:h(1):u@d:[8]:LOG:  statement: SELECT 20",
    b"2023-11-29 09:23:51 Japan:h(1):u@d:[8]:LOG:  statement: SELECT 21",
    b"2023-11-29 09:23:51 GMT:h(1):u@d:[8]:LOG:  statement: SELECT 22",
    b"2023-11-29 09:23:51 utc:h(1):u@d:[8]:LOG:  statement: SELECT 23",
    b"2023-11-29 09:23:51UTC:h(1):u@d:[8]:LOG:  statement: SELECT 24",
    b"2023-02-30 09:23:51 UTC:h(1):u@d:[8]:LOG:  statement: SELECT 25",
    b"2023-11-29 09:23:51 +03:h(1):u@d:[8]:LOG:  duration: 12345678901234567.5 ms",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:LOG:  00000: duration: 0.051 ms  bind <unnamed>: X",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:LOG:\tstatement:SELECT 10",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:LOG:  statementx: SELECT 11",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:LOG:  duration: 3 ms  plan:",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:LOG:  duration: 3 ms  fastpath function call: f",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:LOG:  execute a:b: SELECT 12",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:LOG:  duration: 1 ms  execute : SELECT 13",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:LOG:  bind : SELECT 14",
    b"\tFROM t WHERE x = '\xc3\xa9' AND y = $1",
    b"   ",
    b"",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:STATEMENT:  SELECT '\xff' -- broken utf-8",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:ERROR:  boom\r",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[9]:DETAIL:  Key (id)=(1) already exists.",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[10]:DETAIL:  another process",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[10]:HINT:  x",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[10]:lowercase:  y",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[11]:LOG:  statement: ALTER ROLE a PASSWORD 'hunter2'",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[11]:LOG:  statement: DECLARE c1 CURSOR FOR SELECT 1",
    b'2023-11-29 09:23:51 UTC:h(1):u@d:[11]:LOG:  statement: SELECT "A" AS "it\'s" -- c',
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[11]:LOG:  statement: ",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[11]:LOG:  statement: 0",
    b"no prefix at all",
    b"2023-11-29 09:23:51 UTC:h(1):u@d:[12]:PANIC:  " + b"x" * 300,
]


def test_odd_lines(compiled: None) -> None:
    data = b"\n".join(ODD) + b"\n"
    _same(data)
    _same(data, max_line_bytes=64)  # lines cut and entries capped
    _same(data[:-1])  # no newline at the end


def test_sample_and_named_zone_logs(compiled: None) -> None:
    _same(sample("postgresql"))
    for zone in ("UTC", "CET", "IST", "XYZ", "+0530"):
        _same(_log(7, 400, zone))


def test_generated_log_in_random_chunks(compiled: None) -> None:
    buf = io.BytesIO()
    write_postgresql(buf, 400_000, seed=9)
    data = buf.getvalue()
    rng = random.Random(3)
    _same(data, [rng.randrange(len(data)) for _ in range(40)])


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.sampled_from(ODD), min_size=1, max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=6),
)
def test_random_line_mixes(compiled: None, lines: list[bytes], cuts: list[int]) -> None:
    data = b"\n".join(lines) + b"\n"
    _same(data, [c for c in cuts if c <= len(data)])


TOKENS = [
    " ", "  ", "\t", "\n", "'", "''", '"', '"A b"', '"x\'y"', "\\", "\\'", "a", "B", "\xe9", "1",
    "-", "--", "-- c\n", "/*", "*/", "0x", "ff", "$", "$1", ".", ",", "(", ")", "IN", "in", "=",
    "null", "NULL", "begin", "BEGIN", ";", " ;", "AS", "as", "?", "??", "e", "%", "declare",
    "fetch next from", "close", "%sqlident0%",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40))
def test_compiled_normalisation_is_the_python_one(compiled: None, tokens: list[str]) -> None:
    query = "".join(tokens)
    found = FP.COMPILED(query)
    if found is not None:
        assert found == normalize_query_python(query)


VALUES = ["'7'", "NULL", "'a,b'", "'x;'", "'-5'", "''", "'$2'", "'\xe9'"]


@settings(max_examples=2000, deadline=None)
@given(
    tokens=st.lists(
        st.sampled_from([*TOKENS, "$2", "$0", "$01", "$99", "$9999999999"]), max_size=30
    ),
    values=st.lists(st.sampled_from(VALUES), max_size=4),
    form=st.sampled_from(["named", "none", "bare", "newline"]),
)
def test_compiled_class_is_the_python_one(
    compiled: None, tokens: list[str], values: list[str], form: str
) -> None:
    statement = "".join(tokens)
    parameters = {
        "named": ", ".join(f"${i} = {v}" for i, v in enumerate(values, 1)),
        "none": None,
        "bare": ", ".join(values),
        "newline": "$1 = 'a\nb'",
    }[form]
    found = FP.COMPILED_CLASS(statement, parameters)
    if found is not False:
        with implementation("python"):
            assert found == FP.fingerprint_pg_latin1(statement, parameters)


def test_a_failing_helper_keeps_the_line_the_same_way(
    compiled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = postgresql.mask_secrets

    def mask(text: str) -> str:
        if "BOOM" in text:
            raise RuntimeError("mask failed")
        return real(text)

    monkeypatch.setattr(postgresql, "mask_secrets", mask)
    data = b"\n".join([ODD[0], ODD[1].replace(b"SELECT 2", b"SELECT BOOM"), ODD[2], ODD[3]]) + b"\n"
    _same(data)
    events = [json.loads(e) for e in _events(data, [], 1 << 20)]
    assert len(events) == 4  # the entry is kept, flagged, without its unmasked text
    assert events[1]["parse_error"] and "mask failed" in events[1]["error_reason"]
    assert "statement" not in events[1] and events[1]["pid"] == 1
    assert all(a["end_offset"] == b["offset"] for a, b in itertools.pairwise(events))
