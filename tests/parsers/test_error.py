"""MySQL error log: table-driven over the sample (every format the sample holds)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from tests.parsers.helpers import implementation, parse_all, sample

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


SEMAPHORE_DUMP = (
    b"091121 13:17:58InnoDB: Warning: a long semaphore wait:\n"
    b"--Thread 1174727008 has waited at btr/btr0cur.c line 443 for 241.00 seconds the semaphore:\n"
    b"S-lock on RW-latch at 0x2aaab30d8db8 created in file buf/buf0buf.c line 550\n"
    b"a writer (thread id 1174727008) has reserved it in mode  wait exclusive\n"
    b"number of readers 1, waiters flag 1\n"
    b"Last time read locked in file btr/btr0cur.c line 443\n"
    b"InnoDB: Warning: a long semaphore wait:\n"
    b"--Thread 1180924256 has waited at row/row0sel.c line 3326 for 241.00 seconds the semaphore:\n"
    b"InnoDB: ###### Starts InnoDB Monitor for 30 secs to print diagnostic info:\n"
    b"InnoDB: Pending preads 0, pwrites 0\n"
    b"091121 13:18:14 [Note] next entry\n"
)


@pytest.mark.parametrize("impl", ["compiled", "python"])
def test_old_innodb_line_without_a_space_after_the_time_keeps_its_dump_together(
    impl: str,
) -> None:
    with implementation(impl):
        dump, note = parse_all("error", SEMAPHORE_DUMP)
    assert not dump.parse_error and not note.parse_error
    assert dump.event_time == datetime(2009, 11, 21, 13, 17, 58, tzinfo=UTC)
    lines = dump.fields["message"].split("\n")
    assert lines[0] == "InnoDB: Warning: a long semaphore wait:"
    assert len(lines) == 10 and lines[-1] == "InnoDB: Pending preads 0, pwrites 0"
    assert (dump.start, dump.end) == (0, SEMAPHORE_DUMP.index(b"091121 13:18:14"))
    assert note.fields["level"] == "Note" and note.fields["message"] == "next entry"


def test_a_time_followed_by_more_digits_is_not_an_entry() -> None:
    first = SEMAPHORE_DUMP[: SEMAPHORE_DUMP.index(b"\n") + 1]
    (dump,) = parse_all("error", first + b"091121 13:17:581 not a time\n")
    assert dump.fields["message"].endswith("\n091121 13:17:581 not a time")


BARE_LINES = (
    b"2026-12-07T21:00:09.572059Z 4768472 rdsdbdata/log: flush of error log requested\n"
    b"2026-12-07T21:00:36.462233Z 4768429 [Note] [MY-010914] [Server] Aborted connection 5.\n"
    b"2026-12-07T21:00:37.000001Z 12 rdsdbdata/log: flush of error log requested\n"
    b"2015-05-12 10:01:02 47 [Note] InnoDB: status dump follows\n"
    b"=====================================\n"
    b"2015-05-12 10:01:02 7f2c5a7fe700 INNODB MONITOR OUTPUT\n"
    b"=====================================\n"
)


@pytest.mark.parametrize("impl", ["python", "compiled"])
def test_a_line_with_time_and_thread_but_no_level_is_an_entry_of_its_own(impl: str) -> None:
    """RDS writes `flush of error log requested` with a time and a thread id but no level. It
    was read as a continuation: glued to the entry before it, or, first in an hourly file, an
    event with no time — which verify then searched for in the wrong window and shipped a
    second time (tests/chaos, seed 280926263)."""
    with implementation(impl):
        events = parse_all("error", BARE_LINES)
    assert [e.event_time.isoformat() if e.event_time else None for e in events] == [
        "2026-12-07T21:00:09.572059+00:00",
        "2026-12-07T21:00:36.462233+00:00",
        "2026-12-07T21:00:37.000001+00:00",
        "2015-05-12T10:01:02+00:00",
    ]
    first, _, third, dump = events
    assert not first.parse_error and first.fields["level"] is None
    assert first.fields["thread_id"] == 4768472
    assert first.fields["message"] == "rdsdbdata/log: flush of error log requested"
    assert third.fields["thread_id"] == 12
    # A monitor line inside a dump has a hex thread handle: it stays in the dump.
    assert "INNODB MONITOR OUTPUT" in dump.fields["message"]
