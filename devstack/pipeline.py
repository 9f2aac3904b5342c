"""The whole job on the local stack, as `make demo` and `bench/pipeline.py` run it.

One place decides how a run is set up, so the demo and the benchmark measure the same thing:
a fresh stack (no data left from a previous run) whose RDS emulator serves a fleet on an
accelerated clock that turns an hour shortly after the services start (so an hourly rotation
and complete-file downloads come within the first minute), then discovery and N processors as
real processes (`Services`) with intervals short enough for that clock; `measure()` takes the
figures (`devstack.measure`), `close()` leaves nothing running.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from common.settings import DiscoverySettings
from devstack.measure import Measurement, emulated_now, measure
from devstack.services import Services
from devstack.stack import Stack, StackState

HOUR = 3600

# Intervals for a clock that runs an hour in two minutes: discovery looks every few seconds,
# quiet instances are not left alone for long, and the log-file listings are cached briefly.
PACING_DEFAULT_SEC = float(DiscoverySettings.model_fields["discovery_active_max_delay_sec"].default)
SERVICE_ENV: dict[str, str] = {
    "DISCOVERY_INTERVAL_SEC": "10",
    # Quiet instances listed every 2 min (20 emulated min at ×10): at 60 s, 284 quiet
    # instances alone took 4.7 of the 8 calls/s, and the processors starved.
    "DISCOVERY_QUIET_MAX_SEC": "120",
    "DISCOVERY_FULL_LISTING_SEC": "60",
    "DISCOVERY_REANNOUNCE_SEC": "60",
    "CACHE_TTL_LOG_FILES_SEC": "5",
    "CACHE_TTL_DESCRIBE_SEC": "60",
    "OPENOBSERVE_BATCH_INTERVAL_SEC": "1",
    "SHUTDOWN_TIMEOUT_SEC": "20",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
}


@dataclass(frozen=True)
class PipelineOptions:
    """What a run looks like. `rotation_after_sec`: wall seconds from the emulator's start to
    the first top of the hour on its clock (the start time is chosen for it)."""

    instances: int = 316
    clock_speed: float = 10.0
    rate_scale: float = 0.3
    processors: int = 2
    profile: str = "realistic"  # the RDS emulator's fault profile: realistic | happy
    logging: str = "realistic"  # which MySQL logs the fleet's parameter groups turn on
    rotation_after_sec: float = 40.0
    history_hours: float = 0.5  # logs already written when the emulator starts
    audit_rotate_bytes: int = 256 * 1024
    seed: int = 42
    rds_extra_args: tuple[str, ...] = ()  # more emulator options, e.g. ("--busy-fraction", "1")
    env: Mapping[str, str] = field(default_factory=dict)  # settings of both services
    processor_env: Mapping[str, str] = field(default_factory=dict)
    discovery_env: Mapping[str, str] = field(default_factory=dict)


def start_time(now: float, speed: float, rotation_after_sec: float) -> float:
    """An emulated start time whose next top of the hour comes `rotation_after_sec` wall
    seconds later: the next wall-clock hour minus that lead on the emulated clock."""
    lead = speed * rotation_after_sec
    if not 0 < lead < HOUR:
        raise ValueError(
            f"clock speed × rotation delay must be within (0, 3600) emulated s, got {lead}"
        )
    next_hour = (int(now) // HOUR + 1) * HOUR
    return next_hour - lead


def rds_args(options: PipelineOptions, now: float) -> list[str]:
    """The RDS emulator's options for a run (after `DEVSTACK_RDS_ARGS`, so they win)."""
    start = datetime.fromtimestamp(
        start_time(now, options.clock_speed, options.rotation_after_sec), UTC
    )
    return [
        "--instances",
        str(options.instances),
        "--clock-speed",
        str(options.clock_speed),
        "--rate-scale",
        str(options.rate_scale),
        "--start-time",
        start.isoformat(),
        "--profile",
        options.profile,
        "--logging",
        options.logging,
        "--history-hours",
        str(options.history_hours),
        "--audit-rotate-bytes",
        str(options.audit_rotate_bytes),
        "--seed",
        str(options.seed),
        *options.rds_extra_args,
    ]


class PipelineRun:
    """A stack at `root` (wiped first) and the services on it; a context manager that stops
    both at the end unless `keep`."""

    def __init__(self, options: PipelineOptions, root: Path, keep: bool = False) -> None:
        self.options = options
        self.root = root
        self.keep = keep
        self.stack = Stack(root, extra_args={"rds": rds_args(options, time.time())})
        self.state: StackState | None = None
        self.services: Services | None = None
        self.started_wall = 0.0
        self.started_emulated = 0.0

    def __enter__(self) -> PipelineRun:
        return self

    def __exit__(self, *_exc: object) -> None:
        if not self.keep:
            self.close()

    @property
    def env(self) -> dict[str, str]:
        """The stack's variables plus the run's service settings (for both services)."""
        if self.state is None:
            raise RuntimeError("the stack is not up")
        # The default pacing of an active file's announcements on the emulated clock, within
        # the re-announcement interval the run uses.
        paced = min(
            PACING_DEFAULT_SEC / self.options.clock_speed,
            float(SERVICE_ENV["DISCOVERY_REANNOUNCE_SEC"]),
        )
        return {
            **self.stack.env(self.state),
            **SERVICE_ENV,
            "DISCOVERY_ACTIVE_MAX_DELAY_SEC": f"{paced:g}",
            **self.options.env,
        }

    def up(self) -> StackState:
        """A fresh stack: whatever ran at `root` is stopped and its data removed first."""
        self.stack.down()
        for leftover in ("data", "logs", "services"):
            shutil.rmtree(self.root / leftover, ignore_errors=True)
        self.state = self.stack.up()
        return self.state

    def start_services(self) -> Services:
        """Discovery and the processors, each waited until its `/healthz` answers."""
        env = self.env
        per_kind = {
            "discovery": dict(self.options.discovery_env),
            "processor": {
                "PROCESSOR_REPLICAS": str(self.options.processors),
                **self.options.processor_env,
            },
        }
        self.services = Services(env, self.root / "services", per_kind)
        started = [self.services.start("discovery")]
        started += [self.services.start("processor") for _ in range(self.options.processors)]
        for service in started:
            self.services.wait_ready(service)
        self.started_wall = time.time()
        self.started_emulated = asyncio.run(emulated_now(env["AWS_ENDPOINT_URL_RDS"]))
        return self.services

    def measure(self) -> Measurement:
        if self.services is None:
            raise RuntimeError("the services are not started")
        elapsed = time.time() - self.started_wall
        return asyncio.run(measure(self.env, self.services, self.started_emulated, elapsed))

    def close(self) -> None:
        """Stop the services, then the stack; safe to call twice."""
        if self.services is not None:
            self.services.stop_all(timeout=40)
        self.stack.down()
