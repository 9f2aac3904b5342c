"""Accounting of what clients asked for: calls, throttled calls, errors, bytes and callers (the
signing key and region) per operation."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from prometheus_client import Counter as PromCounter

REQUESTS = PromCounter(
    "aurora_rds_emulator_requests_total",
    "RDS emulator calls by operation and outcome",
    ["operation", "outcome"],
)
BYTES = PromCounter(
    "aurora_rds_emulator_bytes_total", "Log bytes served by the RDS emulator", ["operation"]
)


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        self.errors: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.callers: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def call(self, operation: str) -> None:
        self.calls[operation] += 1

    def caller(self, operation: str, access_key: str, region: str) -> None:
        """Who signed a call, and for which region (`access_key@region`)."""
        self.callers[operation][f"{access_key}@{region}"] += 1

    def throttle(self, operation: str) -> None:
        self.throttled[operation] += 1
        REQUESTS.labels(operation, "throttled").inc()

    def error(self, operation: str, code: str) -> None:
        self.errors[operation][code] += 1
        REQUESTS.labels(operation, "error").inc()

    def served(self, operation: str, n: int) -> None:
        self.bytes[operation] += n
        REQUESTS.labels(operation, "ok").inc()
        BYTES.labels(operation).inc(n)

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "throttled": dict(self.throttled),
            "bytes": dict(self.bytes),
            "errors": {op: dict(c) for op, c in self.errors.items()},
            "callers": {op: dict(c) for op, c in self.callers.items()},
            "total_calls": sum(self.calls.values()),
            "total_throttled": sum(self.throttled.values()),
        }
