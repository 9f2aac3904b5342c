"""Valkey read-through cache of RDS *Describe* answers (never state, never log content).

Why: every RDS call spends the account's tiny shared budget, and every replica (and a restarted
one) asks the same questions. An answer is kept in Valkey `ttl` seconds as fresh, then
`stale_sec` more as stale: while RDS throttles or fails, the stale answer is served (and counted)
instead of an error. One flight per key: concurrent misses in a process wait for one load, and
across replicas a short Valkey lock lets one replica load while the others wait for its answer.

Optional: with Valkey absent or down, a bounded in-process copy serves the same purpose for this
process alone (slower for the fleet, counted in `aurora_valkey_up` and the cache metric).

`PassThroughCache` is the seed design's "no cache" (`DISCOVERY_SEED_STYLE`, the benchmarks'
baseline): same interface, every lookup a miss that goes to RDS.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from prometheus_client import Counter

from common.valkey import ValkeyGuard, ValkeyUnavailable

log = structlog.get_logger(__name__)

CACHE_REQUESTS = Counter(
    "aurora_discovery_cache_requests_total",
    "Read-through cache lookups by result (hit, miss, stale)",
    ["result"],
)
for _result in ("hit", "miss", "stale"):
    CACHE_REQUESTS.labels(_result)

LOCK_MS = 15_000
WAIT_POLL_SEC = 0.05


class DescribeCache(Protocol):
    """What the listers need of a cache: `get` and the per-result counts of this process."""

    counts: dict[str, int]

    async def get(self, key: str, ttl: float, loader: Callable[[], Awaitable[Any]]) -> Any: ...


class PassThroughCache:
    """A cache that never hits: every `get` loads (the seed design measured against)."""

    def __init__(self) -> None:
        self.counts = {"hit": 0, "miss": 0, "stale": 0}

    async def get(self, key: str, ttl: float, loader: Callable[[], Awaitable[Any]]) -> Any:
        value = await loader()
        self.counts["miss"] += 1
        CACHE_REQUESTS.labels("miss").inc()
        return value


@dataclass(frozen=True)
class Entry:
    at: float  # wall-clock time of the load (shared by replicas)
    value: Any

    def encode(self) -> bytes:
        return zlib.compress(json.dumps({"at": self.at, "v": self.value}).encode(), 1)

    @classmethod
    def decode(cls, raw: bytes) -> Entry:
        data = json.loads(zlib.decompress(raw))
        return cls(float(data["at"]), data["v"])


class ReadThroughCache:
    def __init__(
        self,
        guard: ValkeyGuard,
        prefix: str,
        stale_sec: float,
        stale_on: tuple[type[BaseException], ...] = (Exception,),
        local_max: int = 20_000,
    ) -> None:
        self._guard = guard
        self._prefix = prefix
        self._stale_sec = stale_sec
        self._stale_on = stale_on
        self._local: OrderedDict[str, Entry] = OrderedDict()
        self._local_max = local_max
        self._flights: dict[str, asyncio.Future[Any]] = {}
        self.counts = {"hit": 0, "miss": 0, "stale": 0}

    def _count(self, result: str) -> None:
        self.counts[result] += 1
        CACHE_REQUESTS.labels(result).inc()

    async def get(self, key: str, ttl: float, loader: Callable[[], Awaitable[Any]]) -> Any:
        """The value under `key`: fresh from the cache, else `loader()`'s (JSON-able) answer."""
        flight = self._flights.get(key)
        if flight is not None:
            return await asyncio.shield(flight)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._flights[key] = future
        try:
            value = await self._get(key, ttl, loader)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: waiters re-raise it, nobody else must
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._flights[key]

    async def _get(self, key: str, ttl: float, loader: Callable[[], Awaitable[Any]]) -> Any:
        full = f"{self._prefix}{key}"
        entry = await self._read(full)
        if entry is not None and time.time() - entry.at < ttl:
            self._count("hit")
            return entry.value
        locked = await self._lock(full)
        if not locked:
            waited = await self._wait_other(full, entry, ttl)
            if waited is not None:
                self._count("hit")
                return waited.value
        try:
            value = await loader()
        except self._stale_on as exc:
            if entry is None:
                raise
            self._count("stale")
            log.warning(
                "cache_served_stale",
                key=key,
                age_sec=round(time.time() - entry.at, 1),
                error=f"{type(exc).__name__}: {exc}",
            )
            return entry.value
        else:
            # Written before the lock goes: a replica waiting on the lock that sees it gone and
            # no fresh entry loads for itself (a second call; found by a test under load).
            self._count("miss")
            await self._write(full, Entry(time.time(), value), ttl)
            return value
        finally:
            if locked:
                await self._unlock(full)

    async def _read(self, full: str) -> Entry | None:
        try:
            raw = await self._guard.run(lambda c: c.get(full))
        except ValkeyUnavailable:
            return self._local.get(full)
        if raw is None:
            return self._local.get(full)
        try:
            return Entry.decode(raw if isinstance(raw, bytes) else raw.encode())
        except (ValueError, KeyError, zlib.error) as exc:
            log.warning("cache_entry_unreadable", key=full, error=str(exc))
            return None

    async def _write(self, full: str, entry: Entry, ttl: float) -> None:
        self._local[full] = entry
        self._local.move_to_end(full)
        while len(self._local) > self._local_max:
            self._local.popitem(last=False)
        expire = max(1, int(ttl + self._stale_sec))
        try:
            await self._guard.run(lambda c: c.set(full, entry.encode(), ex=expire))
        except ValkeyUnavailable:
            return  # the guard logged it; the local copy serves this process

    async def _lock(self, full: str) -> bool:
        try:
            got = await self._guard.run(lambda c: c.set(full + ":lock", b"1", nx=True, px=LOCK_MS))
        except ValkeyUnavailable:
            return True  # no shared flight without Valkey: this process loads alone
        return bool(got)

    async def _unlock(self, full: str) -> None:
        try:
            await self._guard.run(lambda c: c.delete(full + ":lock"))
        except ValkeyUnavailable:
            return  # the lock expires by itself

    async def _wait_other(self, full: str, old: Entry | None, ttl: float) -> Entry | None:
        """Another replica holds the key's lock: wait (a bounded while) for its fresh answer."""
        deadline = time.monotonic() + LOCK_MS / 1000
        while time.monotonic() < deadline:
            await asyncio.sleep(WAIT_POLL_SEC)
            entry = await self._read(full)
            newer = entry is not None and (old is None or entry.at > old.at)
            if entry is not None and newer and time.time() - entry.at < ttl:
                return entry
            if not await self._locked(full):
                return None
        return None

    async def _locked(self, full: str) -> bool:
        try:
            return bool(await self._guard.run(lambda c: c.exists(full + ":lock")))
        except ValkeyUnavailable:
            return False
