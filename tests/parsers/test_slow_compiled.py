"""The slow log's compiled code (`_slowlog.pyx`) against its specification, the Python code: the
same fingerprints, query ids and events, over generated logs, odd lines and random token soup."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from processor.parsers import Event, fingerprint_mysql, parser_for, slow_compiled, slowquery
from processor.parsers.scanning import PURE_ENV
from tests.parsers.generate import statements, write_slowlog
from tests.parsers.helpers import as_records, sample
from tests.parsers.test_fingerprint_mysql import RULES, TRICKY

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def compiled() -> ModuleType:
    if slow_compiled.SLOWLOG is None:
        if os.environ.get(PURE_ENV, "") not in ("", "0"):
            pytest.skip(f"{PURE_ENV} is set: the compiled slow-log code is off")
        pytest.fail("processor.parsers._slowlog is not loaded (was the package built? make setup)")
    return slow_compiled.SLOWLOG


def _latin1(text: str) -> str:
    return text.encode().decode("latin-1")


# ------------------------------------------------------------------------------- fingerprint

TOKENS = [
    *("select", "SELECT", "from", "where", "in", "IN", "values", "VALUE", "value", "null"),
    *("NULL", "true", "False", "union", "UNION ALL", "limit", " limit ", "offset", "order by"),
    *("ORDER BY", "ASC", "asc", "call", "insert into", "replace", "use ", "é", "日", "a", "_"),
    *(" ", "  ", "\n", "\t", "\r", "\f", "\v", "'", '"', "\\", "/*", "*/", "/*!", "--", "#"),
    *("(", ")", ",", "?", "1", "-", "+", ".", "x", "b", "0x1f", "e", "10", "!", ";", "*", "/"),
]


@SETTINGS
@given(parts=st.lists(st.sampled_from(TOKENS), max_size=30))
def test_fingerprint_equals_the_specification_on_token_soup(
    compiled: ModuleType, parts: list[str]
) -> None:
    query = _latin1("".join(parts))
    assert compiled.fingerprint_latin1(query) == fingerprint_mysql.fingerprint_latin1(query)


@SETTINGS
@given(query=st.text(alphabet=st.characters(max_codepoint=255), max_size=80))
def test_fingerprint_equals_the_specification_on_any_latin1_text(
    compiled: ModuleType, query: str
) -> None:
    assert compiled.fingerprint_latin1(query) == fingerprint_mysql.fingerprint_latin1(query)


def test_fingerprint_pairs_equal_the_specification_on_generated_statements(
    compiled: ModuleType,
) -> None:
    queries = [*statements(21, 20_000), *TRICKY, *(r[1] for r in RULES), "", "x" * 3000]
    for query in map(_latin1, queries):
        expected = fingerprint_mysql._fingerprint_pair_python(query)
        assert compiled.fingerprint_pair(query) == expected, query
        assert compiled.fingerprint_pair(query) == expected, query  # from the cache


@SETTINGS
@given(data=st.binary(max_size=300))
def test_query_id_md5_equals_hashlib(compiled: ModuleType, data: bytes) -> None:
    text = data.decode("latin-1")
    assert compiled.md5_upper(text) == hashlib.md5(data).hexdigest().upper()


# ------------------------------------------------------------------------------- entries


@contextmanager
def _python_only() -> Iterator[None]:
    """Parsers created inside run the specification only (no scanner, Python fingerprint)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(slow_compiled, "SLOWLOG", None)
        patch.setattr(
            slowquery, "fingerprint_latin1_pair", fingerprint_mysql._fingerprint_latin1_pair_python
        )
        yield


def _parse(data: bytes, cuts: list[int] | None = None, limit: int = 1 << 20) -> list[Event]:
    parser = parser_for("slowquery", 0, limit)
    events: list[Event] = []
    prev = 0
    for cut in [*sorted({c for c in cuts or [] if c <= len(data)}), len(data)]:
        events += parser.feed(data[prev:cut])
        prev = cut
    events += parser.flush()
    assert parser.stats.internal_errors == 0
    return events


