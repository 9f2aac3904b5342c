"""Delivery of batches to `_json`: each batch is sent, judged, retried, reconciled or split
until every event of it is settled, at most `openobserve_concurrency` batches at a time.

Success is HTTP 200 **and** `successful == sent`. OpenObserve is not idempotent, so after any
answer that may have written part of a batch (a count mismatch, a timeout, a 5xx other than 503)
the sender asks which `event_id`s of the batch are stored (by `batch_id`, over the batch's time
range) and resends only the missing ones. Connection errors, 408, 429 and 5xx are retried with
full-jitter exponential backoff up to `openobserve_max_retries`; a 413 splits the batch in two;
400, 401, 403 and other 4xx are returned as permanent failures at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

import httpx
import structlog

from common.settings import OpenObserveSettings
from processor.sinks.openobserve import batches
from processor.sinks.openobserve.batches import Encoded
from processor.sinks.openobserve.metrics import (
    BYTES,
    EVENTS,
    FAILURES,
    MISMATCHES,
    RETRIES,
)
from processor.sinks.openobserve.outcomes import PermanentFailure, ShipResult, Unsettled
from processor.sinks.openobserve.retry import CLEAN_STATUSES, is_retryable, parse_retry_after
from processor.sinks.openobserve.search import Search, now_us
from processor.sinks.openobserve.transport import Transport
from processor.sinks.openobserve.window import Window

log = structlog.get_logger(__name__)

_COMPRESS_IN_THREAD = 256 * 1024
# The reconciliation range is the batch's own [min, max] _timestamp, widened by this much.
_RANGE_MARGIN_US = 1_000_000


@dataclass
class _Attempt:
    """What one ingestion request told us."""

    retry_reason: str | None = None  # None: settled (delivered, split or permanent)
    uncertain: bool = False  # part of the batch may be stored
    server_error: str = ""
    status: int | None = None
    body: str = ""
    retry_after: float | None = None


class Sender:
    """Delivers batches of one client; `deliver` settles every event of a batch in `result`."""

    def __init__(self, transport: Transport, search: Search, window: Window) -> None:
        self.settings: OpenObserveSettings = transport.settings
        self._transport = transport
        self._search = search
        self._window = window
        self._backoff = transport.backoff
        self._lag_us = int(self.settings.openobserve_visibility_lag_sec * 1_000_000)

    async def deliver(self, stream: str, chunk: list[Encoded], result: ShipResult) -> None:
        """Deliver one batch: retry, reconcile, split on 413, until settled or out of retries."""
        pending = {item.event_id: item for item in chunk}
        low = min(item.timestamp_us for item in chunk)
        high = max(item.timestamp_us for item in chunk)
        retries = 0
        last = _Attempt()
        uncertain = False
        server_error = ""
        last_write_us = now_us()
        while pending:
            if uncertain:
                reasons = await self._reconcile(stream, pending, result, low, high, last_write_us)
                if not pending:
                    return
                if reasons:
                    self._unsettle(result, pending, reasons)
                    return
                uncertain = False  # what is left is absent: resending cannot duplicate it
            if (
                server_error
                or self._window.outside(low, now_us())
                or (self._window.outside(high, now_us()))
            ):
                self._apply_window(stream, pending, result, server_error)
            if not pending:
                return
            items = list(pending.values())
            low = min(low, *(i.timestamp_us for i in items))
            high = max(high, *(i.timestamp_us for i in items))
            last = await self._send(stream, items, result)
            last_write_us = now_us()
            if last.retry_reason is None:
                if last.status == 413:
                    await self._split(stream, items, result)
                elif last.status not in (200, None):
                    self.fail(result, list(pending), f"http_{last.status}", last.status, last.body)
                else:
                    self._succeeded(result, stream, items)
                return
            uncertain = last.uncertain
            server_error = last.server_error
            if retries >= self.settings.openobserve_max_retries:
                break
            retries += 1
            result.retries += 1
            RETRIES.labels("ingest", last.retry_reason or "unknown").inc()
            log.warning(
                "openobserve_retry",
                stream=stream,
                reason=last.retry_reason,
                status=last.status,
                events=len(pending),
                retry=retries,
            )
            await asyncio.sleep(self._backoff.delay(retries, last.retry_after))
        if uncertain:
            # Out of retries after a write that may have landed: only what searches prove
            # absent is reported failed; the rest is unknown, never failed (it may be stored).
            reasons = await self._reconcile(stream, pending, result, low, high, last_write_us)
            if pending and reasons:
                self._unsettle(result, pending, reasons)
                return
        if pending:
            reason = f"retries_exhausted:{last.retry_reason}"
            self.fail(result, list(pending), reason, last.status, last.body)

    async def _reconcile(
        self,
        stream: str,
        pending: dict[str, Encoded],
        result: ShipResult,
        low: int,
        high: int,
        last_write_us: int,
    ) -> tuple[str, ...]:
        """Ask which pending events are stored (over the batch's own time range) until the
        answer is complete and old enough, at most `openobserve_reconcile_attempts` times;
        stored ones move to `delivered`. Returns () when the rest is proven absent, else why
        it is still unknown (a partial or young answer is never taken for absence)."""
        attempts = self.settings.openobserve_reconcile_attempts
        batch_ids = sorted({i.batch_id for i in pending.values()})
        for attempt in range(1, attempts + 1):
            check = await self._search.which_stored(
                stream,
                list(pending),
                low - _RANGE_MARGIN_US,
                high + _RANGE_MARGIN_US + 1,
                last_write_us=last_write_us,
                batch_ids=batch_ids,
            )
            self._found(result, stream, pending, check.stored)
            if not check.unknown:
                return ()
            if attempt == attempts:
                return check.reasons
            kind = check.reasons[0].split(":", 1)[0] if check.reasons else "unknown"
            RETRIES.labels("reconcile", kind).inc()
            wait_young = (last_write_us + self._lag_us - now_us()) / 1_000_000
            await asyncio.sleep(max(self._backoff.delay(attempt), wait_young + 0.01))
        return ()

    def _unsettle(
        self, result: ShipResult, pending: dict[str, Encoded], reasons: tuple[str, ...]
    ) -> None:
        reason = "; ".join(reasons)
        result.unknown.extend(Unsettled(event_id, reason) for event_id in pending)
        EVENTS.labels(result.stream, "unknown").inc(len(pending))
        log.error(
            "openobserve_events_unknown",
            stream=result.stream,
            events=len(pending),
            reason=reason[:500],
        )
        pending.clear()

    async def _split(self, stream: str, items: list[Encoded], result: ShipResult) -> None:
        if len(items) == 1:
            self.fail(
                result,
                [items[0].event_id],
                "payload_too_large",
                413,
                "a single event is over the server's payload limit",
            )
            return
        middle = len(items) // 2
        RETRIES.labels("ingest", "split_413").inc()
        for half in (items[:middle], items[middle:]):
            await self.deliver(stream, half, result)

    async def _send(self, stream: str, items: list[Encoded], result: ShipResult) -> _Attempt:
        raw = batches.payload(items)
        level = self.settings.openobserve_gzip_level
        if len(raw) > _COMPRESS_IN_THREAD:
            body = await asyncio.to_thread(batches.compress, raw, level)
        else:
            body = batches.compress(raw, level)
        BYTES.labels(stream, "raw").inc(len(raw))
        BYTES.labels(stream, "gzip").inc(len(body))
        result.requests += 1
        try:
            resp = await self._transport.post_ingest(stream, body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return _Attempt("connect_error", False, body=str(exc))
        except httpx.TransportError as exc:
            # The request may have reached the server: ask what was stored before resending.
            return _Attempt("transport_error", True, body=str(exc) or type(exc).__name__)
        return self._judge(stream, resp, len(items))

    def _judge(self, stream: str, resp: httpx.Response, sent: int) -> _Attempt:
        status = resp.status_code
        if status == 200:
            try:
                body = resp.json()
                rows = [s for s in body["status"] if isinstance(s, dict)]
                successful = sum(int(s.get("successful", 0)) for s in rows)
                failed = sum(int(s.get("failed", 0)) for s in rows)
                error = next((str(s["error"]) for s in rows if s.get("error")), "")
            except (ValueError, KeyError, TypeError) as exc:
                return _Attempt("bad_response", True, status=200, body=f"{exc}: {resp.text[:500]}")
            if successful == sent and failed == 0:
                return _Attempt(status=200)
            MISMATCHES.labels(stream).inc()
            log.warning(
                "openobserve_count_mismatch",
                stream=stream,
                sent=sent,
                successful=successful,
                failed=failed,
                error=error,
            )
            return _Attempt("count_mismatch", True, error, 200, resp.text[:2000])
        if status == 413:
            return _Attempt(status=413, body=resp.text[:2000])
        if is_retryable(status):
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            return _Attempt(
                f"http_{status}",
                status not in CLEAN_STATUSES,
                "",
                status,
                resp.text[:2000],
                retry_after,
            )
        return _Attempt(status=status, body=resp.text[:2000])

    def _apply_window(
        self, stream: str, pending: dict[str, Encoded], result: ShipResult, server_error: str
    ) -> None:
        now = now_us()
        policy = self.settings.openobserve_old_events
        for event_id, item in list(pending.items()):
            ts = item.timestamp_us
            if not (self._window.outside(ts, now) or self._window.suspect(ts, now, server_error)):
                continue
            if policy == "s3_only":
                del pending[event_id]
                result.s3_only.append(event_id)
                EVENTS.labels(stream, "s3_only").inc()
            else:
                pending[event_id] = batches.with_timestamp(item, now)
                if event_id not in result.retimed:
                    result.retimed.append(event_id)
                    EVENTS.labels(stream, "retimed").inc()

    def _succeeded(self, result: ShipResult, stream: str, items: list[Encoded]) -> None:
        result.delivered.extend(item.event_id for item in items)
        EVENTS.labels(stream, "delivered").inc(len(items))

    def _found(
        self,
        result: ShipResult,
        stream: str,
        pending: dict[str, Encoded],
        stored: Collection[str],
    ) -> None:
        found = [event_id for event_id in stored if event_id in pending]
        for event_id in found:
            del pending[event_id]
        result.delivered.extend(found)
        EVENTS.labels(stream, "delivered").inc(len(found))
        EVENTS.labels(stream, "reconciled").inc(len(found))

    def fail(
        self, result: ShipResult, event_ids: list[str], reason: str, status: int | None, body: str
    ) -> None:
        for event_id in event_ids:
            result.failed.append(PermanentFailure(event_id, reason, status, body))
        FAILURES.labels(result.stream, reason.split(":", 1)[0]).inc(len(event_ids))
        EVENTS.labels(result.stream, "failed").inc(len(event_ids))
        log.error(
            "openobserve_permanent_failure",
            stream=result.stream,
            reason=reason,
            status=status,
            events=len(event_ids),
            body=body[:500],
        )


Deliver = Callable[[list[Encoded]], Awaitable[None]]


class Inflight:
    """Runs the batches of one `ship` call, at most `concurrency` of them at a time."""

    def __init__(self, deliver: Deliver, concurrency: int) -> None:
        self._deliver = deliver
        self._gate = asyncio.Semaphore(concurrency)
        self._tasks: list[asyncio.Task[None]] = []

    async def submit(self, chunk: list[Encoded]) -> None:
        """Start delivering `chunk`; waits while `concurrency` batches are already in flight."""
        await self._gate.acquire()
        self._tasks.append(asyncio.create_task(self._run(chunk)))

    async def _run(self, chunk: list[Encoded]) -> None:
        try:
            await self._deliver(chunk)
        finally:
            self._gate.release()

    async def join(self) -> None:
        """Wait for every batch; a bug inside one is raised after all the others finished."""
        outcomes = await asyncio.gather(*self._tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
