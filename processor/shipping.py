"""Shipping one range to OpenObserve under the write-ahead intent (docs/design.md §5 step 4).

Per range: documents → `pending` intent in the tracking row → OpenObserve → `jobs` row →
conditional checkpoint (`shipped_offset`, marker, parser state, `pending` cleared). A crash
anywhere leaves either no intent (nothing was sent) or an intent naming the batch, its byte
range and its time range; the next owner re-cuts the same range (processor/ranges.py), asks
OpenObserve which of its `event_id`s it holds, and sends only the others — so a retry never
duplicates and a crash never loses.

Events OpenObserve refuses for good (400/401/403, an invalid event) are not retried: they are
written to the dead-letter topic with the server's answer, the range is checkpointed anyway (its
raw bytes are in the S3 archive, and `aurora-processor verify` can re-ship them once the cause
is fixed), and the partition moves on.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from processor import metrics
from processor.checkpoint import Checkpoint, CheckpointStore, Intent
from processor.documents import FileContext, timestamp_us, to_document
from processor.errors import DeliveryUnsettled
from processor.jobs import Job, JobsLog, Outcome
from processor.ranges import Range
from processor.sinks.openobserve import PermanentFailure, ShipResult, StoredCheck

log = structlog.get_logger(__name__)

LEASE_MARGIN_SEC = 30.0  # never start sending with less lease than this left


class EventSink(Protocol):
    """What the shipper needs of the OpenObserve client (processor/sinks/openobserve)."""

    async def ship(self, stream: str, events: Iterable[Mapping[str, Any]]) -> ShipResult: ...

    async def which_stored(
        self,
        stream: str,
        event_ids: Iterable[str],
        start_us: int,
        end_us: int,
        *,
        last_write_us: int | None,
        batch_ids: Sequence[str] = (),
    ) -> StoredCheck: ...


DeadLetter = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Shipped:
    checkpoint: Checkpoint
    events: int
    delivered: int
    refused: int
    recovered: bool


class RangeShipper:
    """Ships the ranges of one file generation; one per file being processed."""

    def __init__(
        self,
        store: CheckpointStore,
        jobs: JobsLog,
        sink: EventSink,
        stream: str,
        context: FileContext,
        dead_letter: DeadLetter,
        visibility_lag_sec: float = 15.0,
    ) -> None:
        self._visibility_lag = visibility_lag_sec
        self._store = store
        self._jobs = jobs
        self._sink = sink
        self._stream = stream
        self._context = context
        self._dead_letter = dead_letter

    async def ship(
        self, cp: Checkpoint, rng: Range, marker: str | None = None, marker_offset: int = 0
    ) -> Shipped:
        """Ship `rng` (it must start at the checkpoint) and checkpoint it; or, when the
        checkpoint has a pending intent for exactly this range, finish that one."""
        started = time.monotonic()
        state_at_start = json.dumps(cp.parser_state, sort_keys=True)
        recovering = cp.pending is not None
        if cp.pending is not None:
            if (cp.pending.start, cp.pending.end) != (rng.start, rng.end):
                raise ValueError(f"pending {cp.pending} does not match the range {rng}")
            batch_id = cp.pending.batch_id
        else:
            batch_id = uuid.uuid4().hex
        # One ingest time for the range's events that have no time of their own, so that the
        # intent's time range (from the events) and the documents (made later) agree.
        now = datetime.now(UTC)
        events = len(rng.events)
        to_send: Iterable[dict[str, Any]]
        if cp.pending is None:
            if self._store.lease_left(cp) < LEASE_MARGIN_SEC:
                cp = await self._store.renew(cp)
            stamps = [timestamp_us(e, now) for e in rng.events]
            intent = Intent(
                batch_id=batch_id,
                start=rng.start,
                end=rng.end,
                events=events,
                marker=marker,
                marker_offset=marker_offset,
                parser_state=dict(rng.state),
                first_us=min(stamps, default=0),
                last_us=max(stamps, default=0),
                owner=self._store.owner,
            )
            del stamps
            cp = await self._store.begin_range(cp, intent)
            # Documents are made as the client encodes and sends them, never all at once: a
            # range's documents weigh ~6x its raw bytes (150 MB for 8 MiB of general log),
            # times the files in progress (bench/processor.py, peak_rss).
            to_send = (to_document(e, self._context, batch_id, now) for e in rng.events)
            sending = events
        else:
            docs = [to_document(e, self._context, batch_id, now) for e in rng.events]
            missing = await self._missing(cp.pending, docs, cp.last_foreign_write)
            to_send, sending = missing, len(missing)
        refused = 0
        if sending:
            if self._store.lease_left(cp) < LEASE_MARGIN_SEC:
                cp = await self._store.renew(cp)
            result = await self._sink.ship(self._stream, to_send)
            refused = len(result.failed)
            if refused:
                await self._refused(rng, batch_id, result.failed)
            if result.unknown:
                # Some may be stored: keep the intent; the retry asks OpenObserve again.
                raise DeliveryUnsettled(
                    f"{len(result.unknown)} events of {self._context.log_file_name} "
                    f"[{rng.start}, {rng.end}) unsettled: {result.unknown[0].reason}",
                    [u.event_id for u in result.unknown],
                )
        outcome: Outcome = "recovered" if recovering else ("failed" if refused else "ok")
        # The job first, the checkpoint second: the job is the ledger verify repairs from, and a
        # range checkpointed without one (a crash in between) was a loss nobody could see. A
        # crash after the job leaves the intent pending: its recovery records the range again
        # under the same batch, and verify counts a (range, batch) once.
        await self._jobs.record(
            Job(
                instance_id=self._context.instance_id,
                resource_id=self._context.resource_id,
                generation=self._context.generation,
                log_file_name=self._context.log_file_name,
                log_type=self._context.log_type,
                sink="openobserve",
                start=rng.start,
                end=rng.end,
                events=events,
                outcome=outcome,
                duration_s=time.monotonic() - started,
                batch_id=batch_id,
                owner=self._store.owner,
                error=f"{refused} events refused (dead-lettered)" if refused else "",
                parser_state=state_at_start,
            )
        )
        cp = await self._store.finish_range(cp)
        metrics.RANGES.labels(self._context.log_type, outcome).inc()
        metrics.EVENTS_SHIPPED.labels(self._stream).inc(sending - refused)
        if recovering:
            metrics.PENDING_RECOVERED.labels("complete" if not sending else "resent").inc()
        return Shipped(cp, events, sending - refused, refused, recovering)

    async def _missing(
        self, intent: Intent, docs: list[dict[str, Any]], last_write: float
    ) -> list[dict[str, Any]]:
        """The documents of a half-delivered batch that OpenObserve does not hold.

        A write of the batch may have ended as late as `last_write` (the previous holder's
        lease end, or its release); OpenObserve shows a record only some time after its write,
        so absence is asked about only once the visibility lag has passed since then — a wait
        of at most `visibility_lag_sec`, paid only on recovery."""
        wait = last_write + self._visibility_lag - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        # The batch's own time range, widened to now for events sent with _timestamp = ingest
        # time (older than the server's window).
        now_us = int(time.time() * 1_000_000)
        check = await self._sink.which_stored(
            self._stream,
            [d["event_id"] for d in docs],
            max(0, intent.first_us - 1_000_000),
            max(intent.last_us, now_us) + 60_000_000,
            last_write_us=int(last_write * 1_000_000),
            batch_ids=[intent.batch_id],
        )
        if check.unknown:
            raise DeliveryUnsettled(
                f"recovery of {self._context.log_file_name} [{intent.start}, {intent.end}): "
                f"{len(check.unknown)} events unsettled ({'; '.join(check.reasons)[:300]})",
                sorted(check.unknown),
            )
        missing = [d for d in docs if d["event_id"] in check.absent]
        log.info(
            "pending_range_recovered",
            instance_id=self._context.instance_id,
            log_file_name=self._context.log_file_name,
            start=intent.start,
            end=intent.end,
            batch_id=intent.batch_id,
            events=len(docs),
            already_stored=len(docs) - len(missing),
            previous_owner=intent.owner,
        )
        return missing

    async def _refused(self, rng: Range, batch_id: str, failed: Sequence[PermanentFailure]) -> None:
        reasons = dict(Counter(f.reason for f in failed))
        first = failed[0]
        record = {
            "reason": "openobserve_refused",
            "reasons": reasons,
            "status": first.status,
            "body": first.body[:4000],
            "event_ids": [f.event_id for f in failed][:1000],
            "batch_id": batch_id,
            "range": [rng.start, rng.end],
            **{k: v for k, v in self._context.__dict__.items()},
        }
        log.error(
            "events_refused",
            instance_id=self._context.instance_id,
            log_file_name=self._context.log_file_name,
            start=rng.start,
            end=rng.end,
            refused=len(failed),
            reasons=json.dumps(reasons),
        )
        await self._dead_letter(record)
