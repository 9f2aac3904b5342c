"""The emulated clock: real time, accelerated, or frozen, and advanced on demand.

Every log line and every rotation is stamped with this clock, so that an hour of rotation can pass
in a minute (speed 60) or a test can freeze time (speed 0) and step it exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """Emulated seconds since the epoch: `start + elapsed_real * speed + advanced`."""

    def __init__(
        self, start: float, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if speed < 0:
            raise ValueError(f"clock speed must be >= 0, got {speed}")
        self._monotonic = monotonic
        self._base = start
        self._real = monotonic()
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._base + (self._monotonic() - self._real) * self._speed

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError(f"clock speed must be >= 0, got {speed}")
        self._base = self.now()
        self._real = self._monotonic()
        self._speed = speed

    def advance(self, seconds: float) -> None:
        """Jump forward; time never goes back, because files only ever grow."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, got {seconds}")
        self._base += seconds
