"""Aurora MySQL error, slow query and general logs (MySQL 8 / Aurora 3 and 5.7 / Aurora 2)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from devstack.rds.profile import Profile, conn_id, iso_us, pick, ri
from devstack.rds.sql import statement

MYSQLD = "/rdsdbbin/oscar/bin/mysqld"


def server_header(p: Profile) -> bytes:
    """The block RDS writes again at every flush of the slow and general logs."""
    return (
        f"{MYSQLD}, Version: {p.server_version} (Source distribution). started with:\n"
        "Tcp port: 3306  Unix socket: /tmp/mysql.sock\n"
        "Time                 Id Command    Argument\n"
    ).encode()


class ErrorLog:
    log_type = "error"
    mean_size = 190.0

    def __init__(self, p: Profile) -> None:
        self.p = p

    def _line(self, ts: float, thread: int, level: str, code: str, sub: str, msg: str) -> str:
        if self.p.mysql8:
            return f"{iso_us(ts)} {thread} [{level}] [{code}] [{sub}] {msg}\n"
        return f"{iso_us(ts)} {thread} [{level}] {msg}\n"

    def entry(self, r: random.Random, ts: float) -> bytes:
        p = self.p
        ip, user, db = pick(r, p.ips), pick(r, p.users), pick(r, p.dbs)
        cid = conn_id(r, ts)
        k = r.random()
        if k < 0.40:
            why = pick(r, ("reading communication packets", "writing communication packets"))
            text = self._line(
                ts,
                cid,
                "Note",
                "MY-010914",
                "Server",
                f"Aborted connection {cid} to db: '{db}' user: '{user}' "
                f"host: '{ip}' (Got an error {why}).",
            )
        elif k < 0.55:
            text = self._line(
                ts,
                0,
                "Warning",
                "MY-010055",
                "Server",
                f"IP address '{ip}' could not be resolved: Name or service not known",
            )
        elif k < 0.65:
            text = self._line(
                ts,
                cid,
                "Note",
                "MY-010926",
                "Server",
                f"Access denied for user '{user}'@'{ip}' (using password: YES)",
            )
        elif k < 0.72:
            text = self._line(
                ts,
                cid,
                "Warning",
                "MY-013360",
                "Server",
                "Plugin mysql_native_password reported: ''mysql_native_password' is deprecated "
                "and will be removed in a future release. Please use caching_sha2_password "
                "instead'",
            )
        elif k < 0.80:
            text = self._line(
                ts,
                cid,
                "ERROR",
                "MY-013129",
                "Server",
                "A message intended for a client cannot be sent there as no client-session is "
                "attached. Therefore, we're sending the information to the error-log instead: "
                "MY-001158 - Got an error reading communication packets",
            )
        elif k < 0.87:
            ms = ri(r, 1000, 9000)
            text = self._line(
                ts,
                0,
                "Note",
                "MY-011953",
                "InnoDB",
                f"Page cleaner took {ms}ms to flush {ri(r, 10, 900)} and evict 0 pages",
            )
        elif k < 0.93:
            # Lines of other writers land in the same file in their own formats.
            t = datetime.fromtimestamp(ts, UTC)
            text = f"{t:%y%m%d} {t.hour:2d}:{t:%M:%S} server_audit: Audit STARTED.\n"
            if r.random() < 0.5:
                text = f"{iso_us(ts)} {cid} rdsdbdata/log: flush of error log requested\n"
        else:
            text = self._deadlock(r, ts, cid)
        return text.encode()

    def _deadlock(self, r: random.Random, ts: float, cid: int) -> str:
        a, b = ri(r, 1, 9999), ri(r, 1, 9999)
        head = self._line(
            ts,
            cid,
            "Note",
            "MY-012468",
            "InnoDB",
            "Transactions deadlock detected, dumping detailed information. (lock0lock.cc:6482)",
        )
        body = []
        for n, row in ((1, a), (2, b)):
            body.append(
                self._line(ts, cid, "Note", "MY-012469", "InnoDB", f"*** ({n}) TRANSACTION:")
            )
            body.append(
                f"TRANSACTION {ri(r, 10**6, 10**7)}, ACTIVE 0 sec starting index read\n"
                "mysql tables in use 1, locked 1\n"
                "LOCK WAIT 3 lock struct(s), heap size 1128, 2 row lock(s)\n"
                f"MySQL thread id {cid + n}, OS thread handle 70368{ri(r, 10**8, 10**9)}, "
                f"query id {ri(r, 10**6, 10**8)} {pick(r, self.p.ips)} app updating\n"
                f"UPDATE accounts SET balance = balance - 10 WHERE id = {row}\n"
            )
        body.append(
            self._line(ts, cid, "Note", "MY-012469", "InnoDB", "*** WE ROLL BACK TRANSACTION (2)")
        )
        return head + "".join(body)

    def boot(self, ts: float) -> bytes:
        """What a reboot writes: shutdown, then the start-up sequence."""
        v = self.p.server_version
        lines = [
            self._line(
                ts,
                0,
                "System",
                "MY-013172",
                "Server",
                f"Received SHUTDOWN from user rdsadmin. Shutting down mysqld (Version: {v}).",
            ),
            self._line(
                ts + 2,
                0,
                "System",
                "MY-010910",
                "Server",
                f"{MYSQLD}: Shutdown complete (mysqld {v})  Source distribution.",
            ),
            self._line(
                ts + 5,
                0,
                "System",
                "MY-010116",
                "Server",
                f"{MYSQLD} (mysqld {v}) starting as process {int(ts) % 30000 + 200} "
                "(mysqld.cc:5965)",
            ),
            self._line(
                ts + 9,
                0,
                "System",
                "MY-010931",
                "Server",
                f"{MYSQLD}: ready for connections. Version: '{v}'  socket: "
                "'/tmp/mysql.sock'  port: 3306  Source distribution.",
            ),
        ]
        return "".join(lines).encode()


class SlowLog:
    log_type = "slowquery"
    mean_size = 420.0

    def __init__(self, p: Profile) -> None:
        self.p = p
        self.header = server_header(p)

    def entry(self, r: random.Random, ts: float) -> bytes:
        p = self.p
        qt = pick(r, (r.uniform(1.0, 3.0), r.uniform(0.5, 1.5), r.expovariate(0.2) + 1))
        lock = pick(r, (0.0, 0.0, r.uniform(0, 0.01)))
        sent, examined = ri(r, 0, 500), ri(r, 0, 5_000_000)
        user, ip, db = pick(r, p.users), pick(r, p.ips), pick(r, p.dbs)
        cid = conn_id(r, ts)
        stat = (
            f"# Query_time: {qt:.6f}  Lock_time: {lock:.6f} Rows_sent: {sent}  "
            f"Rows_examined: {examined}"
        )
        if p.slow_extra and p.mysql8:
            stat += (
                f" Thread_id: {cid} Errno: 0 Killed: 0 Bytes_received: {ri(r, 40, 900)} "
                f"Bytes_sent: {ri(r, 50, 90000)} Read_first: 0 Read_last: 0 "
                f"Read_key: {ri(r, 0, 99)} Read_next: {ri(r, 0, 9999)} Read_prev: 0 "
                f"Read_rnd: 0 Read_rnd_next: {ri(r, 0, examined)} Sort_merge_passes: 0 "
                f"Sort_range_count: 0 Sort_rows: {ri(r, 0, sent)} Sort_scan_count: 0 "
                f"Created_tmp_disk_tables: 0 Created_tmp_tables: {ri(r, 0, 1)} "
                f"Start: {iso_us(ts - qt)} End: {iso_us(ts)}"
            )
        use = f"use {db};\n" if r.random() < 0.35 else ""
        return (
            f"# Time: {iso_us(ts)}\n"
            f"# User@Host: {user}[{user}] @  [{ip}]  Id: {cid:>7}\n"
            f"{stat}\n{use}SET timestamp={int(ts - qt)};\n{statement(r, 'mysql')};\n"
        ).encode()


class GeneralLog:
    log_type = "general"
    mean_size = 160.0

    def __init__(self, p: Profile) -> None:
        self.p = p
        self.header = server_header(p)

    def entry(self, r: random.Random, ts: float) -> bytes:
        p = self.p
        cid = conn_id(r, ts)
        t = iso_us(ts)
        k = r.random()
        if k < 0.08:
            user, ip, db = pick(r, p.users), pick(r, p.ips), pick(r, p.dbs)
            text = f"{t}\t{cid:>7} Connect\t{user}@{ip} on {db} using TCP/IP\n"
        elif k < 0.14:
            text = f"{t}\t{cid:>7} Quit\t\n"
        elif k < 0.18:
            text = f"{t}\t{cid:>7} Init DB\t{pick(r, p.dbs)}\n"
        else:
            text = f"{t}\t{cid:>7} Query\t{statement(r, 'mysql')}\n"
        return text.encode()
