"""PostgreSQL log with the RDS prefix: table-driven over the sample."""

from __future__ import annotations

import itertools

import pytest

from tests.parsers.helpers import parse_all, sample

EXPECTED: list[dict[str, object]] = [
    {"severity": "LOG", "user": None, "db": None, "client": None, "pid": 560},
    {
        "client": "10.0.2.55",
        "client_port": 57562,
        "duration_ms": 100.5,
        "statement_kind": "statement",
        "statement": "SELECT id,\n\t       name\n\t  FROM users\n\t WHERE id = 42",
        "fingerprint": "select id, name from users where id = ?;",
    },
    {
        "user": "app.user",
        "statement_kind": "execute",
        "prepared_name": "S_1",
        "detail": "parameters: $1 = '7'",
        "fingerprint": "select * from orders where id = ?;",
    },
    {
        "severity": "ERROR",
        "detail": "Key (id)=(1) already exists.",
        "statement": "INSERT INTO orders (id, note)\n\tVALUES (1, 'x')",
        "fingerprint": "insert into orders (id, note) values (?, ?);",
    },
    {"client": "[local]", "statement": "ALTER ROLE app WITH PASSWORD '***'"},
    {"sqlstate": "00000", "statement_kind": "bind", "prepared_name": "<unnamed>"},
    {"severity": "WARNING", "hint": "Use BEGIN first."},
    {"duration_ms": 1.0, "message": "duration: 1.000 ms"},
    {
        "severity": "FATAL",
        "detail": 'Connection matched pg_hba.conf line 13: "host all all 0.0.0.0/0 md5"',
    },
]


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_postgresql_entries(index: int) -> None:
    events = parse_all("postgresql", sample("postgresql"))
    assert len(events) == len(EXPECTED)
    event = events[index]
    assert not event.parse_error
    assert event.event_time is not None
    for key, value in EXPECTED[index].items():
        assert event.fields.get(key) == value, key


def test_attached_lines_extend_the_range() -> None:
    data = sample("postgresql")
    events = parse_all("postgresql", data)
    error = events[3]
    assert data[error.start : error.end].count(b"\n") == 4
    assert all(a.end == b.start for a, b in itertools.pairwise(events))


def test_detail_of_another_process_is_its_own_event() -> None:
    data = (
        b"2023-11-29 09:23:53 UTC:h(1):u@d:[1]:ERROR:  boom\n"
        b"2023-11-29 09:23:53 UTC:h(1):u@d:[2]:DETAIL:  not mine\n"
    )
    events = parse_all("postgresql", data)
    assert [e.fields["severity"] for e in events] == ["ERROR", "DETAIL"]
