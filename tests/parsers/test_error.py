"""MySQL error log: table-driven over the sample (every format the sample holds)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from tests.parsers.helpers import parse_all, sample

EXPECTED: list[tuple[str | None, dict[str, object]]] = [
    (None, {"message": "orphan line before any entry", "error_reason": "line outside any entry"}),
    (
        "2023-11-28T09:13:22.104678+00:00",
        {"level": "System", "thread_id": 0, "error_code": "MY-010116", "subsystem": "Server"},
    ),
    ("2023-11-28T09:13:22+00:00", {"level": None, "message": "server_audit: Audit STARTED."}),
    ("2023-11-28T09:13:23.000100+00:00", {"subsystem": "InnoDB", "thread_id": 1}),
    ("2023-11-28T09:13:24.500000+00:00", {"level": "Warning", "error_code": "MY-010055"}),
    ("2023-11-28T09:14:00.000001+00:00", {"level": "Note", "error_code": "MY-012468"}),
    ("2017-01-01T12:00:00.123456+00:00", {"level": "Note", "error_code": None, "subsystem": None}),
    ("2017-01-01T12:00:01+00:00", {"level": "Error", "thread_id": 47512412345}),
    ("2017-01-01T12:00:02+00:00", {"level": "Note", "thread_id": None}),
    ("2023-11-28T07:15:00+00:00", {"level": "Error", "thread_id": 5}),
]


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_error_log_entries(index: int) -> None:
    events = parse_all("error", sample("error"))
    assert len(events) == len(EXPECTED)
    when, fields = EXPECTED[index]
    event = events[index]
    assert (event.event_time.isoformat() if event.event_time else None) == when
    for key, value in fields.items():
        assert event.fields[key] == value, key
    assert event.parse_error is (index == 0)


def test_innodb_dump_is_one_entry_with_its_lines_joined() -> None:
    dump = parse_all("error", sample("error"))[5]
    lines = dump.fields["message"].split("\n")
    assert lines[0].startswith("Transactions deadlock detected")
    assert lines[1:] == [
        "*** (1) TRANSACTION:",
        "TRANSACTION 2607, ACTIVE 10 sec starting index read",
        "mysql tables in use 1, locked 1",
        "UPDATE t SET a=1 WHERE id=2",
    ]


def test_ranges_tile_the_file() -> None:
    data = sample("error")
    events = parse_all("error", data)
    assert events[0].start == 0
    assert all(a.end == b.start for a, b in itertools.pairwise(events))
    assert events[-1].end == len(data)
    # The dump's range covers its blank trailing line too: nothing falls between entries.
    assert data[events[5].start : events[5].end].endswith(b"id=2\n\n")


def test_password_in_message_is_masked() -> None:
    last = parse_all("error", sample("error"))[-1]
    assert "hunter2" not in last.fields["message"]
    assert "IDENTIFIED BY '***'" in last.fields["message"]


def test_event_time_is_utc_aware() -> None:
    for event in parse_all("error", sample("error"))[1:]:
        assert event.event_time is not None
        assert event.event_time.tzinfo is UTC
    assert parse_all("error", sample("error"))[-1].event_time == datetime(
        2023, 11, 28, 7, 15, tzinfo=UTC
    )
