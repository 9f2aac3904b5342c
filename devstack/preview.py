"""The demo's job until the discovery and processor services exist: the built parts, end to end.

For a few instances of the emulated fleet: list their log files (DescribeDBLogFiles), stream each
file with `downloadCompleteLogFile`, archive the raw bytes in S3 under the design's key, parse
them and ship the events to OpenObserve; then count back what OpenObserve holds. It is one pass
with no checkpoints: the services add the no-loss protocol on top of these same parts.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import zstandard

from common.aws import AwsClients, endpoint_for
from common.log_files import log_type_of
from common.log_types import MYSQL_LOG_TYPES, POSTGRES_LOG_TYPES
from common.settings import Settings
from processor.documents import FileContext, to_document
from processor.download import stream_complete_file
from processor.download.errors import FileVanished
from processor.parsers import parser_for
from processor.sinks.openobserve import OpenObserveClient
from processor.sinks.s3_keys import archive_key


@dataclass
class PreviewReport:
    instances_by_engine: Counter[str] = field(default_factory=Counter)
    files: Counter[str] = field(default_factory=Counter)
    raw_bytes: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    parse_errors: Counter[str] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    s3_objects: int = 0
    vanished: list[str] = field(default_factory=list)
    searched: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        fleet = ", ".join(f"{n} {e}" for e, n in sorted(self.instances_by_engine.items()))
        out = [f"fleet        {sum(self.instances_by_engine.values())} instances ({fleet})"]
        for log_type in sorted(self.files):
            out.append(
                f"{log_type:12} {self.files[log_type]} files, "
                f"{self.raw_bytes[log_type] / 1e6:.1f} MB raw -> {self.events[log_type]} events "
                f"({self.parse_errors[log_type]} flagged parse_error), "
                f"{self.delivered[log_type]} delivered, {self.failed[log_type]} failed, "
                f"OpenObserve now holds {self.searched.get(log_type, 0)}"
            )
        out.append(f"s3           {self.s3_objects} raw archive objects written")
        if self.vanished:
            # The realistic RDS profile hides a live name for a few seconds after each hour.
            out.append(f"vanished     {len(self.vanished)} listed files gone before their download")
        return out


async def _instances(clients: AwsClients) -> list[dict[str, Any]]:
    async with clients.client("rds") as rds:
        pages = rds.get_paginator("describe_db_instances").paginate(MaxRecords=100)
        return [i async for page in pages for i in page["DBInstances"]]


async def _log_files(clients: AwsClients, instance_id: str) -> list[dict[str, Any]]:
    async with clients.client("rds") as rds:
        pages = rds.get_paginator("describe_db_log_files").paginate(
            DBInstanceIdentifier=instance_id
        )
        return [f async for page in pages for f in page.get("DescribeDBLogFiles", [])]


async def _choose(
    clients: AwsClients, instances: list[dict[str, Any]], per_engine: int, look_at: int = 40
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """`per_engine` available instances of each engine, and more until every log type the engine
    has is shown: most instances log neither general nor audit (as on real fleets)."""
    chosen = []
    for engine in sorted({i["Engine"] for i in instances}):
        ready = [i for i in instances if i["Engine"] == engine]
        ready = [i for i in ready if i["DBInstanceStatus"] == "available"]
        wanted = set(MYSQL_LOG_TYPES if engine == "aurora-mysql" else POSTGRES_LOG_TYPES)
        taken = 0
        for instance in ready[:look_at]:
            listing = await _log_files(clients, instance["DBInstanceIdentifier"])
            types = {log_type_of(engine, f["LogFileName"]) for f in listing if f["Size"]}
            if taken < per_engine or types & wanted:
                chosen.append((instance, listing))
                taken += 1
                wanted -= types
            if taken >= per_engine and not wanted:
                break
    return chosen


async def run_preview(settings: Settings, per_engine: int = 2) -> PreviewReport:
    """One pass over `per_engine` available instances of each engine; a report of what flowed."""
    report = PreviewReport()
    clients = AwsClients(settings.aws)
    region = settings.aws.aws_region
    endpoint = endpoint_for("rds") or f"https://rds.{region}.amazonaws.com"
    credentials = await clients.credentials()
    instances = await _instances(clients)
    report.instances_by_engine.update(i["Engine"] for i in instances)
    chosen = await _choose(clients, instances, per_engine)
    batch_id = uuid.uuid4().hex
    # The count below searches the batch's own time range: its events' `_timestamp`s, and the
    # ingest times the client gives events outside the server's window (all from now on).
    low = high = time.time_ns() // 1_000
    streams = settings.openobserve.streams()
    compressor = zstandard.ZstdCompressor(level=3)
    async with (
        httpx.AsyncClient(timeout=120) as http,
        OpenObserveClient(settings.openobserve) as o2,
        clients.client("s3") as s3,
    ):
        for instance, listing in chosen:
            engine, instance_id = instance["Engine"], instance["DBInstanceIdentifier"]
            for listed in listing:
                name = listed["LogFileName"]
                log_type = log_type_of(engine, name)
                if log_type is None or listed["Size"] == 0:
                    continue
                context = FileContext(
                    "local", region, instance.get("DBClusterIdentifier", ""), instance_id,
                    engine, log_type, name, instance.get("DbiResourceId", instance_id), name,
                )  # fmt: skip
                parser = parser_for(log_type)
                # One archive object per file here (the demo's files are small); the processor
                # cuts ranges on entry boundaries instead of holding a file.
                raw: list[bytes] = []
                events = []
                try:
                    async for chunk in stream_complete_file(
                        http, endpoint, credentials, region, instance_id, name
                    ):
                        raw.append(chunk)
                        events += parser.feed(chunk)
                except FileVanished:
                    # Refused before the first byte: nothing of this file was read or shipped.
                    report.vanished.append(f"{instance_id}/{name}")
                    continue
                events += parser.flush()
                data = b"".join(raw)
                key = archive_key(
                    settings.s3.s3_prefix, engine, context.cluster_id, instance_id, log_type,
                    name, 0, len(data), datetime.now(UTC), "zst",
                )  # fmt: skip
                await s3.put_object(
                    Bucket=settings.s3.s3_bucket, Key=key, Body=compressor.compress(data)
                )
                report.s3_objects += 1
                docs = [to_document(e, context, batch_id) for e in events]
                for doc in docs:
                    low, high = min(low, doc["_timestamp"]), max(high, doc["_timestamp"])
                result = await o2.ship(streams[log_type], docs)
                report.files[log_type] += 1
                report.raw_bytes[log_type] += len(data)
                report.events[log_type] += len(events)
                report.parse_errors[log_type] += sum(e.parse_error for e in events)
                report.delivered[log_type] += len(result.delivered)
                report.failed[log_type] += len(result.failed)
        for shipped in report.files:
            end = max(high, time.time_ns() // 1_000) + 1_000_001
            report.searched[shipped] = await o2.count_batch(
                streams[shipped], batch_id, low - 1_000_000, end
            )
    return report
