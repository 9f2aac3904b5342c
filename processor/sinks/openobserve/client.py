"""The processor's only way into OpenObserve: ship events, and ask what was stored.

`OpenObserveClient(settings)` is an async context manager. `ship(stream, events)` sends events in
gzip batches of at most `openobserve_batch_bytes` (uncompressed) to `_json` and returns a
`ShipResult` that accounts for every event exactly once: delivered, permanently failed (with
reason and server body, for the dead-letter queue), or kept for S3 only (outside the window).
How a batch is delivered is `sender.Sender`'s business; searches go through `search.Search`;
both share one `transport.Transport`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

from common.settings import OpenObserveSettings
from processor.sinks.openobserve import batches
from processor.sinks.openobserve.batches import Accumulator, Encoded
from processor.sinks.openobserve.errors import InvalidEvent
from processor.sinks.openobserve.outcomes import ShipResult
from processor.sinks.openobserve.search import Search
from processor.sinks.openobserve.sender import Inflight, Sender
from processor.sinks.openobserve.transport import Transport
from processor.sinks.openobserve.window import Window

_YIELD_EVERY = 256


class OpenObserveClient:
    def __init__(self, settings: OpenObserveSettings) -> None:
        self.settings = settings
        window = Window.from_settings(settings)
        self._transport = Transport(settings)
        self._search = Search(self._transport, window)
        self._sender = Sender(self._transport, self._search, window)
        # Searching is `Search`'s: its methods are the client's, documented there (run SQL,
        # count a batch, list stored event ids, and `which_stored`: stored/absent/unknown).
        self.search = self._search.search
        self.count_batch = self._search.count_batch
        self.stored_event_ids = self._search.stored_event_ids
        self.which_stored = self._search.which_stored

    async def __aenter__(self) -> OpenObserveClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    # ---------------------------------------------------------------- shipping

    async def ship(self, stream: str, events: Iterable[Mapping[str, Any]]) -> ShipResult:
        """Send `events` (each with `event_id`, `batch_id`, `_timestamp` µs) to `stream`.

        Encoding is interleaved with sending: each batch goes out as soon as it is full, and
        the loop yields every few hundred events so that requests in flight progress meanwhile.
        """
        result = ShipResult(stream)
        inflight = self._inflight(stream, result)
        accumulator = Accumulator(self.settings.openobserve_batch_bytes)
        try:
            for count, item in enumerate(self.admit(events, result, unique=True), 1):
                if count % _YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                full = accumulator.add(item)
                if full:
                    await inflight.submit(full)
            if accumulator:
                await inflight.submit(accumulator.take())
        finally:
            await inflight.join()
        return result

    async def ship_encoded(self, stream: str, items: Sequence[Encoded]) -> ShipResult:
        """`ship` for events already validated and encoded (see `admit`)."""
        result = ShipResult(stream)
        inflight = self._inflight(stream, result)
        try:
            for chunk in batches.cut(items, self.settings.openobserve_batch_bytes):
                await inflight.submit(chunk)
        finally:
            await inflight.join()
        return result

    def admit(
        self, events: Iterable[Mapping[str, Any]], result: ShipResult, unique: bool = False
    ) -> Iterator[Encoded]:
        """The events encoded; one that cannot be sent (or, with `unique`, repeats an event_id
        of this call) is recorded in `result` as a permanent failure instead."""
        seen: set[str] = set()
        for event in events:
            try:
                item = batches.encode(event)
            except InvalidEvent as exc:
                event_id = event.get("event_id") if isinstance(event, Mapping) else None
                self._sender.fail(result, [str(event_id or "")], "invalid_event", None, str(exc))
                continue
            if unique:
                if item.event_id in seen:
                    self._sender.fail(
                        result, [item.event_id], "duplicate_event_id", None, "in this call"
                    )
                    continue
                seen.add(item.event_id)
            yield item

    def _inflight(self, stream: str, result: ShipResult) -> Inflight:
        return Inflight(
            lambda chunk: self._sender.deliver(stream, chunk, result),
            self.settings.openobserve_concurrency,
        )
