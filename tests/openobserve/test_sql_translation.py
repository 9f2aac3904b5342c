"""The SQL bridge, pure functions: how OpenObserve's SQL is rewritten for SQLite."""

from __future__ import annotations

import sqlite3

import pytest

from devstack.openobserve import sql as o2sql

TABLES = {"logs": "t_logs", "other": "t_other"}
COLUMNS = {"logs": ["_timestamp", "message", "level", "log"], "other": ["_timestamp", "x"]}


def plan(query: str) -> str:
    return o2sql.plan(query, TABLES, COLUMNS, 10, 20, o2sql.DEFAULT_FULLTEXT_FIELDS).sql


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            'SELECT * FROM "logs"',
            'WITH "logs" AS (SELECT * FROM "t_logs" WHERE _timestamp >= 10 AND _timestamp < 20) '
            'SELECT * FROM "logs" ORDER BY _timestamp DESC',
        ),
        (
            "SELECT level FROM logs LIMIT 5",
            'WITH "logs" AS (SELECT * FROM "t_logs" WHERE _timestamp >= 10 AND _timestamp < 20) '
            "SELECT _timestamp, level FROM logs ORDER BY _timestamp DESC LIMIT 5",
        ),
        (
            "SELECT count(*) FROM logs;",
            'WITH "logs" AS (SELECT * FROM "t_logs" WHERE _timestamp >= 10 AND _timestamp < 20) '
            "SELECT count(*) FROM logs",
        ),
        (
            "WITH x AS (SELECT level FROM logs) SELECT level FROM x GROUP BY level",
            'WITH "logs" AS (SELECT * FROM "t_logs" WHERE _timestamp >= 10 AND _timestamp < 20), '
            "x AS (SELECT level FROM logs) SELECT level FROM x GROUP BY level",
        ),
    ],
)
def test_plan(query: str, expected: str) -> None:
    assert plan(query) == expected


def test_match_all_searches_the_streams_full_text_fields() -> None:
    assert 'o2_match_all(\'disk full\', "log", "message")' in plan(
        "SELECT * FROM logs WHERE match_all('disk full')"
    )
    assert "WHERE 0" in plan("SELECT * FROM other WHERE match_all('x')")


def test_ilike_becomes_regexp_and_literals_do_not_disable_default_order() -> None:
    out = plan("SELECT * FROM logs WHERE message ILIKE '%count(%' AND level = 'group by'")
    assert "REGEXP '%count(%'" in out
    assert out.endswith("ORDER BY _timestamp DESC")


def test_unknown_stream_and_empty_query() -> None:
    with pytest.raises(o2sql.SqlError) as missing:
        plan('SELECT * FROM "nope"')
    assert (missing.value.code, missing.value.detail) == (20002, "nope")
    with pytest.raises(o2sql.SqlError) as empty:
        plan("  ;")
    assert empty.value.code == 20001


@pytest.mark.parametrize(
    ("fn", "args", "expected"),
    [
        (o2sql.str_match, ("Disk Full", "Full"), 1),
        (o2sql.str_match, ("Disk Full", "full"), 0),
        (o2sql.str_match, (None, "x"), None),
        (o2sql.str_match_ignore_case, ("Disk Full", "FULL"), 1),
        (o2sql.re_match, ("error 1062", r"\d{4}$"), 1),
        (o2sql.re_not_match, ("error 1062", r"^warn"), 1),
        (o2sql.match_all, ("FULL", "disk full", None), 1),
        (o2sql.match_all, ("dis*ull", "x", "Disk Full"), 1),
        (o2sql.match_all, ("absent", "disk full"), 0),
        (o2sql.histogram, (1_700_000_123_000_000, "5 minutes"), "2023-11-14T22:15:00"),
        (o2sql.histogram, (1_700_000_123_000_000, "1 hour"), "2023-11-14T22:00:00"),
    ],
)
def test_functions(fn: object, args: tuple[object, ...], expected: object) -> None:
    assert fn(*args) == expected  # type: ignore[operator]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELEC 1", 20001),
        ("SELECT nope FROM t", 20004),
        ("SELECT nofn(1)", 20005),
        ("SELECT * FROM missing_table", 20002),
        ("SELECT 1; SELECT 2", 20001),
    ],
)
def test_sqlite_errors_become_openobserve_codes(query: str, code: int) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a)")
    with pytest.raises(sqlite3.Error) as info:
        conn.execute(query)
    assert o2sql.classify(info.value).code == code


@pytest.mark.parametrize(
    ("query", "added"),
    [
        ("SELECT level FROM logs", True),
        ("SELECT level, message AS m FROM logs WHERE level = 'x'", True),
        ("SELECT * FROM logs", False),
        ("SELECT level AS selected FROM logs WHERE message = 'select'", True),
        ("SELECT _timestamp AS ts, level FROM logs", False),
        ("SELECT DISTINCT level FROM logs", False),
        ("SELECT level, count(*) FROM logs GROUP BY level", False),
        ("SELECT level FROM logs WHERE level IN (SELECT level FROM other)", False),
        ("SELECT level FROM logs UNION SELECT x FROM other", False),
    ],
)
def test_simple_selects_get_timestamp_first(query: str, added: bool) -> None:
    assert ("SELECT _timestamp, " in plan(query)) is added


@pytest.mark.parametrize(
    ("pattern", "value", "like", "ilike"),
    [
        ("Disk%", "Disk full", 1, 1),
        ("disk%", "Disk full", 0, 1),  # LIKE is case-sensitive, as DataFusion's
        ("D_SK FULL", "Disk full", 0, 1),
        ("%.%", "a.b", 1, 1),
        ("a.b", "axb", 0, 0),  # regex characters are literal
    ],
)
def test_like_is_case_sensitive_ilike_is_not(
    pattern: str, value: str, like: int, ilike: int
) -> None:
    assert (o2sql.like(pattern, value), o2sql.ilike(pattern, value)) == (like, ilike)
    assert o2sql.like("100!%", "100%", "!") == 1
    assert o2sql.like("100!%", "1000", "!") == 0


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('SELECT "Level" FROM logs', 20004),
        ('SELECT level FROM "LOGS"', 20002),
    ],
)
def test_quoted_names_are_exact(query: str, code: int) -> None:
    with pytest.raises(o2sql.SqlError) as info:
        plan(query)
    assert info.value.code == code
    assert plan('SELECT "level" AS "Level" FROM "logs" ORDER BY "Level"')  # aliases are exact
    assert plan("SELECT LEVEL FROM LOGS")  # unquoted names are folded to lower case
