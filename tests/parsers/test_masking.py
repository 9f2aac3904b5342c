"""Masking of password literals: one case per masked form, and what is left alone."""

from __future__ import annotations

import pytest

from processor.parsers import mask_secrets

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
