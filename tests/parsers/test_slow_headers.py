"""Slow-log header variants that real servers write (issue 10, item 6), one minimal log each."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from tests.parsers.helpers import parse_all

ATTRS = b"# Query_time: 1.500000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 2\n"
ENTRY = b"# Time: 2024-01-03T07:15:38.000000Z\n# User@Host: app[app] @  [10.0.0.1]  Id: 7\n"

# (name, log, expected per event: field -> value; `event_time` and `parse_error` are the event's,
# a value of MISSING means the field is absent)
MISSING = object()
CASES: list[tuple[str, bytes, list[dict[str, object]]]] = [
    (
        "time-and-user-on-one-line",
        b"# Time: 071218 11:48:27 # User@Host: [SQL_SLAVE] @  []\n" + ATTRS + b"SELECT 1;\n",
        [
            {
                "event_time": datetime(2007, 12, 18, 11, 48, 27, tzinfo=UTC),
                "user": "SQL_SLAVE",
                "host": None,
                "statement": "SELECT 1",
                "query_time": 1.5,
                "parse_error": False,
            }
        ],
    ),
    (
        "time-and-named-user-on-one-line",
        b"# Time: 071218 11:48:27 # User@Host: root[root] @ localhost []  Id: 5\n"
        + ATTRS
        + b"SELECT 1;\n",
        [
            {
                "event_time": datetime(2007, 12, 18, 11, 48, 27, tzinfo=UTC),
                "user": "root",
                "host": "localhost",
                "thread_id": 5,
                "parse_error": False,
            }
        ],
    ),
    (
        "iso-time-with-nanoseconds",
        b"# Time: 2024-01-03T07:15:38.660108123Z\n" + ATTRS + b"SELECT 1;\n",
        [{"event_time": datetime(2024, 1, 3, 7, 15, 38, 660108, tzinfo=UTC), "parse_error": False}],
    ),
    (
        "mysql56-time-with-a-long-fraction",
        b"# Time: 240103  7:15:38.1234567\n" + ATTRS + b"SELECT 1;\n",
        [{"event_time": datetime(2024, 1, 3, 7, 15, 38, 123456, tzinfo=UTC), "parse_error": False}],
    ),
    (
        "mysql56-time-with-a-short-fraction",
        b"# Time: 240103  7:15:38.5\n" + ATTRS + b"SELECT 1;\n",
        [{"event_time": datetime(2024, 1, 3, 7, 15, 38, 500000, tzinfo=UTC), "parse_error": False}],
    ),
    (
        "unreadable-time-is-flagged-not-dropped",
        b"# Time: 240103  7:15:38.x1\n" + ATTRS + b"SET timestamp=1704266136;\nSELECT 1;\n",
        [
            {
                # the SET timestamp still gives a time; the bad text is kept and flagged
                "event_time": datetime(2024, 1, 3, 7, 15, 36, tzinfo=UTC),
                "time_raw": "240103  7:15:38.x1",
                "error_reason": "invalid time",
                "statement": "SELECT 1",
                "parse_error": True,
            }
        ],
    ),
    (
        "trailing-lone-time-line",
        ENTRY + ATTRS + b"SELECT 1;\n# Time: 2024-01-03T07:15:40.000000Z\n",
        [
            {"statement": "SELECT 1", "parse_error": False},
            {
                "message": "# Time: 2024-01-03T07:15:40.000000Z",
                "error_reason": "a # Time: line alone",
                "statement": MISSING,
                "query_time": MISSING,
                "parse_error": True,
            },
        ],
    ),
    (
        "trailing-lone-time-line-without-newline",
        ENTRY + ATTRS + b"SELECT 1;\n# Time: 2024-01-03T07:15:40.000000Z",
        [
            {"statement": "SELECT 1"},
            {"message": "# Time: 2024-01-03T07:15:40.000000Z", "parse_error": True},
        ],
    ),
    (
        "lone-time-line-followed-by-an-entry",
        b"# Time: 2024-01-03T07:15:37.000000Z\n" + ENTRY + ATTRS + b"SELECT 1;\n",
        [
            {"message": "# Time: 2024-01-03T07:15:37.000000Z", "parse_error": True},
            {"statement": "SELECT 1", "parse_error": False},
        ],
    ),
    (
        "garbage-query-time",
        ENTRY
        + b"# Query_time: 1.2.3  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 2\n"
        + b"SELECT 1;\n",
        [
            {
                "query_time": MISSING,
                "query_time_raw": "1.2.3",
                "lock_time": 0.0001,
                "rows_sent": 1,
                "error_reason": "invalid query_time",
                "statement": "SELECT 1",
                "fingerprint": "select ?",
                "parse_error": True,
            }
        ],
    ),
    (
        "garbage-integer-attribute-on-an-extra-line",
        ENTRY + ATTRS + b"# Rows_affected: many  Bytes_sent: 52\nSELECT 1;\n",
        [
            {
                "query_time": 1.5,
                "rows_affected": MISSING,
                "rows_affected_raw": "many",
                "bytes_sent": 52,
                "error_reason": "invalid rows_affected",
                "parse_error": True,
            }
        ],
    ),
    (
        "empty-query-time-at-the-end-of-the-line",
        ENTRY + b"# Lock_time: 0.1 Query_time: \nSELECT 1;\n",
        [{"query_time_raw": "", "lock_time": 0.1, "parse_error": True}],
    ),
]


@pytest.mark.parametrize(("name", "log", "expected"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("chunk", [0, 1])
def test_header_variant(
    name: str, log: bytes, expected: list[dict[str, object]], chunk: int
) -> None:
    events = parse_all("slowquery", log, chunk=chunk)
    assert len(events) == len(expected)
    for event, want in zip(events, expected, strict=True):
        record = {**event.fields, "event_time": event.event_time, "parse_error": event.parse_error}
        for key, value in want.items():
            if value is MISSING:
                assert key not in record, key
            else:
                assert record.get(key, MISSING) == value, key
    # nothing lost: every byte is in an event
    assert events[0].start == 0
    assert events[-1].end == len(log)
    assert all(a.end == b.start for a, b in itertools.pairwise(events))


def test_known_attributes_keep_their_type_whatever_the_value() -> None:
    odd = [b"abc", b"1.2.3", b"0x10", b"-", b"1e", b"1,5", b"nan", b"inf", b"-Infinity", b"1_000"]
    log = b"".join(
        ENTRY + b"# Query_time: " + v + b"  Lock_time: 0.1 Rows_sent: " + v + b"\nSELECT 1;\n"
        for v in odd
    )
    events = parse_all("slowquery", log)
    assert len(events) == len(odd)
    for event, value in zip(events, odd, strict=True):
        assert event.parse_error
        assert event.fields["query_time_raw"] == value.decode()
        assert event.fields["rows_sent_raw"] == value.decode()
        assert type(event.fields.get("query_time", 0.0)) is float
        assert type(event.fields.get("rows_sent", 0)) is int
        assert type(event.fields["lock_time"]) is float
