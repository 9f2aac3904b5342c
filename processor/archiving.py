"""The S3 side of a rotated file: its bytes past `archived_offset` cut into objects of about
`PROCESSOR_ARCHIVE_RANGE_BYTES` (multipart, bounded memory), each logged in `jobs` and then
checkpointed once stored (DESIGN §3 key, sha256 and event count in metadata). Written only from a
rotated file's read, never from an active one (no minute-sized objects)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from common.log_files import text_name
from common.messages import LogFileMessage
from processor import metrics
from processor.checkpoint import Checkpoint, CheckpointStore
from processor.jobs import Job, JobsLog
from processor.sinks.s3_archive import RangeArchiver
from processor.sinks.s3_keys import archive_key


class ArchiveSink:
    """Cuts the rotated file's bytes past `archived_offset` into S3 objects of about
    `range_bytes`, each checkpointed (`archived_offset`) and logged in `jobs` once stored."""

    def __init__(
        self,
        s3: Any,
        store: CheckpointStore,
        jobs: JobsLog,
        msg: LogFileMessage,
        start: int,
        *,
        bucket: str,
        prefix: str,
        compression: str,
        range_bytes: int,
    ) -> None:
        self._s3, self._store, self._jobs = s3, store, jobs
        self._bucket, self._prefix, self._compression = bucket, prefix, compression
        self._range_bytes = range_bytes
        self._msg = msg
        self.position = start
        self._object_start = start
        self._writer: RangeArchiver | None = None
        self.objects = 0
        self._day = datetime.fromtimestamp(msg.last_written / 1000, UTC)

    async def write(self, cp: Checkpoint, data: bytes) -> Checkpoint:
        while data:
            if self._writer is None:
                self._writer = RangeArchiver(
                    self._s3, self._bucket, self._compression, f"{self._prefix}staging/"
                )
                self._object_start = self.position
            room = self._range_bytes - self._writer.raw_bytes
            piece, data = data[:room], data[room:]
            await self._writer.write(piece)
            self.position += len(piece)
            if self._writer.raw_bytes >= self._range_bytes:
                cp = await self._close(cp, None)
        return cp

    async def close(self, cp: Checkpoint, events: list[tuple[int, int, int]]) -> Checkpoint:
        if self._writer is None:
            return cp
        return await self._close(cp, events)

    async def abort(self) -> None:
        if self._writer is not None:
            await self._writer.abort()
            self._writer = None

    async def _close(self, cp: Checkpoint, events: list[tuple[int, int, int]] | None) -> Checkpoint:
        assert self._writer is not None
        msg = self._msg
        start, end = self._object_start, self.position
        counted = _events_within(events or [], start, end)
        key = archive_key(
            self._prefix, msg.engine, msg.cluster_id, msg.instance_id, str(msg.log_type),
            text_name(msg.log_file_name), start, end, self._day, self._compression,
        )  # fmt: skip
        started = time.monotonic()
        stored = await self._writer.close(key, counted)
        metrics.S3_BYTES.labels(str(msg.log_type)).inc(stored.stored_bytes)
        self._writer = None
        self.objects += 1
        # The job before the checkpoint: verify finds a range's bytes through these jobs, and a
        # crash between the two left an archived range verify could not read, so the events
        # OpenObserve lost in it were never re-shipped (chaos seed 2294126050). A crash after
        # the job writes the same object again (the key is deterministic) and a second job.
        await self._jobs.record(
            s3_job(
                msg,
                self._store.owner,
                start,
                end,
                events=max(stored.events, 0),
                duration_s=time.monotonic() - started,
                s3_key=key,
            )
        )
        return await self._store.archived(cp, end)


def s3_job(msg: LogFileMessage, owner: str, start: int, end: int, **fields: Any) -> Job:
    """The `jobs` row of an archive range of the file `msg` names (`fields` override)."""
    row: dict[str, Any] = {"events": 0, "outcome": "ok", "duration_s": 0.0, **fields}
    return Job(
        instance_id=msg.instance_id,
        resource_id=msg.resource_id,
        generation=msg.generation,
        log_file_name=msg.log_file_name,
        log_type=str(msg.log_type),
        sink="s3",
        start=start,
        end=end,
        owner=owner,
        **row,
    )


def _events_within(ranges: list[tuple[int, int, int]], start: int, end: int) -> int | None:
    """Events of the shipped ranges that tile `[start, end)` exactly, or None when this pass
    did not parse all of it (then the object carries no count rather than a wrong one)."""
    inside = [r for r in ranges if start <= r[0] and r[1] <= end]
    covered = sum(r[1] - r[0] for r in inside)
    return sum(r[2] for r in inside) if covered == end - start else None
