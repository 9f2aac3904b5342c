"""Generators of realistic log text for every format: the pt-query-digest comparison corpus and
the benchmark input. Deterministic for a seed; they write to a binary file object as they go, so
hundreds of megabytes never sit in memory.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

T0 = datetime(2024, 1, 3, 7, 0, 0, tzinfo=UTC)
TABLES = ["orders", "customers", "tbl1", "t2_archive", "`order items`", "inv.items", "Users"]
COLUMNS = ["id", "name", "email", "created_at", "status", "amount", "col9", "x1y2"]
WORDS = ["alpha", "O'Brien", 'say "hi"', "a,b,c", "100%", "x\\y", "bob@example.com", "N/A"]
RARE_WORDS = ["naïve café", "ünïcödé 日本"]
RDS_HEADER = (
    b"/rdsdbbin/oscar/bin/mysqld, Version: 8.0.28 (Source distribution). started with:\n"
    b"Tcp port: 3306  Unix socket: /tmp/mysql.sock\n"
    b"Time                 Id Command    Argument\n"
)


def _lit(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return str(rng.randrange(-5, 100000))
    if kind == 1:
        return f"{rng.random() * 1000:.3f}"
    if kind == 2:
        words = RARE_WORDS if rng.random() < 0.02 else WORDS
        return "'" + rng.choice(words).replace("'", "\\'") + "'"
    if kind == 3:
        return '"' + rng.choice(WORDS).replace('"', '\\"') + '"'
    if kind == 4:
        return rng.choice(["NULL", "TRUE", "false", "0x1F", "1e10", "-3.5E-2", "b'101'"])
    if kind == 5:
        return "'2024-01-0" + str(rng.randrange(1, 10)) + " 10:00:00'"
    return str(rng.randrange(1000))


def _where(rng: random.Random) -> str:
    conds = []
    for _ in range(rng.randrange(1, 4)):
        col = rng.choice(COLUMNS)
        form = rng.randrange(5)
        if form == 0:
            items = ", ".join(_lit(rng) for _ in range(rng.randrange(1, 6)))
            conds.append(f"{col} IN ({items})")
        elif form == 1:
            conds.append(f"{col} IS NULL")
        elif form == 2:
            conds.append(f"{col} BETWEEN {_lit(rng)} AND {_lit(rng)}")
        else:
            conds.append(f"{col} {rng.choice(['=', '<', '>=', '<>'])} {_lit(rng)}")
    return f" {rng.choice(['AND', 'and', 'OR'])} ".join(conds)


def random_statement(rng: random.Random) -> str:
    """One MySQL statement exercising the fingerprint rules (comments, literals, lists, …)."""
    t = rng.choice(TABLES)
    k = rng.randrange(22)
    if k <= 4:
        sel = ", ".join(rng.sample(COLUMNS, rng.randrange(1, 4)))
        q = f"SELECT {sel} FROM {t} WHERE {_where(rng)}"
        if rng.random() < 0.4:
            q += f" ORDER BY {rng.choice(COLUMNS)} {rng.choice(['ASC', 'asc', 'DESC', ''])}"
            if rng.random() < 0.5:
                q += f", {rng.choice(COLUMNS)} ASC"
        r = rng.random()
        if r < 0.2:
            q += f" LIMIT {rng.randrange(100)}"
        elif r < 0.3:
            q += f" LIMIT {rng.randrange(100)}, {rng.randrange(100)}"
        elif r < 0.4:
            q += f" LIMIT {rng.randrange(100)} OFFSET {rng.randrange(100)}"
        return q
    if k == 5:
        rows = ", ".join(
            "(" + ", ".join(_lit(rng) for _ in range(3)) + ")" for _ in range(rng.randrange(1, 5))
        )
        verb = rng.choice(["INSERT INTO", "INSERT IGNORE INTO", "REPLACE INTO", "insert into"])
        return f"{verb} {t} (a, b, c) VALUES {rows}"
    if k == 6:
        return f"UPDATE {t} SET {rng.choice(COLUMNS)} = {_lit(rng)} WHERE {_where(rng)}"
    if k == 7:
        return f"DELETE FROM {t} WHERE {_where(rng)}"
    if k == 8:
        return f"/* app:web host:{rng.randrange(9)} */ SELECT * FROM {t} WHERE id = {_lit(rng)}"
    if k == 9:
        return f"SELECT /*!40001 SQL_NO_CACHE */ COUNT(*) FROM {t} -- trailing\nWHERE id > 5"
    if k == 10:
        return f"CALL refresh_stats({_lit(rng)}, {_lit(rng)})"
    if k == 11:
        a = f"SELECT id FROM {t} WHERE id = {_lit(rng)}"
        return f"{a} UNION {a} UNION ALL {a}"
    if k == 12:
        return f"SELECT a,\n       b\n  FROM {t}\n WHERE c = {_lit(rng)}\n   AND d\tIN\t( 1 ,2 )"
    if k == 13:
        return f"CREATE USER 'app{rng.randrange(9)}'@'%' IDENTIFIED BY 's3cr3t-{rng.randrange(99)}'"
    if k == 14:
        return f"SET PASSWORD FOR 'app'@'%' = 'hunter{rng.randrange(99)}'"
    if k == 15:
        return "SELECT /*!40001 SQL_NO_CACHE */ * FROM `orders`"
    if k == 16:
        return (
            f"REPLACE /*foo.bar:{rng.randrange(9)}/{rng.randrange(9)}*/ INTO checksums VALUES (1)"
        )
    if k == 17:
        return f"select * from {t} where flag = true and x = FALSE and y=-1 and z=+2.5 # note"
    if k == 18:
        return f"SELECT COUNT(*) FROM t{rng.randrange(99)}_2024 WHERE name LIKE 'ab%'"
    if k == 19 and rng.random() < 0.1:
        return f"SELECT 'naïve', \"日本\" FROM {t} WHERE v = 'é{rng.randrange(9)}'"
    if k == 20:
        return "COMMIT"
    return f"select sleep({rng.randrange(3)})"


def statements(seed: int, n: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(n):
        yield random_statement(rng)


def slow_entry(rng: random.Random, when: datetime, statement: str, extra: bool) -> str:
    lines = [
        f"# Time: {when.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}",
        f"# User@Host: app[app] @  [10.0.{rng.randrange(4)}.{rng.randrange(255)}]"
        f"  Id: {rng.randrange(1, 999999)}",
    ]
    qt = f"{rng.random() * 3:.6f}"
    attrs = f"# Query_time: {qt}  Lock_time: 0.000{rng.randrange(999):03d}"
    attrs += f" Rows_sent: {rng.randrange(100)}  Rows_examined: {rng.randrange(100000)}"
    if extra:
        attrs += (
            f" Thread_id: {rng.randrange(9999)} Errno: 0 Killed: 0 Bytes_received: 0"
            f" Bytes_sent: {rng.randrange(9999)} Read_first: 0 Read_last: 0 Read_key: 1"
            " Sort_rows: 0 Created_tmp_disk_tables: 0 Created_tmp_tables: 0"
            f" Start: {when.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
            f" End: {when.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
        )
    lines.append(attrs)
    if rng.random() < 0.3:
        lines.append(f"use {rng.choice(['shop', 'audit', 'app_db'])};")
    lines.append(f"SET timestamp={int(when.timestamp())};")
    lines.append(statement + ";")
    return "\n".join(lines) + "\n"


Batches = Iterator[tuple[list[str], int]]


def _write(out: BinaryIO, target_bytes: int, batches: Batches) -> int:
    """Write batches of entries until about `target_bytes`; the number of entries written."""
    written = 0
    entries = 0
    while written < target_bytes:
        batch, count = next(batches)
        data = "".join(batch).encode()
        out.write(data)
        written += len(data)
        entries += count
    return entries


def write_slowlog(out: BinaryIO, target_bytes: int, seed: int = 1, extra: bool = True) -> int:
    """A slow log of about `target_bytes`; returns the number of entries written."""
    out.write(RDS_HEADER)
    return _write(out, target_bytes, _slow_batches(random.Random(seed), extra))


def _slow_batches(rng: random.Random, extra: bool) -> Batches:
    when = T0
    while True:
        batch = []
        for _ in range(200):
            when += timedelta(microseconds=rng.randrange(1, 50000))
            if rng.random() < 0.01:
                admin = f"# administrator command: {rng.choice(['Quit', 'Ping'])};"
                text = slow_entry(rng, when, "x", extra).replace("x;\n", admin + "\n")
            else:
                text = slow_entry(rng, when, random_statement(rng), extra)
            batch.append(text)
        if rng.random() < 0.05:
            batch.append(RDS_HEADER.decode())
        yield batch, 200


_ERROR_MESSAGES = [
    "[Note] [MY-010914] [Server] Aborted connection {n} to db: 'shop' user: 'app' host: "
    "'10.0.0.{n}' (Got an error reading communication packets).",
    "[Warning] [MY-010055] [Server] IP address '10.0.1.{n}' could not be resolved: "
    "Name or service not known",
    "[System] [MY-010116] [Server] /rdsdbbin/oscar/bin/mysqld (mysqld 8.0.28) starting as "
    "process {n}",
    "[ERROR] [MY-012592] [InnoDB] Operating system error number {n} in a file operation.",
    "[Note] [MY-012468] [InnoDB] Transactions deadlock detected, dumping detailed "
    "information.\n*** (1) TRANSACTION:\nTRANSACTION {n}, ACTIVE 10 sec starting index read\n"
    "mysql tables in use 1, locked 1\nUPDATE t SET a=1 WHERE id={n}",
]


def write_errorlog(out: BinaryIO, target_bytes: int, seed: int = 1) -> int:
    return _write(out, target_bytes, _error_batches(random.Random(seed)))


def _error_batches(rng: random.Random) -> Batches:
    when = T0
    while True:
        batch = []
        for _ in range(500):
            when += timedelta(microseconds=rng.randrange(1, 20000))
            msg = rng.choices(_ERROR_MESSAGES, weights=[40, 30, 5, 5, 2])[0]
            msg = msg.format(n=rng.randrange(999))
            batch.append(f"{when.strftime('%Y-%m-%dT%H:%M:%S.%fZ')} {rng.randrange(99)} {msg}\n")
        if rng.random() < 0.1:
            batch.append("231128  9:13:22 server_audit: Audit STARTED.\n")
        yield batch, len(batch)


def write_generallog(out: BinaryIO, target_bytes: int, seed: int = 1) -> int:
    out.write(RDS_HEADER)
    return _write(out, target_bytes, _general_batches(random.Random(seed)))


def _general_batches(rng: random.Random) -> Batches:
    when = T0
    while True:
        batch = []
        for _ in range(500):
            when += timedelta(microseconds=rng.randrange(1, 5000))
            tid = rng.randrange(1, 9999)
            r = rng.random()
            if r < 0.05:
                cmd, arg = "Connect", f"app@10.0.0.{rng.randrange(255)} on shop using TCP/IP"
            elif r < 0.1:
                cmd, arg = "Quit", ""
            else:
                cmd, arg = "Query", random_statement(rng)
            batch.append(f"{when.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}\t{tid:>6} {cmd}\t{arg}\n")
        yield batch, len(batch)


def write_auditlog(out: BinaryIO, target_bytes: int, seed: int = 1) -> int:
    return _write(out, target_bytes, _audit_batches(random.Random(seed)))


def _audit_batches(rng: random.Random) -> Batches:
    ts = int(T0.timestamp() * 1_000_000)
    while True:
        batch = []
        for _ in range(500):
            ts += rng.randrange(1, 20000)
            r = rng.random()
            if r < 0.1:
                rec = f"CONNECT,shop,,{rng.randrange(2)}"
            elif r < 0.2:
                rec = f"READ,shop,{rng.choice(TABLES)},"
            else:
                stmt = random_statement(rng).replace("\n", " ").replace("'", "\\'")
                rec = f"QUERY,shop,'{stmt}',{rng.choice([0, 0, 0, 1064])}"
            batch.append(
                f"{ts},aurora-mysql-instance-1,app,10.0.0.{rng.randrange(255)},"
                f"{rng.randrange(99999)},{rng.randrange(99999999)},{rec}\n"
            )
        yield batch, len(batch)


def write_postgresql(out: BinaryIO, target_bytes: int, seed: int = 1) -> int:
    return _write(out, target_bytes, _postgresql_batches(random.Random(seed)))


def _postgresql_batches(rng: random.Random) -> Batches:
    when = T0
    while True:
        batch = []
        for _ in range(300):
            when += timedelta(microseconds=rng.randrange(1, 20000))
            pre = (
                f"{when.strftime('%Y-%m-%d %H:%M:%S')} UTC:10.0.2.{rng.randrange(255)}"
                f"({rng.randrange(1024, 65535)}):app@shop:[{rng.randrange(100, 99999)}]:"
            )
            r = rng.random()
            stmt = random_statement(rng).replace("`", '"')
            if r < 0.7:
                batch.append(
                    f"{pre}LOG:  duration: {rng.random() * 500:.3f} ms  statement: {stmt}\n"
                )
            elif r < 0.8:
                batch.append(
                    f"{pre}LOG:  duration: {rng.random() * 5:.3f} ms  execute S_{rng.randrange(9)}:"
                    f" SELECT *\n\tFROM orders\n\tWHERE id = $1\n"
                    f"{pre}DETAIL:  parameters: $1 = '{rng.randrange(999)}'\n"
                )
            elif r < 0.9:
                batch.append(
                    f'{pre}ERROR:  duplicate key value violates unique constraint "orders_pkey"\n'
                    f"{pre}DETAIL:  Key (id)=({rng.randrange(999)}) already exists.\n"
                    f"{pre}STATEMENT:  INSERT INTO orders (id) VALUES ({rng.randrange(999)})\n"
                )
            else:
                batch.append(
                    f"{when.strftime('%Y-%m-%d %H:%M:%S')} UTC::@:[560]:LOG:  checkpoint complete:"
                    f" wrote {rng.randrange(999)} buffers (0.1%)\n"
                )
        yield batch, 300


WRITERS = {
    "slowquery": write_slowlog,
    "error": write_errorlog,
    "general": write_generallog,
    "audit": write_auditlog,
    "postgresql": write_postgresql,
}
