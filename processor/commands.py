"""The service's subcommands of `aurora-processor`: `run`, `stats`, `verify`.

    aurora-processor run                 # the consumer group member, until SIGTERM
    aurora-processor stats [--since 1h]  # files in progress, bytes behind, recent jobs/failures
    aurora-processor verify [--since 24h] [--dry-run]

`stats` and `verify` read the DynamoDB tables (and, for verify, S3 and OpenObserve) and print
JSON; they change nothing but what `verify` re-ships.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections import Counter
from typing import Any

from common.aws import AwsClients
from common.health import HealthServer
from common.lifecycle import EXIT_BAD_SETTINGS, ServiceParts, launch
from common.logging import configure_logging
from common.settings import Settings, SettingsError, load_settings
from common.tables import table_specs
from processor.checkpoint.codec import from_attr
from processor.jobs import JobsLog
from processor.service import ProcessorService

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """`90s`, `15m`, `24h`, `7d` -> seconds."""
    found = _DURATION.match(text.strip())
    if found is None:
        raise argparse.ArgumentTypeError(f"not a duration (e.g. 30m, 24h, 7d): {text!r}")
    return float(found.group(1)) * _UNIT[found.group(2)]


def add_commands(sub: Any) -> None:
    run = sub.add_parser("run", help="consume log-file messages until stopped (the service)")
    run.set_defaults(func=_cmd_run)
    stats = sub.add_parser("stats", help="files in progress, bytes behind, recent jobs (JSON)")
    stats.add_argument("--since", type=duration, default=3600.0, help="jobs window (default 1h)")
    stats.set_defaults(func=_cmd_stats)
    verify = sub.add_parser(
        "verify", help="hold OpenObserve against the jobs table; re-ship what it lost (JSON)"
    )
    verify.add_argument("--since", type=duration, default=86400.0, help="default 24h")
    verify.add_argument("--dry-run", action="store_true", help="report, re-ship nothing")
    verify.set_defaults(func=_cmd_verify)


def _service_parts(settings: Settings) -> ServiceParts:
    obs = settings.observability
    service = ProcessorService(settings)
    health = HealthServer(obs.metrics_host, obs.metrics_port)
    health.add_check("kafka", service.check_kafka)
    health.add_check("dynamodb", service.check_dynamodb)
    health.add_check("s3", service.check_s3)
    health.add_check("openobserve", service.check_openobserve)
    return [health, service], service.run


def _cmd_run(_args: argparse.Namespace) -> int:
    return launch("aurora-processor", _service_parts)


def _settings_or_exit() -> Settings | int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"aurora-processor: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    configure_logging("WARNING", settings.observability.log_format, stream=sys.stderr)
    return settings


def _cmd_stats(args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    if isinstance(settings, int):
        return settings
    report = asyncio.run(stats(settings, args.since))
    print(json.dumps(report, indent=2, sort_keys=True, default=str))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    if isinstance(settings, int):
        return settings
    from processor.verify import verify  # the OpenObserve client is only needed here

    report = asyncio.run(verify(settings, args.since, dry_run=args.dry_run))
    print(json.dumps(report.to_dict(), indent=2, sort_keys=True, default=str))
    return report.exit_code


async def stats(settings: Settings, since_sec: float) -> dict[str, Any]:
    """What the processors are doing, from the tracking and jobs tables."""
    specs = {s.name: s for s in table_specs(settings.tables)}
    now = time.time()
    async with AwsClients(settings.aws).client("dynamodb") as ddb:
        jobs = await JobsLog(ddb, specs[settings.tables.jobs_table]).recent(now - since_sec)
        rows: list[dict[str, Any]] = []
        paginator = ddb.get_paginator("scan")
        async for page in paginator.paginate(TableName=settings.tables.tracking_table):
            rows.extend(page.get("Items", []))
    in_progress = []
    behind: dict[str, int] = {}
    for item in rows:
        row = {k: from_attr(v) for k, v in item.items()}
        owner, until = row.get("lease_owner"), float(row.get("lease_until", 0) or 0)
        if owner and until > now:
            in_progress.append(
                {"instance_id": row.get("instance_id"), "file": row.get("log_file_name"),
                 "owner": owner, "shipped_offset": int(row.get("shipped_offset", 0) or 0)}
            )  # fmt: skip
        published = int(row.get("published_size", 0) or 0)
        shipped = int(row.get("shipped_offset", 0) or 0)
        if published > shipped and row.get("status") != "vanished":
            key = str(row.get("log_type", "unknown"))
            behind[key] = behind.get(key, 0) + published - shipped
    failures = [j for j in jobs if j.outcome not in ("ok", "recovered")]
    return {
        "files_tracked": len(rows),
        "files_in_progress": in_progress,
        "bytes_behind": behind,
        "jobs": {
            "since_sec": since_sec,
            "count": len(jobs),
            "events": sum(j.events for j in jobs if j.sink == "openobserve"),
            "bytes_shipped": sum(j.end - j.start for j in jobs if j.sink == "openobserve"),
            "bytes_archived": sum(j.end - j.start for j in jobs if j.sink == "s3"),
            "by_outcome": dict(Counter(j.outcome for j in jobs)),
        },
        "recent_failures": [
            {
                "at": j.job_id.split("#")[0],
                "instance_id": j.instance_id,
                "file": j.log_file_name,
                "range": [j.start, j.end],
                "sink": j.sink,
                "outcome": j.outcome,
                "error": j.error,
            }
            for j in failures[-20:]
        ],
    }
