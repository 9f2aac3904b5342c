"""Command-line options of the emulator; every option has a default that gives a modest fleet."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from common.log_types import LOG_TYPES
from devstack.rds.faults import PROFILES

# Bytes per emulated second per instance at activity 1.0: enough to see rotation and paging,
# small enough that 316 lazily generated instances stay within a few hundred MB per hour.
DEFAULT_RATES = {
    "error": 60.0,
    "slowquery": 1000.0,
    "general": 1000.0,
    "audit": 1000.0,
    "postgresql": 1500.0,
}


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8450
    data_dir: Path = Path(".devstack/rds")
    instances: int = 316
    seed: int = 42
    clock_speed: float = 1.0
    start_time: float = field(default_factory=time.time)
    history_hours: float = 1.0
    access_key: str = "testing"
    secret_key: str = "testing"
    account_id: str = "123456789012"
    mysql_fraction: float = 0.6
    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    rate_scale: float = 1.0
    busy_fraction: float = 0.1
    quiet_activity: float = 0.05
    busy: tuple[str, ...] = ()
    busy_activity: float = 20.0
    stopped: int = 2
    logging: str = "realistic"  # or "all": every MySQL cluster writes every log type
    audit_rotate_bytes: int = 100 * 1024 * 1024
    pg_rotate_bytes: int = 100_000 * 1024
    throttle: bool = True
    throttle_burst: float = 300.0
    throttle_rate: float = 12.0
    throttle_code: str = "Throttling"
    log_files_page: int = 1000
    log_level: str = "INFO"
    profile: str = "realistic"


def _iso(text: str) -> float:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"start time needs a zone (e.g. Z): {text!r}")
    return value.timestamp()


def parse_args(argv: list[str] | None = None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m devstack.rds", description=__doc__)
    p.add_argument("--host", default=d.host)
    p.add_argument("--port", type=int, default=d.port)
    p.add_argument("--data-dir", type=Path, default=d.data_dir, help="Generated log files.")
    p.add_argument("--instances", type=int, default=d.instances, help="Fleet size.")
    p.add_argument("--seed", type=int, default=d.seed, help="Makes fleet and logs repeatable.")
    p.add_argument("--clock-speed", type=float, default=d.clock_speed, help="0 freezes time.")
    p.add_argument("--start-time", type=_iso, default=None, help="ISO 8601; default now.")
    p.add_argument(
        "--history-hours",
        type=float,
        default=d.history_hours,
        help="Logs exist from this long before the start time.",
    )
    p.add_argument("--access-key", default=d.access_key)
    p.add_argument("--secret-key", default=d.secret_key)
    p.add_argument("--account-id", default=d.account_id)
    p.add_argument("--mysql-fraction", type=float, default=d.mysql_fraction)
    for log_type in LOG_TYPES:
        p.add_argument(
            f"--rate-{log_type}",
            type=float,
            default=d.rates[log_type],
            help=f"Bytes/s of the {log_type} log per instance at activity 1.",
        )
    p.add_argument("--rate-scale", type=float, default=d.rate_scale, help="Multiplies all rates.")
    p.add_argument(
        "--busy-fraction",
        type=float,
        default=d.busy_fraction,
        help="Share of instances at activity 1; the others are quiet.",
    )
    p.add_argument("--quiet-activity", type=float, default=d.quiet_activity)
    p.add_argument("--busy", default="", help="Comma-separated instance ids made busy.")
    p.add_argument("--busy-activity", type=float, default=d.busy_activity)
    p.add_argument("--stopped", type=int, default=d.stopped, help="Clusters stopped (all members).")
    p.add_argument(
        "--logging",
        choices=("realistic", "all"),
        default=d.logging,
        help="Parameter groups: a realistic mix (most MySQL instances without general and audit "
        "logs), or every log type on every MySQL cluster.",
    )
    p.add_argument("--audit-rotate-bytes", type=int, default=d.audit_rotate_bytes)
    p.add_argument("--pg-rotate-bytes", type=int, default=d.pg_rotate_bytes)
    p.add_argument("--no-throttle", action="store_true", help="Start with throttling off.")
    p.add_argument("--throttle-burst", type=float, default=d.throttle_burst)
    p.add_argument("--throttle-rate", type=float, default=d.throttle_rate)
    p.add_argument(
        "--throttle-code", choices=("Throttling", "ThrottlingException"), default=d.throttle_code
    )
    p.add_argument(
        "--log-files-page",
        type=int,
        default=d.log_files_page,
        help="Files per DescribeDBLogFiles page.",
    )
    p.add_argument("--log-level", default=d.log_level)
    p.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=d.profile,
        help="Faults on at start: `realistic` (the documented quirks at low rates) or `happy`.",
    )
    a = p.parse_args(argv)
    return Config(
        host=a.host,
        port=a.port,
        data_dir=a.data_dir,
        instances=a.instances,
        seed=a.seed,
        clock_speed=a.clock_speed,
        start_time=a.start_time if a.start_time is not None else time.time(),
        history_hours=a.history_hours,
        access_key=a.access_key,
        secret_key=a.secret_key,
        account_id=a.account_id,
        mysql_fraction=a.mysql_fraction,
        rates={t: getattr(a, f"rate_{t}") for t in LOG_TYPES},
        rate_scale=a.rate_scale,
        busy_fraction=a.busy_fraction,
        quiet_activity=a.quiet_activity,
        busy=tuple(b for b in a.busy.split(",") if b),
        busy_activity=a.busy_activity,
        stopped=a.stopped,
        logging=a.logging,
        audit_rotate_bytes=a.audit_rotate_bytes,
        pg_rotate_bytes=a.pg_rotate_bytes,
        throttle=not a.no_throttle,
        throttle_burst=a.throttle_burst,
        throttle_rate=a.throttle_rate,
        throttle_code=a.throttle_code,
        log_files_page=a.log_files_page,
        log_level=a.log_level,
        profile=a.profile,
    )
