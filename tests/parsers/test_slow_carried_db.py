"""The slow log's database carried from entry to entry (issue 10, item 1), and the resumable
parser state that keeps it across chunk cuts and a restart between ranges."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.parsers import LOG_TYPES, parser_for
from processor.parsers.base import InvalidResumeState
from tests.parsers.generate import write_slowlog
from tests.parsers.helpers import as_records, parse_all, sample

HEAD = b"# Time: 2024-01-03T07:15:38.000000Z\n# User@Host: app[app] @  [10.0.0.1]  Id: 7\n"
ATTRS = b"# Query_time: 1.5  Lock_time: 0.0 Rows_sent: 1  Rows_examined: 2\n"


def _entry(statement: bytes, use: bytes = b"", extra: bytes = b"") -> bytes:
    return HEAD + ATTRS + extra + (b"use " + use + b";\n" if use else b"") + statement + b";\n"


def test_use_is_carried_to_the_entries_that_lack_it() -> None:
    log = (
        _entry(b"SELECT 0")
        + _entry(b"SELECT 1", use=b"shop")
        + _entry(b"SELECT 2")
        + b"# administrator command: Ping;\n"
        + _entry(b"SELECT 3", use=b"`audit`")
        + _entry(b"SELECT 4")
        + _entry(b"SELECT 5", extra=b"# Thread_id: 8  Schema: crm  QC_hit: No\n")
        + _entry(b"SELECT 6")
    )
    events = parse_all("slowquery", log)
    dbs = [(e.fields["statement"], e.fields.get("db")) for e in events]
    assert dbs == [
        ("SELECT 0", None),
        ("SELECT 1", "shop"),
        ("SELECT 2", "shop"),
        ("administrator command: Ping", "shop"),
        ("SELECT 3", "audit"),
        ("SELECT 4", "audit"),
        ("SELECT 5", "crm"),  # a Percona/MariaDB `Schema:` sets it too, as in pt-query-digest
        ("SELECT 6", "crm"),
    ]


def test_server_header_block_does_not_forget_the_database() -> None:
    # pt-query-digest carries it over the header a server writes when it reopens the log.
    header = b"/rdsdbbin/mysql/bin/mysqld, Version: 8.0.28. started with:\nTcp port: 3306\n"
    events = parse_all("slowquery", _entry(b"SELECT 1", use=b"shop") + header + _entry(b"SELECT 2"))
    assert [e.fields.get("db") for e in events] == ["shop", "shop"]


def test_resume_state_is_the_state_at_the_committed_offset() -> None:
    parser = parser_for("slowquery")
    first = _entry(b"SELECT 1", use=b"shop")
    # The second entry (with `use audit`) is still pending: the state must not include it.
    parser.feed(first + _entry(b"SELECT 2", use=b"audit"))
    assert parser.committed_offset == len(first)
    assert parser.resume_state() == {"db": "shop"}
    parser.flush()
    assert parser.resume_state() == {"db": "audit"}


def test_resumed_parser_carries_the_checkpointed_database() -> None:
    state = json.loads(json.dumps({"db": "shop"}))  # as stored in and read from DynamoDB
    [event] = parse_all("slowquery", _entry(b"SELECT 2"), base_offset=500, state=state)
    assert event.fields["db"] == "shop"
    assert event.start == 500


@pytest.mark.parametrize(
    ("log_type", "state"),
    [
        ("slowquery", {"db": 5}),
        ("slowquery", {"database": "x"}),
        ("error", {"db": "x"}),
    ],
)
def test_a_foreign_resume_state_is_refused(log_type: str, state: dict[str, object]) -> None:
    with pytest.raises(InvalidResumeState):
        parser_for(log_type, state=state)  # type: ignore[arg-type]


def test_restoring_after_feeding_is_refused() -> None:
    parser = parser_for("slowquery")
    parser.feed(b"# Time: 2024")
    with pytest.raises(InvalidResumeState):
        parser.restore_state({"db": "x"})


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_every_parser_state_is_small_and_json(log_type: str) -> None:
    parser = parser_for(log_type)
    parser.feed(sample(log_type))
    state = parser.resume_state()
    assert json.loads(json.dumps(state)) == state
    assert len(json.dumps(state)) < 4096


def _rare_use_log() -> bytes:
    # Most entries lack `use`, as on a single-schema server; a few switch the database.
    buf = io.BytesIO()
    write_slowlog(buf, 12_000, seed=7, extra=False)
    return sample("slowquery") + buf.getvalue() + _entry(b"SELECT 9") + _entry(b"SELECT 10")


RARE_USE = _rare_use_log()
WHOLE = as_records(parse_all("slowquery", RARE_USE))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(0, len(RARE_USE)),
    chunks=st.lists(st.integers(1, len(RARE_USE)), max_size=6),
)
def test_two_ranges_with_the_checkpointed_state_equal_one_pass(cut: int, chunks: list[int]) -> None:
    first = parser_for("slowquery")
    events = []
    prev = 0
    for at in [*sorted(c for c in set(chunks) if c < cut), cut]:
        events += first.feed(RARE_USE[prev:at])
        prev = at
    # A restart: only the committed offset and the state survive (through JSON, like DynamoDB).
    offset = first.committed_offset
    state = json.loads(json.dumps(first.resume_state()))
    assert offset <= cut
    second = parser_for("slowquery", offset, state=state)
    events += second.feed(RARE_USE[offset:]) + second.flush()
    assert as_records(events) == WHOLE
