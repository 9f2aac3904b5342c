"""MySQL slow query log: table-driven over the sample."""

from __future__ import annotations

import pytest

from tests.parsers.helpers import parse_all, sample

EXPECTED: list[dict[str, object]] = [
    {
        "user": "admin",
        "ip": "127.0.0.2",
        "thread_id": 262030,
        "query_time": 2.000231,
        "rows_examined": 1,
        "db": "audit",
        "timestamp": 1704266136,
        "statement": "select sleep(2)",
        "fingerprint": "select sleep(?)",
        "query_id": "59A74D08D407B5EDF9A57DD5A41825CA",
    },
    {
        "host": "ip-10-0-0-5.ec2.internal",
        "bytes_sent": 56,
        "read_key": 1,
        "start": "2024-01-03T07:15:39.099795Z",
        "fingerprint": "select o.id, c.name from orders o join customers c on c.id = o.customer_id "
        "where o.status in(?+) and o.total > ? order by o.id limit ?",
    },
    {
        "cmd": "Admin",
        "statement": "administrator command: Quit",
        "fingerprint": "administrator command: Quit",
    },
    {
        "user": "root",
        "host": "localhost",
        "ip": None,
        "schema": "shop",
        "db": "shop",
        "qc_hit": "No",
        "rows_affected": 3,
        "innodb_trx_id": "1A2B3C",
        "full_scan": "Yes",
        "innodb_io_r_wait": 0.0,
        "innodb_pages_distinct": 4,
        "insert_id": 42,
        "fingerprint": "insert into orders (id, status) values(?+)",
        "comment": "# No InnoDB statistics available for this query",
    },
    {"statement": None, "query_time": 0.01},
    {
        "last_errno": 0,
        "statement": "CREATE USER 'app2'@'%' IDENTIFIED BY '***'",
        "fingerprint": "create user ?@? identified by ?",
    },
    {
        "statement": "SELECT 'naïve café' AS label, `名前` FROM t1 -- trailing comment\nWHERE id = 7",
        "fingerprint": "select ? as label, `名前` from t? where id = ?",
    },
]


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_slow_log_entries(index: int) -> None:
    events = parse_all("slowquery", sample("slowquery"))
    assert len(events) == len(EXPECTED)
    event = events[index]
    assert not event.parse_error
    for key, value in EXPECTED[index].items():
        assert event.fields.get(key) == value, key


def test_server_header_blocks_are_skipped_and_counted() -> None:
    from processor.parsers import parser_for

    parser = parser_for("slowquery")
    data = sample("slowquery")
    events = parser.feed(data) + parser.flush()
    assert parser.stats.skipped_header_lines == 6
    header = data.index(b"# Time: 2024-01-03T07:15:38")
    assert events[0].start == header
    covered = sum(e.end - e.start for e in events) + parser.stats.skipped_header_bytes
    assert covered == len(data)


def test_time_is_from_the_time_line_else_from_set_timestamp() -> None:
    events = parse_all("slowquery", sample("slowquery"))
    assert events[0].event_time is not None
    assert events[0].event_time.isoformat() == "2024-01-03T07:15:38.660108+00:00"
    # The third entry has no `# Time:` line (servers write it at most once a second).
    assert events[2].event_time is not None
    assert events[2].event_time.isoformat() == "2024-01-03T07:15:39+00:00"
    # MySQL 5.6 `# Time: YYMMDD H:MM:SS`.
    assert events[3].event_time is not None
    assert events[3].event_time.isoformat() == "2024-01-03T07:16:00+00:00"


def test_entry_without_time_line_starts_after_a_statement() -> None:
    data = (
        b"# User@Host: a[a] @  [1.1.1.1]  Id: 1\n# Query_time: 1.0  Lock_time: 0.0"
        b" Rows_sent: 0  Rows_examined: 0\nSET timestamp=1;\nSELECT 1;\n"
        b"# User@Host: b[b] @  [1.1.1.2]  Id: 2\n# Query_time: 2.0  Lock_time: 0.0"
        b" Rows_sent: 0  Rows_examined: 0\nSET timestamp=2;\nSELECT 2;\n"
    )
    events = parse_all("slowquery", data)
    assert [e.fields["user"] for e in events] == ["a", "b"]
    assert [e.fields["statement"] for e in events] == ["SELECT 1", "SELECT 2"]


def test_hash_comment_inside_a_statement_does_not_split_it() -> None:
    data = (
        b"# Time: 2024-01-03T07:15:38.660108Z\n# Query_time: 1.0  Lock_time: 0.0"
        b" Rows_sent: 0  Rows_examined: 0\nSELECT a,\n# not a header\n b FROM t;\n"
    )
    [event] = parse_all("slowquery", data)
    assert event.fields["statement"] == "SELECT a,\n# not a header\n b FROM t"


def test_statement_without_header_is_kept_and_flagged() -> None:
    [event] = parse_all("slowquery", b"SELECT 1;\n")
    assert event.parse_error
    assert event.fields["statement"] == "SELECT 1"
    assert event.fields["fingerprint"] == "select ?"
