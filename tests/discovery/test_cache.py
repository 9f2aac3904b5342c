"""The read-through cache on a real Valkey: one flight per key, stale answers while RDS fails,
and working without Valkey."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from common.cache import ReadThroughCache
from common.rds import RdsThrottled
from common.valkey import ValkeyGuard
from tests.discovery.conftest import dead_guard


def new_cache(guard: ValkeyGuard) -> ReadThroughCache:
    return ReadThroughCache(guard, f"c{uuid.uuid4().hex[:8]}:", 3600, stale_on=(RdsThrottled,))


async def test_concurrent_misses_make_one_call_also_across_replicas(guard: ValkeyGuard) -> None:
    a = new_cache(guard)
    b = ReadThroughCache(guard, a._prefix, 3600)  # a second replica, same namespace
    calls = 0
    gate, started = asyncio.Event(), asyncio.Event()

    async def load() -> list[int]:
        nonlocal calls
        calls += 1
        started.set()
        await gate.wait()
        return [1, 2, 3]

    tasks = [asyncio.create_task(c.get("k", 60, load)) for c in (a, a, a, b, b)]
    await started.wait()
    gate.set()
    assert await asyncio.gather(*tasks) == [[1, 2, 3]] * 5
    assert calls == 1
    assert a.counts["miss"] + b.counts["miss"] == 1


async def test_stale_answer_served_and_counted_while_rds_throttles(guard: ValkeyGuard) -> None:
    cache = new_cache(guard)
    assert await cache.get("k", 0.0, _value("v1")) == "v1"  # ttl 0: stale at once

    async def throttled() -> str:
        raise RdsThrottled("DescribeDBInstances", "Rate exceeded", "Throttling")

    assert await cache.get("k", 0.0, throttled) == "v1"
    assert cache.counts["stale"] == 1
    with pytest.raises(RdsThrottled):
        await cache.get("never-loaded", 0.0, throttled)


async def test_works_without_valkey_from_its_own_memory() -> None:
    cache = new_cache(dead_guard())
    assert await cache.get("k", 60, _value("a")) == "a"
    assert await cache.get("k", 60, _value("b")) == "a"
    assert cache.counts == {"hit": 1, "miss": 1, "stale": 0}


def _value(v: str):  # type: ignore[no-untyped-def]
    async def load() -> str:
        return v

    return load


async def test_the_fresh_entry_is_written_before_the_fill_lock_goes(guard: ValkeyGuard) -> None:
    """A replica waiting on the lock that sees it gone and no fresh entry loads for itself. The
    lock went before the entry was written, so under load a second replica made a second call
    (the test above failed once so)."""
    seen_at_unlock: list[object] = []

    class Watched(ReadThroughCache):
        async def _unlock(self, full: str) -> None:
            seen_at_unlock.append(await self._read(full))
            await super()._unlock(full)

    base = new_cache(guard)
    watched = Watched(guard, base._prefix, 3600)
    assert await watched.get("k", 60, _value("fresh")) == "fresh"
    assert len(seen_at_unlock) == 1 and seen_at_unlock[0] is not None
