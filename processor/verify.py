"""`aurora-processor verify`: hold OpenObserve against the jobs table, and repair it from S3.

Why it exists: OpenObserve can answer 200 with matching counts for records it never wrote (it
counts a record before its disk write and only logs a failed write). No sender can see that; the
S3 archive, which holds the raw bytes, and the jobs table, which says which events each range
held, can. For every range shipped in the window, verify re-reads the range's bytes from its S3
objects, parses them again from the state the range started with (recorded in the job), derives
the same documents (event ids and batch id are deterministic), asks OpenObserve which it holds —
settled answers only — and re-ships the ones it proves absent. Ranges whose bytes are not in S3
yet (an active file not rotated) are reported, not guessed at.

Memory: one archive object (at most PROCESSOR_ARCHIVE_RANGE_BYTES, decompressed) at a time.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from typing import Any

import structlog

from common.aws import AwsClients
from common.settings import Settings
from common.tables import table_specs
from processor.checkpoint import CheckpointStore, FileKey
from processor.documents import FileContext, to_document
from processor.jobs import Job, JobsLog
from processor.parsers import parser_for
from processor.sinks.openobserve import OpenObserveClient
from processor.sinks.s3_archive import decompress

log = structlog.get_logger(__name__)

ARCHIVE_LOOKBACK_SEC = 2 * 86400  # archive jobs of a range may predate its shipping job


@dataclass
class VerifyReport:
    ranges_checked: int = 0
    events_checked: int = 0
    missing: int = 0
    reshipped: int = 0
    unknown: int = 0
    not_archived: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Everything is in OpenObserve now (or was re-shipped), and nothing is unsettled."""
        return self.unknown == 0 and not self.problems and self.missing == self.reshipped

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


class _ObjectCache:
    """The last archive object read, decompressed: ranges of a file come in offset order."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._key = ""
        self._data = b""

    async def get(self, key: str) -> bytes:
        if key != self._key:
            answer = await self._s3.get_object(Bucket=self._bucket, Key=key)
            async with answer["Body"] as body:
                raw = await body.read()
            self._key, self._data = key, decompress(key.rsplit(".", 1)[-1], raw)
        return self._data


async def verify(settings: Settings, since_sec: float, dry_run: bool = False) -> VerifyReport:
    report = VerifyReport()
    specs = {s.name: s for s in table_specs(settings.tables)}
    now = time.time()
    aws = AwsClients(settings.aws)
    async with AsyncExitStack() as stack:
        ddb = await stack.enter_async_context(aws.client("dynamodb"))
        s3 = await stack.enter_async_context(aws.client("s3"))
        o2 = await stack.enter_async_context(OpenObserveClient(settings.openobserve))
        jobs = await JobsLog(ddb, specs[settings.tables.jobs_table]).recent(
            now - since_sec - ARCHIVE_LOOKBACK_SEC
        )
        tracking = CheckpointStore(ddb, specs[settings.tables.tracking_table], "verify", 1)
        archived: dict[tuple[str, str], list[Job]] = defaultdict(list)
        shipped: dict[tuple[str, str], list[Job]] = defaultdict(list)
        for job in jobs:
            key = (job.resource_id, job.generation)
            if job.sink == "s3" and job.outcome == "ok" and job.s3_key:
                archived[key].append(job)
            elif job.sink == "openobserve" and job.started_at >= now - since_sec:
                shipped[key].append(job)
        cache = _ObjectCache(s3, settings.s3.s3_bucket)
        streams = settings.openobserve.streams()
        for key, ranges in sorted(shipped.items()):
            row = await tracking.load(FileKey(*key))
            for job in sorted(ranges, key=lambda j: j.start):
                data = await _bytes(cache, archived.get(key, []), job.start, job.end)
                if data is None:
                    report.not_archived += 1
                    continue
                context = FileContext(
                    account=str(row.attributes.get("account", "")),
                    region=str(row.attributes.get("region", "")),
                    cluster_id=str(row.attributes.get("cluster_id", "")),
                    instance_id=job.instance_id,
                    engine=str(row.attributes.get("engine", "")),
                    log_type=job.log_type,
                    log_file_name=job.log_file_name,
                    resource_id=job.resource_id,
                    generation=job.generation,
                )
                await _check_range(o2, streams[job.log_type], job, data, context, report, dry_run)
    log.info("verify_done", **report.to_dict())
    return report


async def _bytes(cache: _ObjectCache, objects: list[Job], start: int, end: int) -> bytes | None:
    """Bytes `[start, end)` of the file from its archive objects, or None when not all there."""
    pieces: list[bytes] = []
    at = start
    for obj in sorted(objects, key=lambda j: j.start):
        if obj.end <= at or obj.start > at:
            continue
        data = await cache.get(obj.s3_key)
        pieces.append(data[at - obj.start : min(end, obj.end) - obj.start])
        at = min(end, obj.end)
        if at >= end:
            return b"".join(pieces)
    return None


async def _check_range(
    o2: OpenObserveClient,
    stream: str,
    job: Job,
    data: bytes,
    context: FileContext,
    report: VerifyReport,
    dry_run: bool,
) -> None:
    parser = parser_for(job.log_type, job.start, state=json.loads(job.parser_state or "{}"))
    events = parser.feed(data) + parser.flush()
    docs = [to_document(e, context, job.batch_id) for e in events]
    report.ranges_checked += 1
    report.events_checked += len(docs)
    if len(docs) != job.events:
        report.problems.append(
            f"{job.instance_id}/{job.log_file_name} [{job.start}, {job.end}): the archive gives "
            f"{len(docs)} events, the job shipped {job.events}"
        )
    if not docs:
        return
    stamps = [int(d["_timestamp"]) for d in docs]
    # From the events' own first time to the later of their last time and now: an event
    # outside the ingestion window was stored with `_timestamp` = the time it was shipped
    # (before now), and one ahead of this clock (OpenObserve takes up to 24 h in the future)
    # is stored at its own time — a range ending at now would call it absent and ship it again.
    check = await o2.which_stored(
        stream,
        [d["event_id"] for d in docs],
        min(stamps) - 1_000_000,
        max(max(stamps) + 1_000_000, int(time.time() * 1_000_000) + 60_000_000),
        last_write_us=None,
        batch_ids=[job.batch_id],
    )
    report.unknown += len(check.unknown)
    missing = [d for d in docs if d["event_id"] in check.absent]
    report.missing += len(missing)
    if missing:
        log.warning(
            "verify_found_missing_events",
            instance_id=job.instance_id,
            file=job.log_file_name,
            start=job.start,
            end=job.end,
            missing=len(missing),
        )
    if missing and not dry_run:
        result = await o2.ship(stream, missing)
        report.reshipped += len(result.delivered)
