"""Masking of secrets: one case per masked form, what is left alone, and every form in a minimal
log of every format (the secret must be in no field of any event)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.log_types import LogType
from processor.parsers import Event, mask_secrets
from tests.parsers.helpers import implementation, parse_all

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
    # Replication credentials.
    (
        "CHANGE MASTER TO MASTER_HOST='db1', MASTER_USER='repl', MASTER_PASSWORD='pw', "
        "MASTER_PORT=3306",
        "CHANGE MASTER TO MASTER_HOST='db1', MASTER_USER='repl', MASTER_PASSWORD='***', "
        "MASTER_PORT=3306",
    ),
    (
        'change replication source to source_user="repl", source_password = "pw" for channel "c"',
        'change replication source to source_user="repl", source_password = "***" for channel "c"',
    ),
    (
        "START GROUP_REPLICATION USER='repl', PASSWORD='pw'",
        "START GROUP_REPLICATION USER='repl', PASSWORD='***'",
    ),
    # The RDS procedures: the password is the 4th argument of every variant.
    (
        "CALL mysql.rds_set_external_master('db1', 3306, 'repl', 'pw', 'bin.000031', 107, 0)",
        "CALL mysql.rds_set_external_master('db1', 3306, 'repl', '***', 'bin.000031', 107, 0)",
    ),
    (
        "call mysql.rds_set_external_source ( 'db1' , 3306 , 'repl' , 'pw' , 'bin.1' , 4 , 1 )",
        "call mysql.rds_set_external_source ( 'db1' , 3306 , 'repl' , '***' , 'bin.1' , 4 , 1 )",
    ),
    (
        "CALL `mysql`.`rds_set_external_master_with_auto_position`('db1', 3306, 'repl', 'pw', 1, 0)",
        "CALL `mysql`.`rds_set_external_master_with_auto_position`('db1', 3306, 'repl', '***', 1, 0)",
    ),
    (
        "CALL mysql.rds_set_external_source_with_auto_position('db1', 3306, 'repl', 'pw', 0, 0)",
        "CALL mysql.rds_set_external_source_with_auto_position('db1', 3306, 'repl', '***', 0, 0)",
    ),
    (
        "CALL rds_set_external_master_with_delay('db1', 3306, 'repl', 'pw', 'b.1', 4, 0, 3600)",
        "CALL rds_set_external_master_with_delay('db1', 3306, 'repl', '***', 'b.1', 4, 0, 3600)",
    ),
    # Encryption keys, at any depth of the key argument; the data argument is left alone.
    (
        "SELECT AES_ENCRYPT('card', 'k3y'), AES_DECRYPT(c, UNHEX(SHA2('k3y', 512))) FROM t",
        "SELECT AES_ENCRYPT('card', '***'), AES_DECRYPT(c, UNHEX(SHA2('***', 512))) FROM t",
    ),
    (
        "SELECT aes_encrypt(concat(a, 'x'), 'k3y', 'iv')",
        "SELECT aes_encrypt(concat(a, 'x'), '***', 'iv')",
    ),
    ("SELECT DES_ENCRYPT('a', 'k3y')", "SELECT DES_ENCRYPT('a', '***')"),
    ("SELECT DES_DECRYPT(c, 'k3y')", "SELECT DES_DECRYPT(c, '***')"),
    ("SELECT ENCODE('a', 'k3y'), DECODE(c, 'k3y')", "SELECT ENCODE('a', '***'), DECODE(c, '***')"),
    (
        "SELECT encode(digest(x, 'sha256'), 'hex'), decode('00', 'HEX')",
        "SELECT encode(digest(x, 'sha256'), 'hex'), decode('00', 'HEX')",
    ),
    (
        "SELECT pgp_sym_encrypt('data', 'k3y', 'cipher-algo=aes256')",
        "SELECT pgp_sym_encrypt('data', '***', 'cipher-algo=aes256')",
    ),
    ("SELECT pgp_sym_decrypt(c::bytea, E'k3y')", "SELECT pgp_sym_decrypt(c::bytea, E'***')"),
    (
        "SELECT pgp_pub_decrypt(c, dearmor('key'), 'pw')",
        "SELECT pgp_pub_decrypt(c, dearmor('***'), '***')",
    ),
    ("SELECT crypt('pw', gen_salt('bf'))", "SELECT crypt('***', gen_salt('bf'))"),
    ("SELECT hmac('data', 'k3y', 'sha256')", "SELECT hmac('data', '***', 'sha256')"),
    (
        "SELECT AES_ENCRYPT(AES_DECRYPT(c, 'k1'), 'k2')",
        "SELECT AES_ENCRYPT(AES_DECRYPT(c, '***'), '***')",
    ),
    ("SELECT 'aes_encrypt(a, b)' FROM t", "SELECT 'aes_encrypt(a, b)' FROM t"),
    ("SELECT AES_ENCRYPT('a', 'cut", "SELECT AES_ENCRYPT('a', '***"),
    # PostgreSQL connection strings and URLs.
    (
        "SELECT dblink_connect('c', 'host=db2 dbname=app user=u password=pw sslmode=require')",
        "SELECT dblink_connect('c', 'host=db2 dbname=app user=u password=*** sslmode=require')",
    ),
    (
        "SELECT dblink_connect('c', 'host=db2 password = ''p w'' dbname=app')",
        "SELECT dblink_connect('c', 'host=db2 password = ''***'' dbname=app')",
    ),
    (
        "SELECT * FROM dblink('postgresql://u:pw@db2/app', 'SELECT 1') AS t(a int)",
        "SELECT * FROM dblink('postgresql://u:***@db2/app', 'SELECT 1') AS t(a int)",
    ),
    (
        "CREATE USER MAPPING FOR app SERVER db2 OPTIONS (user 'u', password 'pw')",
        "CREATE USER MAPPING FOR app SERVER db2 OPTIONS (user 'u', password '***')",
    ),
    (
        "ALTER USER MAPPING FOR app SERVER db2 OPTIONS (SET password 'pw')",
        "ALTER USER MAPPING FOR app SERVER db2 OPTIONS (SET password '***')",
    ),
    ("SELECT * FROM t WHERE password = ''", "SELECT * FROM t WHERE password = ''"),
    ("GET http://host:8080/path", "GET http://host:8080/path"),
]


@pytest.mark.parametrize(("text", "masked"), MASKS)
def test_mask(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


# ----------------------------------------------------------------- every form, every format


def _literal(secret: str) -> str:
    """An SQL string literal holding `secret`."""
    return "'" + secret.replace("\\", "\\\\").replace("'", "''") + "'"


def _conninfo(secret: str) -> str:
    """`secret` as a libpq value inside an SQL literal: bare, or quoted (doubled quotes)."""
    if any(c in secret for c in " ()"):
        return f"''{secret}''"
    return secret


# Form -> (statement holding the secret, characters the secret cannot hold in that form).
FORMS: dict[str, tuple[Callable[[str], str], str]] = {
    "change_master": (
        lambda s: (
            "CHANGE MASTER TO MASTER_HOST='db1', MASTER_USER='repl', "
            f"MASTER_PASSWORD={_literal(s)}, MASTER_AUTO_POSITION=1"
        ),
        "",
    ),
    "change_replication_source": (
        lambda s: (
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db1', SOURCE_USER='repl', "
            f"SOURCE_PASSWORD = {_literal(s)} FOR CHANNEL 'c1'"
        ),
        "",
    ),
    "rds_set_external_master": (
        lambda s: (
            "CALL mysql.rds_set_external_master('db1.example.com', 3306, 'repl', "
            f"{_literal(s)}, 'mysql-bin-changelog.000031', 107, 0)"
        ),
        "",
    ),
    "rds_set_external_source": (
        lambda s: (
            "CALL mysql.rds_set_external_source('db1.example.com', 3306, 'repl', "
            f"{_literal(s)}, 'mysql-bin-changelog.000031', 107, 1)"
        ),
        "",
    ),
    "rds_set_external_master_with_auto_position": (
        lambda s: (
            "CALL mysql.rds_set_external_master_with_auto_position('db1', 3306, 'repl', "
            f"{_literal(s)}, 0, 0)"
        ),
        "",
    ),
    "rds_set_external_source_with_auto_position": (
        lambda s: (
            "CALL mysql.rds_set_external_source_with_auto_position('db1', 3306, 'repl', "
            f"{_literal(s)}, 1, 3600)"
        ),
        "",
    ),
    "aes_encrypt": (
        lambda s: f"INSERT INTO cards (n) VALUES (AES_ENCRYPT('4111', {_literal(s)}))",
        "",
    ),
    "aes_decrypt": (
        lambda s: f"SELECT AES_DECRYPT(n, UNHEX(SHA2({_literal(s)}, 512))) FROM cards",
        "",
    ),
    "des_encrypt": (lambda s: f"SELECT DES_ENCRYPT('4111', {_literal(s)})", ""),
    "encode": (lambda s: f"SELECT ENCODE('4111', {_literal(s)})", ""),
    "decode": (lambda s: f"SELECT DECODE(n, {_literal(s)}) FROM cards", ""),
    "pgp_sym_encrypt": (
        lambda s: (
            f"INSERT INTO cards VALUES (pgp_sym_encrypt('4111', {_literal(s)}, 'compress-algo=1'))"
        ),
        "",
    ),
    "pgp_sym_decrypt": (
        lambda s: f"SELECT pgp_sym_decrypt(n::bytea, {_literal(s)}) FROM cards",
        "",
    ),
    "dblink": (
        lambda s: (
            "SELECT * FROM dblink('host=db2 dbname=app user=u "
            f"password={_conninfo(s)}', 'SELECT 1') AS t(a int)"
        ),
        "'\\",
    ),
    "dblink_connect_url": (
        lambda s: f"SELECT dblink_connect('c1', 'postgresql://u:{quote(s, safe='')}@db2/app')",
        "",
    ),
    "user_mapping": (
        lambda s: (
            f"CREATE USER MAPPING FOR app SERVER db2 OPTIONS (user 'u', password {_literal(s)})"
        ),
        "",
    ),
}


def _audit_object(sql: str) -> str:
    return "'" + sql.replace("\\", "\\\\").replace("'", "\\'") + "'"


# Log type -> minimal log holding the statement; and a line no rule knows (raw text kept).
LOGS: dict[str, Callable[[str], str]] = {
    LogType.ERROR: lambda sql: (
        f"2023-11-28T09:13:22.104678Z 12 [Note] [MY-010000] [Repl] Query: {sql}\n"
        f"231128  9:13:22 [ERROR] Slave SQL: {sql}\n"
        f"{sql}\n"
    ),
    LogType.GENERAL: lambda sql: (
        f"2024-01-03T07:15:38.660108Z\t   12 Query\t{sql}\n"
        f"240103  7:15:39\t   13 Execute\t{sql}\n"
        f"\t\t     14 Query       {sql}\n"
        f"2024-01-03T07:15:40.000000Z\t   12 Quit\t\n{sql}\n"
    ),
    LogType.AUDIT: lambda sql: (
        f"1703817810074458,inst-1,app,10.0.0.5,12,34,QUERY,shop,{_audit_object(sql)},0\n"
        f"20240323 13:36:07,inst-1,app,10.0.0.5,12,35,QUERY,,{_audit_object(sql)},0,,\n"
        f"{sql}\n"
    ),
    LogType.SLOWQUERY: lambda sql: (
        "# Time: 2024-01-03T07:15:38.660108Z\n"
        "# User@Host: app[app] @  [10.0.0.5]  Id:    12\n"
        "# Query_time: 0.000100  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0\n"
        "SET timestamp=1704266138;\n"
        f"{sql};\n"
    ),
    LogType.POSTGRESQL: lambda sql: (
        f"2024-01-03 07:15:38 UTC:10.0.0.5(5432):app@shop:[123]:LOG:  statement: {sql}\n"
        "2024-01-03 07:15:38 UTC:10.0.0.5(5432):app@shop:[123]:LOG:  duration: 1.5 ms  "
        f"statement: {sql}\n"
        "2024-01-03 07:15:38 UTC:10.0.0.5(5432):app@shop:[123]:ERROR:  syntax error\n"
        f"2024-01-03 07:15:38 UTC:10.0.0.5(5432):app@shop:[123]:STATEMENT:  {sql}\n"
        f"{sql}\n"
    ),
}
assert set(LOGS) == set(LogType), "every format has its minimal log"


def _strings(events: list[Event]) -> list[str]:
    return [v for e in events for v in e.fields.values() if isinstance(v, str)]


def _leaks(secret: str, sql: str, events: list[Event]) -> list[str]:
    """The field values that still show the secret (as written, or as the statement spelt it)."""
    spellings = {secret, _literal(secret)[1:-1], quote(secret, safe=""), _conninfo(secret)}
    return [v for v in _strings(events) for s in spellings if s and s in v]


@pytest.mark.parametrize("impl", ["compiled", "python"])
@pytest.mark.parametrize("log_type", list(LOGS))
@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_is_masked_in_every_format(impl: str, log_type: str, form: str) -> None:
    secret = "S3cr3t-Hunter2"
    sql = FORMS[form][0](secret)
    assert secret in sql
    with implementation(impl):
        events = parse_all(log_type, LOGS[log_type](sql).encode())
    assert events
    assert any("***" in v for v in _strings(events)), "the statement is in some field"
    assert _leaks(secret, sql, events) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    form=st.sampled_from(list(FORMS)),
    log_type=st.sampled_from(list(LOGS)),
    core=st.text(
        st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("é€"),
        min_size=3,
        max_size=20,
    ),
)
def test_a_secret_in_any_form_never_reaches_an_event(form: str, log_type: str, core: str) -> None:
    make, excluded = FORMS[form]
    secret = "Zq" + "".join(c for c in core if c not in excluded) + "k9"
    sql = make(secret)
    events = parse_all(log_type, LOGS[log_type](sql).encode())
    assert _leaks(secret, sql, events) == []


def test_postgresql_detail_hint_and_context_are_masked() -> None:
    prefix = "2024-01-03 07:15:38 UTC:10.0.0.5(5432):app@shop:[123]:"
    sql = FORMS["dblink"][0]("S3cr3t-Hunter2")
    raw = (
        f"{prefix}ERROR:  could not establish connection\n"
        f"{prefix}DETAIL:  {sql}\n{prefix}HINT:  {sql}\n"
        f'{prefix}CONTEXT:  SQL statement "{sql}"\n'
    ).encode()
    assert _leaks("S3cr3t-Hunter2", sql, parse_all("postgresql", raw)) == []
