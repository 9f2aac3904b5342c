"""The demo's command line, and what it becomes: pipeline options and a fault schedule.

The defaults show, within about three minutes, every log type, an hourly rotation (the
emulated clock is set to turn the hour ~40 s after start, and again two minutes later),
complete-file downloads, the RDS budget under pressure and a fault or two recovered from.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from devstack.pipeline import PipelineOptions


@dataclass(frozen=True)
class DemoOptions:
    duration: float
    pipeline: PipelineOptions
    faults: bool  # inject the scheduled faults (an OpenObserve 503 burst, an RDS throttle storm)
    settle: float  # after the duration, wait up to this long for rotated files to be done
    json_path: str | None  # also write the measurement (and every pid the run started) here


def parse(argv: list[str]) -> DemoOptions:
    defaults = PipelineOptions()
    p = argparse.ArgumentParser(
        prog="make demo ARGS=...",
        description="Run discovery and processors on an emulated Aurora fleet, live, then report.",
    )
    p.add_argument("--duration", type=float, default=180.0, help="seconds of running (180)")
    p.add_argument("--instances", type=int, default=defaults.instances, help="fleet size (316)")
    p.add_argument(
        "--rate-scale",
        type=float,
        default=defaults.rate_scale,
        help=f"multiplies every log's write rate ({defaults.rate_scale})",
    )
    p.add_argument(
        "--clock-speed",
        type=float,
        default=defaults.clock_speed,
        help=f"emulated seconds per second ({defaults.clock_speed:g}: "
        f"an hour in {3600 / defaults.clock_speed / 60:g} minutes)",
    )
    p.add_argument(
        "--processors", type=int, default=defaults.processors, help="processor replicas (2)"
    )
    p.add_argument(
        "--profile",
        choices=("realistic", "happy"),
        default=defaults.profile,
        help="the RDS emulator's fault profile (realistic: the documented quirks at low rates)",
    )
    p.add_argument(
        "--logging",
        choices=("realistic", "all"),
        default=defaults.logging,
        help="which MySQL logs the fleet turns on (all: every log type on every MySQL cluster)",
    )
    p.add_argument(
        "--no-faults",
        action="store_true",
        help="do not inject the OpenObserve 503 burst and the RDS throttling storm",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="after the duration, wait up to this many seconds for the processors to finish "
        "every rotated file before the report (0)",
    )
    p.add_argument(
        "--rotation-after",
        type=float,
        default=defaults.rotation_after_sec,
        help="seconds from start to the first top of the hour on the emulated clock "
        f"({defaults.rotation_after_sec:g})",
    )
    p.add_argument(
        "--history-hours",
        type=float,
        default=defaults.history_hours,
        help=f"hours of logs already written at start ({defaults.history_hours:g})",
    )
    p.add_argument(
        "--audit-rotate-bytes",
        type=int,
        default=defaults.audit_rotate_bytes,
        help="aggregate size at which an instance's audit files rotate "
        f"({defaults.audit_rotate_bytes}; audit files are read once rotated)",
    )
    p.add_argument("--json", dest="json_path", help="write the measurement as JSON to this file")
    a = p.parse_args(argv)
    if a.duration <= 0 or a.instances <= 0 or a.processors <= 0:
        p.error("--duration, --instances and --processors must be positive")
    if a.clock_speed <= 0 or a.rate_scale <= 0:
        p.error("--clock-speed and --rate-scale must be positive")
    if not 0 < a.clock_speed * a.rotation_after < 3600:
        p.error("--clock-speed × --rotation-after must be within (0, 3600) emulated seconds")
    pipeline = PipelineOptions(
        instances=a.instances,
        clock_speed=a.clock_speed,
        rate_scale=a.rate_scale,
        processors=a.processors,
        profile=a.profile,
        logging=a.logging,
        rotation_after_sec=a.rotation_after,
        history_hours=a.history_hours,
        audit_rotate_bytes=a.audit_rotate_bytes,
        # The demo's account has no other RDS client: the services may take 10 of its 12
        # requests/s (a deployment keeps the default 8, leaving room for consoles and tools).
        env={"RDS_API_RATE_LIMIT": "10"},
    )
    return DemoOptions(
        duration=a.duration,
        pipeline=pipeline,
        faults=not a.no_faults,
        settle=max(a.settle, 0.0),
        json_path=a.json_path,
    )
