"""The shared RDS bucket on a real Valkey: one budget for all replicas, the discovery reserve,
the local fallback while Valkey is unreachable, and the drain on `Throttling`."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from common.rate_limit import Priority, RdsBucket, backoff_delay
from common.valkey import ValkeyGuard
from tests.discovery.conftest import dead_guard


def bucket(
    guard: ValkeyGuard, rate: float = 20, burst: int = 10, reserve: int = 0, replicas: int = 1
) -> RdsBucket:
    return RdsBucket(
        guard, "acct" + uuid.uuid4().hex[:6], "eu-west-1", rate, burst, reserve, replicas
    )


async def test_three_replicas_share_one_budget(guard: ValkeyGuard) -> None:
    first = bucket(guard, rate=20, burst=10)
    # Three "replicas": separate bucket objects (as in three pods) on the same key.
    replicas = [first] + [
        RdsBucket(guard, first.key.split(":")[-2], "eu-west-1", 20, 10, 0, 3) for _ in range(2)
    ]
    assert len({b.key for b in replicas}) == 1
    granted: list[float] = []
    start = time.monotonic()

    async def take(b: RdsBucket) -> None:
        while time.monotonic() - start < 1.5:
            await b.acquire()
            granted.append(time.monotonic() - start)

    await asyncio.gather(*(take(b) for b in replicas))
    elapsed = max(granted)
    # burst + rate x time, whatever the number of takers (a local limit would give 3x that).
    assert len(granted) <= 10 + 20 * elapsed + 2
    assert len(granted) >= 10 + 20 * elapsed * 0.6


async def test_processor_leaves_the_reserve_to_discovery(guard: ValkeyGuard) -> None:
    b = bucket(guard, rate=0.5, burst=10, reserve=6)
    for _ in range(4):
        assert await asyncio.wait_for(b.acquire(Priority.PROCESSOR), 1) < 0.5
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(b.acquire(Priority.PROCESSOR), 0.5)
    for _ in range(5):  # the reserve is discovery's
        assert await asyncio.wait_for(b.acquire(Priority.DISCOVERY), 1) < 0.5


async def test_local_fallback_divides_the_rate_by_the_replicas() -> None:
    g = dead_guard()
    b = bucket(g, rate=30, burst=9, replicas=3)
    start = time.monotonic()
    for _ in range(3 + 10):
        await b.acquire()
    # 3 of burst (9/3) then 10 at 10/s (30/3): about a second.
    assert time.monotonic() - start >= 0.9
    assert not g.available and g.last_error


async def test_throttling_drains_the_shared_bucket(guard: ValkeyGuard) -> None:
    b = bucket(guard, rate=5, burst=50)
    other = RdsBucket(guard, b.key.split(":")[-2], "eu-west-1", 5, 50, 0, 1)
    await b.acquire()
    await b.penalise()
    with pytest.raises(TimeoutError):  # the other replica now waits for the refill too
        await asyncio.wait_for(other.acquire(), 0.1)


def test_backoff_is_jittered_and_capped() -> None:
    delays = [backoff_delay(n, 0.5, 20) for n in range(12) for _ in range(20)]
    assert max(delays) <= 20 and min(delays) >= 0
    assert len(set(delays)) > 100
