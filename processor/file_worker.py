"""One file generation, from a Kafka message to its checkpoint: the processor's per-message flow.

docs/design.md §5 in order: take the lease; finish a pending range left by a crash; read the bytes
past the checkpoint; ship them to OpenObserve range by range; archive them to S3 from the rotated
file; release the lease. Two ways to read, chosen by the message:

* **rotated** (complete, will not grow): one `downloadCompleteLogFile` stream from byte 0 feeds
  both sinks — the bytes past `archived_offset` go to S3 objects of about
  `archive_range_bytes`, the bytes past `shipped_offset` to the parser and OpenObserve. Bytes
  before both cursors are skipped, never parsed twice. If the REST endpoint refuses (403 for a
  role without `rds:DownloadCompleteDBLogFile`, 404), the same bytes come from portion calls.
* **active** (a growing file whose log type is in `FOLLOW_ACTIVE`): portion calls from the
  stored marker, events shipped as entries complete. Nothing goes to S3 from an active file:
  the archive is written once, from the rotated file (no minute-sized objects).

Each message's file is read with the RDS access of its (account, region) (processor/accounts.py):
that pair's client behind the shared budget, and its credentials for the REST download.

The message is only a hint: everything is decided from the checkpoint, so a duplicated or stale
message costs one read of the row (and, for an active file, one portion call).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from common.log_files import generation_of, generation_of_marker, is_active_name
from common.messages import LogFileMessage
from processor import metrics
from processor.accounts import RdsAccess, RdsAccessProvider
from processor.archiving import ArchiveSink, s3_job
from processor.checkpoint import Checkpoint, CheckpointStore, FileKey, LeaseHeld, LeaseLost
from processor.documents import FileContext
from processor.download import (
    End,
    EndReason,
    Page,
    Position,
    read_portions,
    stream_complete_file,
)
from processor.download.complete import text_of
from processor.download.errors import BinaryData, CompleteDownloadRefused, LineTooLong
from processor.jobs import JobsLog
from processor.ranges import Range, RangeCutter
from processor.shipping import DeadLetter, EventSink, RangeShipper

log = structlog.get_logger(__name__)
LEASE_MARGIN_SEC = 0.5  # past a held lease's end before asking again (clock skew, a late write)


@dataclass(frozen=True)
class WorkerConfig:
    range_bytes: int
    archive_range_bytes: int
    follow_active: frozenset[str]
    compression: str
    bucket: str
    prefix: str
    visibility_lag_sec: float = 15.0  # OPENOBSERVE_VISIBILITY_LAG_SEC
    complete_download: bool = True  # PROCESSOR_COMPLETE_DOWNLOAD: false = portions only


@dataclass(frozen=True)
class FileResult:
    """What one message led to; returned as data for the consumer's metrics and the tests."""

    outcome: str  # complete | caught_up | waiting_rotation | held_elsewhere | vanished | lease_lost
    shipped_offset: int = 0
    archived_offset: int = 0
    events: int = 0
    ranges: int = 0
    archived_objects: int = 0
    complete_file_calls: int = 0
    portion_fallback: bool = False


@dataclass(frozen=True)
class WorkerDeps:
    """The clients a worker uses; built once per process (processor/service.py)."""

    store: CheckpointStore
    jobs: JobsLog
    sink: EventSink
    streams: dict[str, str]
    s3: Any
    # The RDS access of a message's (account, region): every RDS call goes through its door.
    rds: RdsAccessProvider
    http: httpx.AsyncClient
    dead_letter: DeadLetter


