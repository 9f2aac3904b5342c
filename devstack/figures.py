"""Pure arithmetic behind the demo's and the pipeline bench's figures: percentiles, rates
between two samples of counters, the emulated clock mapped back to wall time, and how many
bytes a set of archived ranges covers. No I/O, so each is unit-tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q`-th percentile (0-100) by linear interpolation between closest ranks (numpy's
    default), or None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def rate(before: float, after: float, seconds: float) -> float:
    """Per-second rate of a counter between two samples; a counter that went down (a process
    restarted and its count began again) counts from zero, as Prometheus' `rate` does."""
    if seconds <= 0:
        return 0.0
    delta = after - before if after >= before else after
    return delta / seconds


def rates(
    before: Mapping[str, float], after: Mapping[str, float], seconds: float
) -> dict[str, float]:
    """`rate` for every counter of `after` (absent before: from zero)."""
    return {k: rate(before.get(k, 0.0), v, seconds) for k, v in after.items()}


def per_gb(count: float, byte_count: float) -> float | None:
    """`count` per GB (10^9 bytes) of `byte_count`; None when no bytes moved."""
    return count / (byte_count / 1e9) if byte_count > 0 else None


@dataclass(frozen=True)
class ClockMap:
    """The RDS emulator's clock read at one wall-clock moment: emulated time `emulated` at
    wall time `wall`, running `speed` emulated seconds per wall second."""

    wall: float
    emulated: float
    speed: float

    def to_wall(self, emulated_ts: float) -> float:
        """When (wall clock) the emulator's clock showed `emulated_ts`."""
        if self.speed <= 0:
            raise ValueError("a frozen emulated clock cannot be mapped to wall time")
        return self.wall - (self.emulated - emulated_ts) / self.speed


def covered(ranges: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """`(bytes covered by the union of [start, end) ranges, bytes covered more than once)`."""
    union = overlap = 0
    reach = None
    for start, end in sorted(ranges):
        if end <= start:
            continue
        if reach is None or start >= reach:
            union += end - start
            reach = end
            continue
        overlap += min(end, reach) - start
        if end > reach:
            union += end - reach
            reach = end
    return union, overlap
