"""A time-bounded batch for one stream: events accumulate until `openobserve_batch_bytes` or
until `openobserve_batch_interval_sec` after the first of them, then go out in one `ship`.

Each shipped batch's `ShipResult` is handed to `on_result`; an error of a background (timer)
flush is kept and raised by the next `add`, `flush` or `aclose`, so nothing passes unnoticed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import structlog

from processor.sinks import openobserve_batches as batches
from processor.sinks.openobserve import OpenObserveClient, PermanentFailure, ShipResult
from processor.sinks.openobserve_batches import Encoded, InvalidEvent
from processor.sinks.openobserve_metrics import FAILURES

log = structlog.get_logger(__name__)

ResultHandler = Callable[[ShipResult], Awaitable[None]]


class OpenObserveBuffer:
    def __init__(self, client: OpenObserveClient, stream: str, on_result: ResultHandler) -> None:
        self._client = client
        self._stream = stream
        self._on_result = on_result
        self._max_bytes = client.settings.openobserve_batch_bytes
        self._interval = client.settings.openobserve_batch_interval_sec
        self._items: list[Encoded] = []
        self._size = 2
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None

    async def __aenter__(self) -> OpenObserveBuffer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def buffered(self) -> int:
        return len(self._items)

    async def add(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Buffer events; ships (and waits for) every batch that reaches the byte bound."""
        self._raise_background_error()
        invalid = ShipResult(self._stream)
        for event in events:
            try:
                item = batches.encode(event)
            except InvalidEvent as exc:
                event_id = str(event.get("event_id") or "") if isinstance(event, Mapping) else ""
                invalid.failed.append(PermanentFailure(event_id, "invalid_event", None, str(exc)))
                FAILURES.labels(self._stream, "invalid_event").inc()
                continue
            if self._items and self._size + len(item.body) + 1 > self._max_bytes:
                await self.flush()
            if not self._items:
                self._arm()
            self._items.append(item)
            self._size += len(item.body) + (1 if len(self._items) > 1 else 0)
        if invalid.failed:
            await self._on_result(invalid)

    async def flush(self) -> None:
        """Ship what is buffered now."""
        self._raise_background_error()
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            items, self._items, self._size = self._items, [], 2
            if items:
                await self._on_result(await self._client.ship_encoded(self._stream, items))

    async def aclose(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.flush()

    def _arm(self) -> None:
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._interval, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._timed_flush())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _timed_flush(self) -> None:
        try:
            await self.flush()
        except Exception as exc:
            log.exception("openobserve_buffer_flush_failed", stream=self._stream)
            self._error = exc

    def _raise_background_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
