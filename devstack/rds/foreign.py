"""Files a real listing shows that the log system does not follow: written once, small, present
on a deterministic share of instances. Names from docs/reference/rds-api.md §2 and the Aurora
User Guide (`USER_LogAccess.Concepts.PostgreSQL`: the instance log of auto-pausing instances and
the IAM database-authentication error log; `external/mysql-external.log`,
`upgrade-prechecks.log`)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from devstack.rds.fleet import Instance
from devstack.rds.streams import LogFile

UNFOLLOWED = "unfollowed"  # the ground truth's log_type for these files

# (name, share of instances that list it, engines)
_FILES = (
    ("external/mysql-external.log", 1.0, ("aurora-mysql",)),
    ("upgrade-prechecks.log", 0.3, ("aurora-mysql",)),
    ("iam-db-auth-error.log", 0.4, ("aurora-mysql", "aurora-postgresql")),
    ("instance.log", 0.25, ("aurora-mysql", "aurora-postgresql")),
)


def _content(name: str, t: float, r: random.Random) -> bytes:
    stamp = datetime.fromtimestamp(t, UTC)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if name == "upgrade-prechecks.log":
        return (
            b'{"serverAddress": "/tmp%2Fmysql.sock", "serverVersion": "5.7.12", '
            b'"targetVersion": "8.0.32", "errorCount": 0, "warningCount": '
            + str(r.randint(0, 9)).encode()
            + b', "noticeCount": 1, "summary": "No known issues found."}\n'
        )
    if name == "iam-db-auth-error.log":
        return b"".join(
            f"{iso} [ERROR] IAM authentication failed for user app_{r.randint(1, 9)}: "
            f"token expired\n".encode()
            for _ in range(r.randint(1, 4))
        )
    if name == "instance.log":
        return f"{iso} Instance could not be paused: active connections (2)\n".encode()
    return f"{iso} 0 [Note] external: nothing to report\n".encode()


def foreign_files(inst: Instance, seed: int, root: Path, created: float) -> list[LogFile]:
    r = random.Random(f"foreign:{seed}:{inst.instance_id}")
    out = []
    for name, share, engines in _FILES:
        if r.random() >= share or inst.engine not in engines:
            continue
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _content(name, created, r)
        path.write_bytes(data)
        f = LogFile(inst.instance_id, name, UNFOLLOWED, "0", path, created, 0.001)
        f.size = len(data)
        f.touch(created)
        out.append(f)
    return out
