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

from processor.sinks.openobserve.batches import Accumulator, Encoded
from processor.sinks.openobserve.client import OpenObserveClient
from processor.sinks.openobserve.outcomes import ShipResult

log = structlog.get_logger(__name__)

ResultHandler = Callable[[ShipResult], Awaitable[None]]


class OpenObserveBuffer:
    def __init__(self, client: OpenObserveClient, stream: str, on_result: ResultHandler) -> None:
        self._client = client
        self._stream = stream
        self._on_result = on_result
        self._accumulator = Accumulator(client.settings.openobserve_batch_bytes)
        self._interval = client.settings.openobserve_batch_interval_sec
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
        return len(self._accumulator)

    async def add(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Buffer events; ships (and waits for) every batch that reaches the byte bound."""
        self._raise_background_error()
        invalid = ShipResult(self._stream)
        for item in self._client.admit(events, invalid):
            full = self._accumulator.add(item)
            if full:
                self._disarm()  # the new batch's clock starts with its first event
                self._arm()
                await self._ship(full)
            elif len(self._accumulator) == 1:
                self._arm()
        if invalid.failed:
            await self._on_result(invalid)

    async def flush(self) -> None:
        """Ship what is buffered now."""
        self._raise_background_error()
        self._disarm()
        items = self._accumulator.take()
        if items:
            await self._ship(items)

    async def _ship(self, items: list[Encoded]) -> None:
        async with self._lock:
            await self._on_result(await self._client.ship_encoded(self._stream, items))

    async def aclose(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.flush()

    def _arm(self) -> None:
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._interval, self._on_timer)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

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
