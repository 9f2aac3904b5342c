"""One RDS request budget for every replica of both services, per (account, region).

The account allows 12 RDS requests/s (burst 300) for every caller together, console included;
a limit per pod lets N pods overrun it. So the bucket lives in Valkey and is taken by an atomic
Lua script (refill, take, or say how long to wait, in one step; the server's clock, so replicas'
clocks do not matter). Discovery's requests are few and decide what everyone does next, so a
`reserve` of tokens is left untouched by the processor's portion reads (`Priority.PROCESSOR`
takes a token only when more than the reserve would remain).

While Valkey is unreachable each process uses a local bucket with the same rate and burst
divided by the replica count, so the fleet of replicas still stays inside the budget. `Throttling`
from RDS means someone else is spending the budget too: the caller `penalise()`s the bucket
(empties it, for every replica) and backs off with full jitter (`backoff_delay`).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from enum import StrEnum

from prometheus_client import Histogram
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from common.valkey import ValkeyGuard, ValkeyUnavailable

BUCKET_WAIT = Histogram(
    "aurora_rds_bucket_wait_seconds",
    "Time a caller waited for an RDS token",
    buckets=(0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)

# KEYS[1]: the bucket; ARGV: rate/s, burst, cost, floor (tokens that must remain), ttl ms,
# mode ("take" or "drain"). Returns 0 when the tokens were taken, else the ms to wait.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local floor = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if ARGV[6] == 'drain' then
  tokens = math.min(tokens, 0)
elseif tokens - cost >= floor then
  tokens = tokens - cost
else
  wait = math.max(1, math.ceil((cost + floor - tokens) * 1000 / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return wait
"""


class Priority(StrEnum):
    DISCOVERY = "discovery"  # may take the reserve
    PROCESSOR = "processor"  # leaves the reserve


@dataclass
class _LocalBucket:
    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, cost: float, floor: float, now: float) -> float:
        """Take `cost` tokens keeping `floor`; 0.0, or the seconds to wait before asking again."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens - cost >= floor:
            self.tokens -= cost
            return 0.0
        return max(0.001, (cost + floor - self.tokens) / self.rate)

    def drain(self, now: float) -> None:
        self.take(0, float("-inf"), now)
        self.tokens = min(self.tokens, 0.0)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    r = rng or random
    return r.uniform(0, min(cap, base * (2**attempt)))


class RdsBucket:
    """The shared token bucket of one (account, region)."""

    def __init__(
        self,
        guard: ValkeyGuard,
        account: str,
        region: str,
        rate: float,
        burst: int,
        reserve: int,
        replicas: int,
        prefix: str = "aurora:",
    ) -> None:
        self._guard = guard
        self.key = f"{prefix}rds-bucket:{account}:{region}"
        self.rate = rate
        self.burst = burst
        self.reserve = min(reserve, max(0, burst - 1))
        share = max(1, replicas)
        now = time.monotonic()
        self._local = _LocalBucket(rate / share, burst / share, burst / share, now)
        self._local_reserve = self.reserve / share
        self._script = _SCRIPT
        self._sha: str | None = None

    async def _eval(self, client: Redis, cost: int, floor: float, mode: str) -> int:
        args = (self.rate, self.burst, cost, floor, int(max(60, 2 * self.burst / self.rate) * 1000))
        if self._sha is None:
            self._sha = str(await client.script_load(self._script))
        try:
            result = await client.evalsha(self._sha, 1, self.key, *args, mode)
        except NoScriptError:  # Valkey restarted and lost its scripts
            result = await client.eval(self._script, 1, self.key, *args, mode)
        return int(result)

    async def acquire(self, priority: Priority = Priority.DISCOVERY, cost: int = 1) -> float:
        """Wait until `cost` tokens are ours; return the seconds waited."""
        start = time.monotonic()
        while True:
            wait = await self._try(priority, cost)
            if wait <= 0:
                waited = time.monotonic() - start
                BUCKET_WAIT.observe(waited)
                return waited
            await asyncio.sleep(wait)

    async def _try(self, priority: Priority, cost: int) -> float:
        processor = priority is Priority.PROCESSOR
        try:
            floor = self.reserve if processor else 0
            ms = await self._guard.run(lambda c: self._eval(c, cost, floor, "take"))
            return ms / 1000.0
        except ValkeyUnavailable:
            floor_local = self._local_reserve if processor else 0.0
            return self._local.take(cost, floor_local, time.monotonic())

    async def penalise(self) -> None:
        """RDS said `Throttling`: empty the bucket for every replica (and locally)."""
        self._local.drain(time.monotonic())
        try:
            await self._guard.run(lambda c: self._eval(c, 0, 0, "drain"))
        except ValkeyUnavailable:
            return  # logged by the guard; the local bucket, in use meanwhile, is drained
