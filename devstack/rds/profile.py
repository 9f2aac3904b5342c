"""Per-instance actors (users, client addresses, databases) and time formatting for generators."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from devstack.rds.fleet import Instance
from devstack.rds.sql import pick, ri

__all__ = ["Profile", "conn_id", "iso_us", "pg_time", "pick", "ri"]


@dataclass(frozen=True)
class Profile:
    instance_id: str
    users: tuple[str, ...]
    ips: tuple[str, ...]
    dbs: tuple[str, ...]
    server_version: str
    mysql8: bool
    slow_extra: bool

    @classmethod
    def of(cls, inst: Instance, seed: int) -> Profile:
        r = random.Random(f"profile:{seed}:{inst.instance_id}")
        service = inst.cluster_id.split("-")[0]
        ips = tuple(f"10.0.{r.randint(0, 15)}.{r.randint(2, 254)}" for _ in range(8))
        users = ("app", "app", "app", f"{service}_ro", "reporting", "admin")
        dbs = (service, service, service, f"{service}_archive", "analytics")
        return cls(
            inst.instance_id,
            users,
            ips,
            dbs,
            inst.server_version,
            inst.mysql_major != "5.7",
            inst.slow_extra,
        )


# (second, its formatted text): replaced as one tuple, so catch-ups running in worker threads
# never see a second paired with another second's text.
_last_second: tuple[int, str] = (-1, "")


def iso_us(ts: float) -> str:
    """`2026-11-23T10:00:01.123456Z`, the MySQL 8 log timestamp."""
    global _last_second
    sec = int(ts)
    cached = _last_second
    if cached[0] == sec:
        text = cached[1]
    else:
        text = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second = (sec, text)
    return f"{text}.{int((ts - sec) * 1_000_000):06d}Z"


def pg_time(ts: float) -> str:
    """`2026-11-23 10:00:01 UTC`, PostgreSQL's `%t`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def conn_id(r: random.Random, ts: float) -> int:
    """Connection ids grow with time like a server's, with some spread."""
    return 100_000 + int(ts / 7) % 9_000_000 + ri(r, 0, 400)
