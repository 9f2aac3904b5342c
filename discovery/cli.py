"""`aurora-discovery run|once|stats`: the discovery daemon (fleet listing, change detection).

`run` polls forever; `once` runs one cycle and prints its summary (JSON); `stats` prints what
the running replicas last reported (their summary rows) and the gap ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from common.aws import AwsClients
from common.health import HealthServer
from common.lifecycle import EXIT_BAD_SETTINGS, ServiceParts, launch
from common.logging import configure_logging
from common.settings import Settings, SettingsError, load_settings
from discovery.metadata import MetadataStore
from discovery.service import DiscoveryService
from discovery.tracking import TrackingStore


def _parts(settings: Settings, once: bool, out: dict[str, Any]) -> ServiceParts:
    obs = settings.observability
    service = DiscoveryService(settings)
    health = HealthServer(obs.metrics_host, obs.metrics_port)
    health.add_check("kafka", service.check_kafka)
    health.add_check("dynamodb", service.check_dynamodb)
    health.add_detail("valkey", service.valkey_detail)

    async def main() -> None:
        if not once:
            await service.run_forever()
            return
        reports = await service.run_cycle()
        out["summary"] = service.snapshot(
            reports,
            {},
            sum(r.seconds for r in reports),
            "ok" if all(r.outcome == "ok" for r in reports) else "partial",
        )
        out["cycles"] = [
            {
                "account": r.label,
                "outcome": r.outcome,
                "seconds": round(r.seconds, 3),
                "polled": r.polled,
                "announced": r.announced,
                "publish_failed": r.publish_failed,
                "skipped_files": r.skipped_files,
                "vanished": r.vanished,
                "gaps": r.gaps,
                "instances": r.instances,
                "errors": r.errors[:20],
            }
            for r in reports
        ]

    return [health, service], main


async def _stats(settings: Settings) -> dict[str, Any]:
    clients = AwsClients(settings.aws)
    async with clients.client("dynamodb") as ddb:
        meta = MetadataStore(
            ddb, settings.tables.instance_table, settings.discovery.instance_ttl_days
        )
        tracking = TrackingStore(ddb, settings.tables.tracking_table)
        shards = await meta.summaries()
        gaps = await tracking.gaps()
    return {"shards": sorted(shards, key=lambda s: s.get("shard", 0)), "gaps": gaps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aurora-discovery", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="poll the fleet forever, publishing log-file messages")
    sub.add_parser("once", help="one discovery cycle, then a summary")
    sub.add_parser("stats", help="what discovery knows: instances, files, lag, gaps")
    args = parser.parse_args(argv)
    if args.command == "stats":
        try:
            settings = load_settings()
        except SettingsError as exc:
            print(f"aurora-discovery: {exc}", file=sys.stderr)
            return EXIT_BAD_SETTINGS
        configure_logging("WARNING", settings.observability.log_format)
        print(json.dumps(asyncio.run(_stats(settings)), indent=2, sort_keys=True, default=str))
        return 0
    out: dict[str, Any] = {}
    code = launch("aurora-discovery", lambda s: _parts(s, args.command == "once", out))
    if out:
        print(json.dumps(out, indent=2, sort_keys=True, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
