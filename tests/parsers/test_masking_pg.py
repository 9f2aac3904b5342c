"""Password masking, and the pgbadger-style PostgreSQL normalisation."""

from __future__ import annotations

import pytest

from processor.parsers import fingerprint_pg, mask_secrets, normalize_query

MASKS = [
    ("CREATE USER 'a'@'%' IDENTIFIED BY 'p@ss'", "CREATE USER 'a'@'%' IDENTIFIED BY '***'"),
    (
        'ALTER USER u IDENTIFIED WITH mysql_native_password BY "pw"',
        'ALTER USER u IDENTIFIED WITH mysql_native_password BY "***"',
    ),
    (
        "ALTER USER u IDENTIFIED BY 'new' REPLACE 'old'",
        "ALTER USER u IDENTIFIED BY '***' REPLACE '***'",
    ),
    ("SELECT PASSWORD('x')", "SELECT PASSWORD('***')"),
    ("SET PASSWORD FOR 'u'@'%' = 'secret'", "SET PASSWORD FOR 'u'@'%' = '***'"),
    ("SET PASSWORD = PASSWORD('secret')", "SET PASSWORD = PASSWORD('***')"),
    ("CREATE USER bob PASSWORD 'pw'", "CREATE USER bob PASSWORD '***'"),
    (
        "ALTER ROLE app WITH ENCRYPTED PASSWORD 'md5abc'",
        "ALTER ROLE app WITH ENCRYPTED PASSWORD '***'",
    ),
    ("create user x identified by 'it''s \\'q\\''", "create user x identified by '***'"),
    ("CREATE USER x IDENTIFIED BY 'cut", "CREATE USER x IDENTIFIED BY '***"),
    ("SELECT * FROM users WHERE password = 'x'", "SELECT * FROM users WHERE password = '***'"),
    ("SELECT 1", "SELECT 1"),
]


@pytest.mark.parametrize(("text", "masked"), MASKS)
def test_mask(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


PG = [
    ("comment", "SELECT /* c */ 1", "select ?"),
    ("identifiers", 'SELECT "MixedCase" FROM T', 'select "MixedCase" from t'),
    ("strings", "SELECT 'a', 'it''s' FROM t", "select ?, ? from t"),
    ("line-comment", "SELECT 1 -- x\n  FROM   t", "select ? from t"),
    ("begin", "BEGIN; SELECT 1", "select ?"),
    ("eq-null", "UPDATE t SET a = NULL", "update t set a = ?"),
    (
        "numbers",
        "SELECT * FROM t2 WHERE a = -5 AND b = 1.5 AND c = $1 AND d = 0xff",
        "select * from t2 where a = ? and b = ? and c = ? and d = ?",
    ),
    ("in-list", "SELECT * FROM t WHERE id IN (1, 2, 3)", "select * from t where id in (...)"),
    ("cursor", 'DECLARE "c1" CURSOR FOR SELECT 1', 'declare "..." cursor for select ?'),
]


@pytest.mark.parametrize(("rule", "query", "expected"), PG, ids=[p[0] for p in PG])
def test_pg_normalisation_rule(rule: str, query: str, expected: str) -> None:
    assert normalize_query(query) == expected
    assert fingerprint_pg(query)[0] == expected
