"""The hook every download runs before each RDS call: where the processor waits for a token of
the fleet-wide request bucket (kept in Valkey). The default waits for nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

BeforeCall = Callable[[], Awaitable[None]]


async def no_wait() -> None:
    """The default hook: no shared budget to wait for."""
