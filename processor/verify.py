"""`aurora-processor verify`: hold OpenObserve against the jobs table, and repair it from S3.

Why it exists: OpenObserve can answer 200 with matching counts for records it never wrote (it
counts a record before its disk write and only logs a failed write). No sender can see that; the
S3 archive, which holds the raw bytes, and the jobs table, which says which events each range
held, can. For every range shipped in the window, verify re-reads the range's bytes from its S3
objects, parses them again from the state the range started with (recorded in the job), derives
the same documents (event ids and batch id are deterministic), asks OpenObserve which it holds —
settled answers only — and re-ships the ones it proves absent. Before re-shipping, it asks once
more by `event_id` alone over a wide window: an event stored under another batch or at another
time is found there and not shipped twice (a second copy is a harm of its own).

Ranges whose bytes are not in S3 yet (an active file not rotated) are counted, not guessed at.
Ranges whose bytes never will be (the file vanished before rotation: its instance was deleted)
cannot be repaired; verify counts the batch's events in OpenObserve against the job's count and
names every range that lost events, as `lost` — an operator has to hear of a loss nobody can
repair, with the instance, file and byte range (exit code 3).

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
from common.settings import OpenObserveSettings, Settings
from common.tables import table_specs
from processor.checkpoint import CheckpointStore, FileKey
from processor.documents import FileContext, to_document
from processor.jobs import Job, JobsLog
from processor.parsers import parser_for
from processor.sinks.openobserve import OpenObserveClient, PartialAnswer, SearchError
from processor.sinks.s3_archive import decompress

log = structlog.get_logger(__name__)

ARCHIVE_LOOKBACK_SEC = 2 * 86400  # archive jobs of a range may predate its shipping job
HOUR_US = 3_600_000_000
EXIT_OK, EXIT_UNSETTLED, EXIT_LOST = 0, 1, 3
VANISHED_WHY = "the file vanished before rotation (instance deleted?): its bytes never reached S3"


@dataclass(frozen=True)
class LostRange:
    """A shipped range OpenObserve holds only part of, whose bytes no archive holds."""

    instance_id: str
    log_file_name: str
    resource_id: str
    generation: str
    start: int
    end: int
    events: int
    stored: int
    why: str

    @property
    def lost(self) -> int:
        return self.events - self.stored

    @classmethod
    def of(cls, job: Job, stored: int, why: str) -> LostRange:
        return cls(job.instance_id, job.log_file_name, job.resource_id, job.generation,
                   job.start, job.end, job.events, stored, why)  # fmt: skip


@dataclass
class VerifyReport:
    ranges_checked: int = 0
    events_checked: int = 0
    missing: int = 0
    reshipped: int = 0
    unknown: int = 0
    not_archived: int = 0
    found_elsewhere: int = 0  # absent from their batch, stored all the same: not shipped again
    lost: list[LostRange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        """Every check had an answer and every repair was made."""
        return self.unknown == 0 and not self.problems and self.missing == self.reshipped

    @property
    def ok(self) -> bool:
        """Everything is in OpenObserve now (or was re-shipped), and nothing is lost for good."""
        return self.settled and not self.lost

    @property
    def exit_code(self) -> int:
        """0 all there; 1 something unsettled (run again later); 3 events lost for good."""
        return EXIT_UNSETTLED if not self.settled else EXIT_LOST if self.lost else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        out = {**asdict(self), "ok": self.ok}
        out["lost"] = [{**asdict(r), "lost": r.lost} for r in self.lost]
        out["events_lost"] = sum(r.lost for r in self.lost)
        return out


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
        never_archived: dict[tuple[str, str], list[Job]] = defaultdict(list)  # vanish reports
        for job in jobs:
            key = (job.resource_id, job.generation)
            if job.sink == "s3" and job.outcome == "ok" and job.s3_key:
                archived[key].append(job)
            elif job.sink == "s3" and job.outcome == "failed":
                never_archived[key].append(job)
            elif job.sink == "openobserve" and job.started_at >= now - since_sec:
                shipped[key].append(job)
        # A range whose owner died between its job and its checkpoint is recorded again by its
        # recovery, under the same batch: check it once.
        shipped = {k: _once(ranges) for k, ranges in shipped.items()}
        cache = _ObjectCache(s3, settings.s3.s3_bucket)
        streams = settings.openobserve.streams()
        for key, ranges in sorted(shipped.items()):
            row = await tracking.load(FileKey(*key))
            for job in sorted(ranges, key=lambda j: j.start):
                data = await _bytes(cache, archived.get(key, []), job.start, job.end)
                if data is None and _vanished(row.attributes, never_archived.get(key, []), job):
                    await _count_unarchived(o2, streams[job.log_type], job, report)
                    continue
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


def _once(jobs: list[Job]) -> list[Job]:
    """One job per (range, batch)."""
    return list({(j.start, j.end, j.batch_id): j for j in jobs}.values())


def _vanished(row: dict[str, Any], reports: list[Job], job: Job) -> bool:
    """The range's bytes will never be archived: discovery marked the file vanished, or one of
    the processor's reports (`reports`, of this file) says the range never reached S3."""
    return row.get("status") == "vanished" or any(r.start <= job.start < r.end for r in reports)


