"""Aurora MySQL advanced audit (CSV) and Aurora PostgreSQL logs (RDS prefix `%t:%r:%u@%d:[%p]:`)."""

from __future__ import annotations

import random

from devstack.rds.profile import Profile, conn_id, pg_time, pick, ri
from devstack.rds.sql import statement


def _audit_quote(sql: str) -> str:
    """The audit plugin's quoting: newlines become spaces, `'` is escaped, the whole is quoted."""
    flat = sql.replace("\r", " ").replace("\n", " ")
    return "'" + flat.replace("\\", "\\\\").replace("'", "\\'") + "'"


class AuditLog:
    log_type = "audit"
    mean_size = 150.0
    lanes = 4

    def __init__(self, p: Profile) -> None:
        self.p = p

    def entry(self, r: random.Random, ts: float) -> bytes:
        p = self.p
        us = int(ts * 1_000_000)
        user, ip, db = pick(r, p.users), pick(r, p.ips), pick(r, p.dbs)
        cid = conn_id(r, ts)
        qid = ri(r, 10**6, 10**8)
        host = p.instance_id
        k = r.random()
        if k < 0.06:
            row = f"{us},{host},{user},{ip},{cid},0,CONNECT,{db},,0"
        elif k < 0.11:
            row = f"{us},{host},{user},{ip},{cid},0,DISCONNECT,{db},,0"
        elif k < 0.13:
            row = f"{us},{host},{user},{ip},{cid},0,FAILED_CONNECT,,,1045"
        elif k < 0.30:
            op = pick(r, ("READ", "READ", "WRITE", "CREATE", "ALTER", "DROP", "RENAME"))
            table = pick(r, ("orders", "customers", "order_items", "accounts", "sessions"))
            row = f"{us},{host},{user},{ip},{cid},{qid},{op},{db},{table},"
        elif k < 0.33:
            row = f"{us},{host},rdsadmin,localhost,{cid},{qid},QUERY,,'SELECT @@aurora_version',0"
        else:
            code = 0 if r.random() < 0.97 else pick(r, (1064, 1146, 1062))
            row = f"{us},{host},{user},{ip},{cid},{qid},QUERY,{db},{_audit_quote(statement(r, 'mysql'))},{code}"
        return (row + "\n").encode()


def _tabbed(text: str) -> str:
    """PostgreSQL writes the lines after the first of a message with a leading tab."""
    return text.replace("\n", "\n\t")


class PostgresLog:
    log_type = "postgresql"
    mean_size = 230.0

    def __init__(self, p: Profile) -> None:
        self.p = p

    def entry(self, r: random.Random, ts: float) -> bytes:
        p = self.p
        t = pg_time(ts)
        pid = 1000 + conn_id(r, ts) % 60000
        user, ip, db = pick(r, p.users), pick(r, p.ips), pick(r, p.dbs)
        port = ri(r, 32768, 60999)
        pre = f"{t}:{ip}({port}):{user}@{db}:[{pid}]:"
        k = r.random()
        if k < 0.45 or k >= 0.945:
            ms = r.expovariate(0.01)
            sql = _tabbed(statement(r, "pg"))
            out = f"{pre}LOG:  duration: {ms:.3f} ms  statement: {sql}\n"
        elif k < 0.55:
            n = ri(r, 1, 10**6)
            out = (
                f"{pre}LOG:  duration: {r.uniform(0.05, 900):.3f} ms  execute <unnamed>: "
                "SELECT id, email FROM users WHERE id = $1\n"
                f"{pre}DETAIL:  parameters: $1 = '{n}'\n"
            )
        elif k < 0.62:
            email = f"user{ri(r, 1, 99999)}@example.com"
            out = (
                f'{pre}ERROR:  duplicate key value violates unique constraint "users_email_key"\n'
                f"{pre}DETAIL:  Key (email)=({email}) already exists.\n"
                f"{pre}STATEMENT:  INSERT INTO users (email, name) VALUES ('{email}', 'x')\n"
            )
        elif k < 0.66:
            out = (
                f"{pre}ERROR:  canceling statement due to statement timeout\n"
                f"{pre}STATEMENT:  {_tabbed(statement(r, 'pg'))}\n"
            )
        elif k < 0.68:
            out = (
                f'{pre}FATAL:  password authentication failed for user "{user}"\n'
                f'{pre}DETAIL:  Connection matched pg_hba.conf line 13: "host all all 0.0.0.0/0 md5"\n'
            )
        elif k < 0.78:
            out = f"{t}:{ip}({port}):[unknown]@[unknown]:[{pid}]:LOG:  connection received: host={ip} port={port}\n"
        elif k < 0.86:
            out = (
                f"{pre}LOG:  connection authorized: user={user} database={db} SSL enabled "
                "(protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)\n"
            )
        elif k < 0.93:
            out = (
                f"{pre}LOG:  disconnection: session time: 0:{ri(r, 0, 59):02d}:"
                f"{r.uniform(0, 59):06.3f} user={user} database={db} host={ip} port={port}\n"
            )
        elif k < 0.935:
            bg = f"{t}::@:[{ri(r, 300, 900)}]:"
            out = (
                f"{bg}LOG:  checkpoint starting: time\n"
                f"{bg}LOG:  checkpoint complete: wrote {ri(r, 1, 9000)} buffers "
                f"({r.uniform(0, 5):.1f}%); 0 WAL file(s) added, 0 removed, "
                f"{ri(r, 0, 3)} recycled; write={r.uniform(0, 30):.3f} s, sync=0.003 s, "
                f"total={r.uniform(0, 31):.3f} s; sync files={ri(r, 1, 90)}, "
                "longest=0.001 s, average=0.001 s; distance=1234 kB, estimate=5678 kB\n"
            )
        else:  # autovacuum reports, 1%
            bg = f"{t}::@:[{ri(r, 3000, 9000)}]:"
            table = pick(r, ("orders", "events", "sessions"))
            out = (
                bg
                + "LOG:  "
                + _tabbed(
                    f'automatic vacuum of table "{db}.public.{table}": index scans: 1\n'
                    f"pages: 0 removed, {ri(r, 100, 99999)} remain, 0 skipped due to pins\n"
                    f"tuples: {ri(r, 0, 9999)} removed, {ri(r, 10**4, 10**7)} remain, "
                    "0 are dead but not yet removable\n"
                    f"system usage: CPU: user: {r.uniform(0, 2):.2f} s, system: 0.01 s, elapsed: "
                    f"{r.uniform(0, 9):.2f} s"
                )
                + "\n"
            )
        return out.encode()

    def boot(self, ts: float) -> bytes:
        t = pg_time(ts)
        return (
            f"{t}::@:[{int(ts) % 900 + 300}]:LOG:  received fast shutdown request\n"
            f"{t}::@:[{int(ts) % 900 + 300}]:LOG:  database system is shut down\n"
            f"{t}::@:[{int(ts) % 900 + 301}]:LOG:  database system is ready to accept connections\n"
        ).encode()