class FileWorker:
    def __init__(self, config: WorkerConfig, deps: WorkerDeps) -> None:
        self.config = config
        self.deps = deps

    async def handle(self, msg: LogFileMessage) -> FileResult:
        key = FileKey(msg.resource_id, msg.generation)
        store = self.deps.store
        cp = await self._take(msg, key)
        if cp is None:
            return FileResult("held_elsewhere")
        run = _Run(cp)
        try:
            if msg.rotated:
                result = await self._rotated(run, msg)
            elif str(msg.log_type) in self.config.follow_active:
                result = await self._active(run, msg)
            else:
                result = FileResult("waiting_rotation", cp.shipped_offset, cp.archived_offset)
        except LeaseLost:
            log.warning("lease_lost", instance_id=msg.instance_id, file=msg.log_file_name)
            return FileResult("lease_lost")
        except BaseException:
            await self._release_after_failure(run)
            raise
        await store.release(run.cp, processor_status=result.outcome)
        return result

    async def _take(self, msg: LogFileMessage, key: FileKey) -> Checkpoint | None:
        """The file's lease: now, or once its holder's lease runs out unrenewed. A processor
        killed mid-file leaves its lease behind, and its messages come back to another at once
        (Kafka may reassign before the lease ends): dropping one then would leave the file
        unread until it is announced again. None: a live holder renewed it (it finishes the
        file)."""
        for wait in (True, False):
            try:
                return await self.deps.store.acquire(
                    key,
                    instance_id=msg.instance_id,
                    log_file_name=msg.log_file_name,
                    log_type=str(msg.log_type),
                    cluster_id=msg.cluster_id,
                    engine=msg.engine,
                    account=msg.account,
                    region=msg.region,
                )
            except LeaseHeld as held:
                if wait:
                    await asyncio.sleep(max(0.0, held.until - time.time()) + LEASE_MARGIN_SEC)
                    continue
                log.info("file_held_elsewhere", instance_id=msg.instance_id,
                         file=msg.log_file_name, owner=held.owner)  # fmt: skip
        return None

    async def _release_after_failure(self, run: _Run) -> None:
        """Give the lease back so that the retry (ours or another's) need not wait for expiry.

        The checkpoint is consistent at every step, so releasing is always safe; failing to
        release only costs that wait, and the original error is the one worth raising."""
        try:
            await self.deps.store.release_if_held(run.cp.key, processor_status="failed")
        except Exception as exc:  # noqa: BLE001 - reported, the original error propagates
            log.warning("lease_release_failed", key=str(run.cp.key), error=repr(exc))

    # ------------------------------------------------------------------ rotated files
    async def _rotated(self, run: _Run, msg: LogFileMessage) -> FileResult:
        cp = run.cp
        if cp.status == "complete" and cp.pending is None:
            return FileResult("complete", cp.shipped_offset, cp.archived_offset)
        cutter = self._cutter(cp, msg)
        shipper = self._shipper(msg)
        cfg, deps = self.config, self.deps
        archive = ArchiveSink(
            deps.s3, deps.store, deps.jobs, msg, cp.archived_offset, bucket=cfg.bucket,
            prefix=cfg.prefix, compression=cfg.compression, range_bytes=cfg.archive_range_bytes,
        )  # fmt: skip
        stats = _Stats()
        pos = 0
        try:
            async for chunk in self._complete_bytes(msg, stats):
                end = pos + len(chunk)
                if end > archive.position:
                    run.cp = await archive.write(run.cp, chunk[max(0, archive.position - pos) :])
                if end > cutter.position:
                    ranges = cutter.feed(chunk[max(0, cutter.position - pos) :])
                    await self._ship_all(run, shipper, ranges, stats)
                pos = end
            await self._ship_all(run, shipper, cutter.finish(), stats)
            run.cp = await archive.close(run.cp, events=stats.events_by_offset)
        except BaseException:
            await archive.abort()
            raise
        run.cp = await self.deps.store.update(run.cp, end_offset=pos)
        return FileResult(
            "complete",
            run.cp.shipped_offset,
            run.cp.archived_offset,
            stats.events,
            stats.ranges,
            archive.objects,
            stats.complete_calls,
            stats.fallback,
        )

    async def _complete_bytes(self, msg: LogFileMessage, stats: _Stats) -> AsyncIterator[bytes]:
        """The whole file from byte 0: the REST stream, or portions when it is refused (or
        when `PROCESSOR_COMPLETE_DOWNLOAD` is off). Bytes the portion API cannot give (binary
        data, a line over 1 MiB) come from the REST stream after all, from where portions
        stopped."""
        access = await self.deps.rds.access(msg.account, msg.region)
        if self.config.complete_download:
            async for chunk in self._complete_stream(msg, access, stats):
                yield chunk
            if not stats.fallback:
                return
        pos = 0
        unreadable: BinaryData | LineTooLong | None = None
        try:
            async for item in read_portions(
                access.api, msg.instance_id, msg.log_file_name, Position(0, None)
            ):
                if isinstance(item, Page):
                    metrics.BYTES_DOWNLOADED.labels("portion", str(msg.log_type)).inc(
                        len(item.data)
                    )
                    pos += len(item.data)
                    yield item.data
        except (BinaryData, LineTooLong) as exc:
            if stats.fallback:  # the REST endpoint refused already: nothing can read it
                raise
            unreadable = exc
        if unreadable is None:
            return
        log.warning("portions_unreadable_using_complete_download", instance_id=msg.instance_id,
                    file=msg.log_file_name, offset=pos, error=str(unreadable))  # fmt: skip
        async for chunk in self._complete_stream(msg, access, stats, skip=pos):
            yield chunk
        if stats.fallback:
            raise unreadable

    async def _complete_stream(
        self, msg: LogFileMessage, access: RdsAccess, stats: _Stats, skip: int = 0
    ) -> AsyncIterator[bytes]:
        """The REST stream past its first `skip` bytes; sets `stats.fallback` (and yields
        nothing) when it is refused."""
        credentials = await access.credentials()
        stats.complete_calls += 1
        delivered = 0
        stream = stream_complete_file(
            self.deps.http,
            access.endpoint,
            credentials,
            access.region,
            msg.instance_id,
            msg.log_file_name,
            api=access.api,
        )
        if msg.log_file_name.endswith(".gz"):
            stream = text_of(stream)
        try:
            async for whole in stream:
                metrics.BYTES_DOWNLOADED.labels("complete", str(msg.log_type)).inc(len(whole))
                chunk = whole[max(0, skip - delivered) :]
                delivered += len(whole)
                if chunk:
                    yield chunk
            return
        except CompleteDownloadRefused as refused:
            if delivered:
                raise
            stats.fallback = True
            metrics.COMPLETE_FALLBACKS.labels(str(refused.status or refused.code)).inc()
            log.warning(
                "complete_download_refused_using_portions",
                instance_id=msg.instance_id,
                file=msg.log_file_name,
                status=refused.status,
                code=refused.code,
            )

    # ------------------------------------------------------------------ active files
    async def _active(self, run: _Run, msg: LogFileMessage) -> FileResult:
        cp = run.cp
        cutter = self._cutter(cp, msg)
        shipper = self._shipper(msg)
        stats = _Stats()
        start = Position(cp.marker_offset, cp.marker) if cp.marker else Position(0, None)
        # (offset, marker) of page ends, newest last; the start's own, so that a range ending
        # before the first new page's end keeps it (a resume without a marker would read a
        # reused live name from "0": the next hour's file once it has turned).
        marks: list[tuple[int, str]] = [(cp.marker_offset, cp.marker)] if cp.marker else []
        own = generation_of(msg.log_file_name, msg.last_written, msg.size).key
        outcome = "caught_up"
        access = await self.deps.rds.access(msg.account, msg.region)
        reader = read_portions(access.api, msg.instance_id, msg.log_file_name, start)
        try:
            async for item in reader:
                if isinstance(item, Page):
                    metrics.BYTES_DOWNLOADED.labels("portion", str(msg.log_type)).inc(
                        len(item.data)
                    )
                    if _moved_on(msg, own, item.marker):
                        outcome = "waiting_rotation"
                        break
                    if item.end > cutter.position:
                        ranges = cutter.feed(item.data[max(0, cutter.position - item.offset) :])
                        marks.append((item.end, item.marker))
                        await self._ship_all(run, shipper, ranges, stats, marks)
                    continue
                outcome, ranges = await self._ended(run, msg, cutter, item)
                await self._ship_all(run, shipper, ranges, stats, marks)
        except (BinaryData, LineTooLong) as exc:
            # What portions cannot give, the rotated file's complete download will: from the
            # checkpoint, where the rest of this generation is read once it rotates.
            log.warning("active_read_left_to_rotation", instance_id=msg.instance_id,
                        file=msg.log_file_name, shipped_offset=run.cp.shipped_offset,
                        error=str(exc))  # fmt: skip
            outcome = "waiting_rotation"
        return FileResult(outcome, run.cp.shipped_offset, run.cp.archived_offset, stats.events,
                          stats.ranges)  # fmt: skip

    async def _ended(
        self, run: _Run, msg: LogFileMessage, cutter: RangeCutter, end: End
    ) -> tuple[str, list[Range]]:
        """The outcome of an active read's `End`, and the ranges it lets go."""
        if end.reason is EndReason.SEGMENT_END:  # Marker "0": the old generation is complete
            return "segment_end", cutter.finish()
        if end.reason is EndReason.VANISHED and is_active_name(msg.log_file_name):
            # A reused live name is missing around the hour (it is being rotated): the rest of
            # this generation comes from the rotated name, and its last entry may go on there.
            return "waiting_rotation", cutter.flush_committed()
        if end.reason is EndReason.VANISHED:
            ranges = cutter.finish()
            if cutter.position > run.cp.archived_offset:  # else nothing read is unarchived
                await self._report_vanished(run.cp, msg, cutter.position)
            return "vanished", ranges
        return "caught_up", cutter.flush_committed()

    async def _report_vanished(self, cp: Checkpoint, msg: LogFileMessage, read_to: int) -> None:
        """A file gone before rotation: its bytes never reach S3. Said loudly, kept in `jobs`."""
        log.error(
            "file_vanished_before_archive",
            instance_id=msg.instance_id,
            file=msg.log_file_name,
            never_archived_from=cp.archived_offset,
            never_archived_to=read_to,
        )
        await self.deps.jobs.record(
            s3_job(
                msg,
                self.deps.store.owner,
                cp.archived_offset,
                read_to,
                outcome="failed",
                error="file vanished before rotation: this range never reached S3",
            )
        )

    # ------------------------------------------------------------------ shared
    def _cutter(self, cp: Checkpoint, msg: LogFileMessage) -> RangeCutter:
        pending = cp.pending
        return RangeCutter(
            str(msg.log_type),
            cp.shipped_offset,
            cp.parser_state,
            self.config.range_bytes,
            first_end=pending.end if pending else None,
            first_state=pending.parser_state if pending else None,
        )

    def _shipper(self, msg: LogFileMessage) -> RangeShipper:
        context = FileContext(
            account=msg.account,
            region=msg.region,
            cluster_id=msg.cluster_id,
            instance_id=msg.instance_id,
            engine=msg.engine,
            log_type=str(msg.log_type),
            log_file_name=msg.log_file_name,
            resource_id=msg.resource_id,
            generation=msg.generation,
        )
        return RangeShipper(
            self.deps.store,
            self.deps.jobs,
            self.deps.sink,
            self.deps.streams[str(msg.log_type)],
            context,
            self.deps.dead_letter,
            self.config.visibility_lag_sec,
        )

    async def _ship_all(
        self,
        run: _Run,
        shipper: RangeShipper,
        ranges: list[Range],
        stats: _Stats,
        marks: list[tuple[int, str]] | None = None,
    ) -> None:
        for rng in ranges:
            marker, marker_offset = _marker_at(marks or [], rng.end)
            shipped = await shipper.ship(run.cp, rng, marker, marker_offset)
            run.cp = shipped.checkpoint
            stats.events += shipped.events
            stats.ranges += 1
            stats.events_by_offset.append((rng.start, rng.end, shipped.events))


def _moved_on(msg: LogFileMessage, own: str, marker: str) -> bool:
    """A page of a reused live name from the next hour's file: the rest of generation `own` is
    the rotated name's, read from the checkpoint when that is announced (never this page)."""
    names = generation_of_marker(msg.log_file_name, marker, msg.last_written)
    return names is not None and names != own


def _marker_at(marks: list[tuple[int, str]], offset: int) -> tuple[str | None, int]:
    """The newest page marker at or before `offset` (a resume point), and drop older ones."""
    best: tuple[str | None, int] = (None, 0)
    keep = 0
    for i, (end, marker) in enumerate(marks):
        if end <= offset:
            best = (marker, end)
            keep = i
    del marks[:keep]
    return best


@dataclass
class _Run:
    cp: Checkpoint


@dataclass
class _Stats:
    events: int = 0
    ranges: int = 0
    complete_calls: int = 0
    fallback: bool = False
    events_by_offset: list[tuple[int, int, int]] = field(default_factory=list)