async def _count_unarchived(
    o2: OpenObserveClient, stream: str, job: Job, report: VerifyReport
) -> None:
    """The batch's distinct events in OpenObserve against the job's count: nothing else is left
    to hold them against. Stored at their own time (at most the ingestion window before the
    shipping) or at the time they were sent, so the window runs from the ingestion window before
    the job to the future window after now."""
    low, high = _wide_window(o2.settings, _shipped_us(job), int(time.time() * 1_000_000))
    report.ranges_checked += 1
    report.not_archived += 1
    try:
        stored = len(await o2.stored_event_ids(stream, [job.batch_id], low, high))
    except (PartialAnswer, SearchError) as exc:
        report.unknown += job.events
        log.warning(
            "verify_unarchived_range_unsettled",
            **_where(job),
            error=f"{type(exc).__name__}: {exc}",
        )
        return
    if stored >= job.events:
        return
    lost = LostRange.of(job, stored, VANISHED_WHY + (f"; {job.error}" if job.error else ""))
    report.lost.append(lost)
    log.error("verify_found_events_lost_for_good", lost=lost.lost, **asdict(lost))


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
    stamps = [int(d["_timestamp"]) for d, e in zip(docs, events, strict=True) if e.event_time]
    # From the events' own first time to the later of their last time and now: an event
    # outside the ingestion window was stored with `_timestamp` = the time it was shipped
    # (before now), and one ahead of this clock (OpenObserve takes up to 24 h in the future)
    # is stored at its own time — a range ending at now would call it absent and ship it again.
    # An event with no time of its own was stored at the time it was shipped, which may lie
    # before every timed event of its range (an RDS clock ahead of ours): from then on too.
    low = min(stamps, default=_shipped_us(job))
    if len(stamps) < len(docs):
        low = min(low, _shipped_us(job) - HOUR_US)
    check = await o2.which_stored(
        stream,
        [d["event_id"] for d in docs],
        low - 1_000_000,
        max(max(stamps, default=0) + 1_000_000, int(time.time() * 1_000_000) + 60_000_000),
        last_write_us=None,
        batch_ids=[job.batch_id],
    )
    report.unknown += len(check.unknown)
    missing = await _not_elsewhere(
        o2, stream, job, [d for d in docs if d["event_id"] in check.absent], report
    )
    report.missing += len(missing)
    if missing:
        log.warning(
            "verify_found_missing_events",
            **_where(job),
            missing=len(missing),
        )
    if missing and not dry_run:
        result = await o2.ship(stream, missing)
        report.reshipped += len(result.delivered)


def _where(job: Job) -> dict[str, Any]:
    """A range's place, for the log."""
    return {
        "instance_id": job.instance_id,
        "file": job.log_file_name,
        "start": job.start,
        "end": job.end,
    }


def _wide_window(settings: OpenObserveSettings, earliest: int, latest: int) -> tuple[int, int]:
    """Every `_timestamp` OpenObserve may have given events sent from `earliest` to `latest`
    (µs): their own time, as old as its ingestion window allows, or as far ahead as its future
    window does, or the time they were sent."""
    return (
        earliest - int((settings.openobserve_ingest_window_hours + 1) * HOUR_US),
        latest + int((settings.openobserve_ingest_future_hours + 1) * HOUR_US),
    )


def _shipped_us(job: Job) -> int:
    """When the job began shipping (µs): a recovered range's first send may be earlier."""
    return int((job.started_at - job.duration_s) * 1_000_000)


async def _not_elsewhere(
    o2: OpenObserveClient,
    stream: str,
    job: Job,
    candidates: list[dict[str, Any]],
    report: VerifyReport,
) -> list[dict[str, Any]]:
    """Of the documents absent from their batch, those absent by `event_id` alone over a wide
    window too. One found there (another batch, another `_timestamp`) is logged with where it
    is, counted in `found_elsewhere`, and not shipped again."""
    if not candidates:
        return []
    stamps = [int(d["_timestamp"]) for d in candidates]
    low, high = _wide_window(
        o2.settings,
        min(min(stamps), _shipped_us(job)),
        max(max(stamps), int(time.time() * 1_000_000)),
    )
    check = await o2.which_stored(
        stream, [d["event_id"] for d in candidates], low, high, last_write_us=None
    )
    report.unknown += len(check.unknown)
    found = [d for d in candidates if d["event_id"] in check.stored]
    if found:
        report.found_elsewhere += len(found)
        log.warning(
            "verify_found_events_outside_their_batch",
            **_where(job),
            batch_id=job.batch_id,
            event_ids=[d["event_id"] for d in found][:20],
            timestamps=[d["_timestamp"] for d in found][:20],
        )
    return [d for d in candidates if d["event_id"] in check.absent]
