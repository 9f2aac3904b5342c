"""MySQL general log and Aurora audit log: table-driven over the samples."""

from __future__ import annotations

import pytest

from tests.parsers.helpers import parse_all, sample

GENERAL: list[tuple[str, dict[str, object]]] = [
    ("2024-01-03T07:15:38.660108+00:00", {"command": "Connect", "user": "admin", "db": "mydb"}),
    ("2024-01-03T07:15:38.660500+00:00", {"command": "Query", "argument": "SELECT 1"}),
    ("2024-01-03T07:15:38.661000+00:00", {"argument": "SELECT *\nFROM orders\nWHERE id = 5"}),
    ("2024-01-03T07:15:38.662000+00:00", {"command": "Init DB", "argument": "shop"}),
    (
        "2024-01-03T07:15:38.663000+00:00",
        {"argument": "ALTER USER 'admin'@'%' IDENTIFIED BY '***'"},
    ),
    ("2024-01-03T07:15:40+00:00", {"command": "Quit", "argument": "", "thread_id": 12}),
    ("2024-01-03T07:15:41+00:00", {"command": "Connect", "user": "root", "db": None}),
    # 5.6 format: no time on the line, it is the previous line's.
    (
        "2024-01-03T07:15:41+00:00",
        {"thread_id": 13, "argument": "select @@version_comment limit 1"},
    ),
]


@pytest.mark.parametrize("index", range(len(GENERAL)))
def test_general_log_entries(index: int) -> None:
    events = parse_all("general", sample("general"))
    assert len(events) == len(GENERAL)
    when, fields = GENERAL[index]
    event = events[index]
    assert event.event_time is not None
    assert event.event_time.isoformat() == when
    for key, value in fields.items():
        assert event.fields[key] == value, key


AUDIT: list[dict[str, object]] = [
    {
        "username": "rdsadmin",
        "queryid": 20070830,
        "object": "SELECT @@aurora_version",
        "retcode": 0,
    },
    {"operation": "CONNECT", "database": "shop", "object": "", "retcode": 0},
    {"object": "INSERT INTO t VALUES ('a,b',1), ('c',2)", "retcode": 0},
    {"operation": "CREATE", "database": "world", "object": "customers", "retcode": None},
    {"object": "SELECT *   FROM orders  WHERE  id = 1", "retcode": 1064},
    {"object": "CREATE USER 'bob'@'%' IDENTIFIED BY '***'"},
    {"serverhost": "ip-172-17-4-137", "object": "SELECT 1", "retcode": 0, "extra": ","},
    {"message": "garbage that is not a record", "error_reason": "not an audit record"},
]


@pytest.mark.parametrize("index", range(len(AUDIT)))
def test_audit_log_entries(index: int) -> None:
    events = parse_all("audit", sample("audit"))
    assert len(events) == len(AUDIT)
    event = events[index]
    assert event.parse_error is (index == len(AUDIT) - 1)
    for key, value in AUDIT[index].items():
        assert event.fields[key] == value, key


def test_audit_time_is_microseconds_since_epoch() -> None:
    first = parse_all("audit", sample("audit"))[0]
    assert first.event_time is not None
    assert first.event_time.isoformat() == "2023-12-29T02:43:30.074458+00:00"
