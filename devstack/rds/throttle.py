"""RDS API rate limiting: a token bucket per account and region (burst 300, 12 per second),
optionally a bucket of its own for an operation, answered with `Throttling` "Rate exceeded"."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Bucket:
    burst: float
    rate: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Throttle:
    def __init__(
        self,
        burst: float,
        rate: float,
        code: str = "Throttling",
        enabled: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.burst = burst
        self.rate = rate
        self.code = code
        # Whether DownloadCompleteDBLogFile shares the 12/s budget is undocumented: by default it
        # does not; give it an entry in `operations` to limit it.
        self.exempt: set[str] = {"DownloadCompleteDBLogFile"}
        self.operations: dict[str, tuple[float, float]] = {}
        self._buckets: dict[tuple[str, str, str], Bucket] = {}
        self._monotonic = monotonic

    def allow(self, account: str, region: str, operation: str) -> bool:
        if not self.enabled:
            return True
        own = self.operations.get(operation)
        if own is None and operation in self.exempt:
            return True
        burst, rate = own if own is not None else (self.burst, self.rate)
        key = (account, region, operation if own is not None else "*")
        now = self._monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(burst, rate, burst, now)
        return bucket.take(now)

    def state(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "burst": self.burst,
            "rate": self.rate,
            "code": self.code,
            "exempt": sorted(self.exempt),
            "operations": {op: {"burst": b, "rate": r} for op, (b, r) in self.operations.items()},
        }

    def configure(self, body: dict[str, Any]) -> None:
        """Apply an admin update; every change refills the buckets."""
        unknown = set(body) - {"enabled", "burst", "rate", "code", "exempt", "operations"}
        if unknown:
            raise ValueError(f"unknown throttle settings: {sorted(unknown)}")
        if "code" in body and body["code"] not in ("Throttling", "ThrottlingException"):
            raise ValueError("code must be Throttling or ThrottlingException")
        if "enabled" in body:
            self.enabled = bool(body["enabled"])
        if "burst" in body:
            self.burst = float(body["burst"])
        if "rate" in body:
            self.rate = float(body["rate"])
        self.code = str(body.get("code", self.code))
        if "exempt" in body:
            self.exempt = {str(op) for op in body["exempt"]}
        if "operations" in body:
            self.operations = {
                str(op): (float(spec["burst"]), float(spec["rate"]))
                for op, spec in dict(body["operations"]).items()
            }
        self._buckets.clear()