def _both(
    data: bytes, cuts: list[int] | None = None, limit: int = 1 << 20
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    compiled_events = as_records(_parse(data, cuts, limit))
    with _python_only():
        python_events = as_records(_parse(data, cuts, limit))
    return compiled_events, python_events


@pytest.mark.parametrize("extra", [False, True])
def test_scanner_events_equal_the_specification_on_a_generated_log(
    compiled: ModuleType, extra: bool
) -> None:
    buf = io.BytesIO()
    write_slowlog(buf, 400_000, seed=13, extra=extra)
    data = sample("slowquery") + buf.getvalue()
    ours, spec = _both(data, cuts=list(range(0, len(data), 65_537)))
    assert len(ours) > 500
    assert ours == spec


HEAD = "# Time: 2024-01-03T07:15:38.660108Z"
USER = "# User@Host: app[app] @  [10.0.0.1]  Id: 17"
ATTRS = "# Query_time: 0.000205  Lock_time: 0.000002 Rows_sent: 1  Rows_examined: 1"
# Lines the scanner takes, and near misses it must leave to `_line` (or take identically).
LINES = [
    HEAD,
    HEAD,
    USER,
    USER,
    ATTRS,
    ATTRS,
    "use shop;",
    "use `odd db`;",
    "SET timestamp=1704266139;",
    "SET timestamp=1704266139,insert_id=5;",
    "SELECT 1;",
    "SELECT a,",
    "  b FROM t WHERE x = 'O''Brien' AND y IN (1, 2);",
    "UPDATE t SET p = PASSWORD('secret') WHERE id = 1;",
    "SET NAMES utf8;",
    "",
    "   ",
    "# administrator command: Quit;",
    "# Time: 071218 11:48:27 # User@Host: [SQL_SLAVE] @  []",
    "# Time: 2024-13-03T07:15:38.660108Z",
    "# Time: 2024-01-03T07:15:38.660108123Z",
    "# User@Host: root[root] @ localhost []",
    "# User@Host: a b[c] @ h  [1.2.3.4]",
    "# User@Host: app[app] @\t[10.0.0.1]",
    "# User@Host: app[app] @ [10.0.0.1] junk",
    "# Query_time: abc  Lock_time: 0.0",
    "# Query_time: 1.  Lock_time: -0 Rows_sent: -1",
    "# Query_time: 1.5 Lock_time: 0.1 New_attr: 7",
    "# Query_time: 1.5 Schema: shop",
    "# Query_time: 1.5 Db: x Cmd: y Statement: z",
    "# Thread_id: 8  Schema: crm  QC_hit: No",
    "# not a header",
    "/rdsdbbin/oscar/bin/mysqld, Version: 8.0.28 (Source distribution). started with:",
    "Tcp port: 3306  Unix socket: /tmp/mysql.sock",
    "Time                 Id Command    Argument",
    "SELECT 'naïve' FROM t;",
    "SELECT '\x1c' FROM t;",
    "SELECT 1;\r",
    "WHERE x = 1 # trailing;",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.sampled_from(LINES), max_size=40),
    cuts=st.lists(st.integers(0, 3000), max_size=6),
    limit=st.sampled_from([60, 1 << 20]),
)
def test_scanner_events_equal_the_specification_on_line_soup(
    compiled: ModuleType,
    lines: list[str],
    cuts: list[int],
    limit: int,
) -> None:
    data = "\n".join(lines).encode() + b"\n"
    ours, spec = _both(data, cuts, limit)
    assert ours == spec


def test_scanner_keeps_the_carried_database_of_a_python_entry(
    compiled: ModuleType,
) -> None:
    entry = f"{HEAD}\n{USER}\n{ATTRS}\n".encode()
    data = (
        entry
        + b"use `quoted`;\nSELECT 1;\n"  # not the scanner's shape: `_line` reads it
        + entry
        + b"SELECT 2;\n"  # the scanner's, carrying the database `_line` saw
        + entry
        + b"use shop;\nSELECT 3;\n"
        + entry
        + b"SELECT 'caf\xc3\xa9';\n"  # `_line` again
        + entry
    )
    ours, spec = _both(data)
    assert [e.get("db") for e in ours] == ["quoted", "quoted", "shop", "shop", "shop"]
    assert ours == spec


def _slot(canonical: str) -> st.SearchStrategy[str]:
    """Mostly the canonical line; now and then any odd line instead, or none."""
    return st.one_of(st.just(canonical), st.just(canonical), st.sampled_from(LINES), st.just(""))


ENTRY = st.tuples(
    _slot(HEAD),
    _slot(USER),
    _slot(ATTRS),
    st.sampled_from(["", "use shop;", "use crm;"]),
    _slot("SET timestamp=1704266139;"),
    st.lists(st.sampled_from([*LINES[10:14], "  FROM t", "WHERE 1;"]), min_size=1, max_size=3),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(ENTRY, max_size=12),
    cuts=st.lists(st.integers(0, 3000), max_size=6),
)
def test_scanner_events_equal_the_specification_on_mostly_plain_entries(
    compiled: ModuleType,
    entries: list[tuple[str, str, str, str, str, list[str]]],
    cuts: list[int],
) -> None:
    lines = [line for *head, body in entries for line in [*head, *body] if line]
    data = "\n".join(lines).encode() + b"\n"
    ours, spec = _both(data, cuts)
    assert ours == spec


def test_compiled_code_is_reported_in_a_gauge(compiled: ModuleType) -> None:
    assert REGISTRY.get_sample_value("aurora_parser_compiled_slowlog") == 1


def test_a_failing_scanner_loses_nothing(
    compiled: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(text: str) -> str:
        raise RuntimeError("scanner bug")

    def scan_slow(*args: Any, **kwargs: Any) -> int:
        kwargs["mask"] = boom  # the mask the scanner is given, not the one `_line` uses
        return int(compiled.scan_slow(*args, **kwargs))

    buf = io.BytesIO()
    write_slowlog(buf, 20_000, seed=3, extra=False)
    data = buf.getvalue()
    before = REGISTRY.get_sample_value(
        "aurora_parser_scanner_errors_total", {"log_type": "slowquery"}
    )
    monkeypatch.setattr(slow_compiled, "SLOWLOG", SimpleNamespace(scan_slow=scan_slow))
    parser = parser_for("slowquery")
    events = parser.feed(data) + parser.flush()
    after = REGISTRY.get_sample_value(
        "aurora_parser_scanner_errors_total", {"log_type": "slowquery"}
    )
    assert (after or 0) > (before or 0)
    with _python_only():
        assert as_records(events) == as_records(_parse(data))
