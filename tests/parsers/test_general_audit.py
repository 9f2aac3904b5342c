"""MySQL general log and Aurora audit log: table-driven over the samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.parsers.general import MULTILINE_COMMANDS
from tests.parsers.helpers import implementation, parse_all, pt_query_digest_filter, sample

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


# ------------------------------------------------ MySQL 5.0 layout, and no line joined unmarked

OLD_LAYOUT = (
    b"061226 15:42:36\t     11 Connect     root@localhost on db\n"
    b"\t\t     11 Init DB     shop\n"
    b"\t\t     11 Query       SELECT *\n"
    b"FROM t\n"
    b"061226 15:42:37\t     11 Field List  orders \n"
    b"\t\t     12 Connect     bob@10.0.0.5 as  on shop\n"
    b"\t\t     13 Connect     eve@10.0.0.6 as app on \n"
    b"\t\t     11 Quit       \n"
)
OLD_EXPECTED: list[tuple[str, dict[str, object]]] = [
    (
        "2006-12-26T15:42:36+00:00",
        {
            "thread_id": 11,
            "command": "Connect",
            "argument": "root@localhost on db",
            "user": "root",
            "host": "localhost",
            "db": "db",
        },
    ),
    ("2006-12-26T15:42:36+00:00", {"command": "Init DB", "argument": "shop"}),
    ("2006-12-26T15:42:36+00:00", {"command": "Query", "argument": "SELECT *\nFROM t"}),
    ("2006-12-26T15:42:37+00:00", {"command": "Field List", "argument": "orders "}),
    (
        "2006-12-26T15:42:37+00:00",
        {"thread_id": 12, "user": "bob", "host": "10.0.0.5", "priv_user": None, "db": "shop"},
    ),
    ("2006-12-26T15:42:37+00:00", {"user": "eve", "priv_user": "app", "db": None}),
    ("2006-12-26T15:42:37+00:00", {"thread_id": 11, "command": "Quit", "argument": ""}),
]


@pytest.mark.parametrize("impl", ["compiled", "python"])
def test_mysql50_layout_with_the_command_padded_with_spaces(impl: str) -> None:
    with implementation(impl):
        events = parse_all("general", OLD_LAYOUT)
    assert [e.parse_error for e in events] == [False] * len(OLD_EXPECTED)
    for event, (when, fields) in zip(events, OLD_EXPECTED, strict=True):
        assert event.event_time is not None and event.event_time.isoformat() == when
        for key, value in fields.items():
            assert event.fields[key] == value, key


@pytest.mark.parametrize("impl", ["compiled", "python"])
def test_a_bare_quit_does_not_swallow_the_next_threads_connect(impl: str) -> None:
    raw = b"\t\t   42 Quit\n061226 15:42:36 11 Connect root@localhost on db\n"
    with implementation(impl):
        quit_, connect = parse_all("general", raw)
    assert (quit_.fields["thread_id"], quit_.fields["command"], quit_.fields["argument"]) == (
        42,
        "Quit",
        "",
    )
    assert not quit_.parse_error and not connect.parse_error
    assert connect.start == quit_.end == raw.index(b"\n") + 1
    assert connect.fields["thread_id"] == 11
    assert (connect.fields["user"], connect.fields["host"], connect.fields["db"]) == (
        "root",
        "localhost",
        "db",
    )


@pytest.mark.parametrize("impl", ["compiled", "python"])
def test_a_line_after_a_command_without_text_is_kept_marked(impl: str) -> None:
    raw = (
        b"2024-01-03T07:15:40.000000Z\t   12 Quit\t\n"
        b"some line no entry can hold\n"
        b"2024-01-03T07:15:41.000000Z\t   13 Query\tSELECT 1\n"
        b"FROM dual\n"
    )
    with implementation(impl):
        quit_, orphan, query = parse_all("general", raw)
    assert quit_.fields["argument"] == "" and not quit_.parse_error
    assert orphan.parse_error and orphan.fields["message"] == "some line no entry can hold"
    assert orphan.fields["error_reason"] == "line outside any entry"
    assert query.fields["argument"] == "SELECT 1\nFROM dual"  # a statement keeps its lines


GENERAL_LINES = [
    b"2024-01-03T07:15:38.660108Z\t   12 Query\tSELECT 1",
    b"2024-01-03T07:15:38.660108Z\t   12 Quit\t",
    b"2024-01-03T07:15:38.660108Z\t   12 Connect\tu@h on db using TCP/IP",
    b"2024-01-03T07:15:38.660108Z\t   12 Init DB\tshop",
    b"2024-01-03T07:15:38.660108Z\t   12 Prepare\tSELECT ?",
    b"061226 15:42:36 11 Connect root@localhost on db",
    b"061226 15:42:36\t     11 Query       SELECT 2",
    b"\t\t   42 Quit",
    b"\t\t     42 Quit       ",
    b"\t\t     42 Statistics ",
    b"FROM t",
    b"  WHERE a = 1",
    b"garbage",
    b"",
]


@pytest.mark.parametrize("impl", ["compiled", "python"])
@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.sampled_from(GENERAL_LINES), min_size=1, max_size=30))
def test_no_line_vanishes_into_an_entry_it_cannot_belong_to(impl: str, lines: list[bytes]) -> None:
    raw = b"\n".join(lines) + b"\n"
    with implementation(impl):
        events = parse_all("general", raw)
    for e in events:
        text = raw[e.start : e.end]
        if not e.parse_error and e.fields["command"] not in MULTILINE_COMMANDS:
            # One line (and the blank lines a statement ends with never follow these).
            assert text.count(b"\n") == 1, text
    # Every non-blank line starts an event or continues a statement.
    starts = {e.start for e in events}
    statement_bytes = {
        i
        for e in events
        if not e.parse_error and e.fields["command"] in MULTILINE_COMMANDS
        for i in range(e.start, e.end)
    }
    pos = 0
    for line in lines:
        if line:
            assert pos in starts or pos in statement_bytes, line
        pos += len(line) + 1


def test_old_layout_events_are_pt_query_digests(tmp_path: Path) -> None:
    raw = OLD_LAYOUT + b"\t\t   42 Quit\n061226 15:42:38 11 Connect root@localhost on db\n"
    log = tmp_path / "general.log"
    log.write_bytes(raw)
    # Per event: thread, then the statement for a Query, or the command for the others.
    perl = (
        'print(STDOUT join("\\t", $event->{Thread_id}, $event->{cmd},'
        ' unpack("H*", $event->{arg})) . "\\n")'
    )
    theirs = []
    for line in pt_query_digest_filter(log, perl, "--type", "genlog"):
        thread, cmd, arg = line.split("\t")
        text = bytes.fromhex(arg).decode()
        theirs.append((int(thread), text if cmd == "Query" else text.split(": ")[1]))
    ours = [
        (
            e.fields["thread_id"],
            e.fields["argument"] if e.fields["command"] == "Query" else e.fields["command"],
        )
        for e in parse_all("general", raw)
    ]
    # pt-query-digest names a command by its first word (`Init`, `Field`); we keep the name.
    assert [(t, c.split(" ")[0]) for t, c in ours] == [(t, c.split(" ")[0]) for t, c in theirs]
    assert len(ours) == 9
