"""Runs the batches of one `ship` call, at most `openobserve_concurrency` of them at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from processor.sinks.openobserve_batches import Encoded

Deliver = Callable[[list[Encoded]], Awaitable[None]]


class Sender:
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
