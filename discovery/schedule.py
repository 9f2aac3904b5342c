"""When each instance's log files are listed next: busy instances every cycle, quiet ones less
and less often (doubling) up to a cap, so that a mostly idle fleet costs few DescribeDBLogFiles.

Per instance it also keeps the last sighting (the largest LastWritten RDS listed, in RDS's own
clock: the next listing's `FileLastWritten` filter) and when the last full listing was made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class PollState:
    next_due: float = 0.0
    quiet_streak: int = 0
    last_sighting_ms: int | None = None
    last_full: float | None = None
    state: str = "new"


class Schedule:
    def __init__(
        self,
        interval_sec: float,
        quiet_max_sec: float,
        full_every_sec: float,
        every_cycle: bool = False,
    ) -> None:
        self._every_cycle = every_cycle
        self._interval = interval_sec
        self._cap = max(interval_sec, quiet_max_sec)
        self._full_every = full_every_sec
        self._states: dict[str, PollState] = {}

    def state(self, resource_id: str) -> PollState:
        return self._states.setdefault(resource_id, PollState())

    def forget(self, resource_id: str) -> None:
        self._states.pop(resource_id, None)

    def due(self, resource_id: str, now: float | None = None) -> bool:
        if self._every_cycle:
            return True
        now = time.monotonic() if now is None else now
        # A tenth of an interval of slack so that cycle jitter does not skip a whole cycle.
        return self.state(resource_id).next_due <= now + self._interval * 0.1

    def wants_full(self, resource_id: str, now: float | None = None) -> bool:
        if self._every_cycle:
            return True
        now = time.monotonic() if now is None else now
        last = self.state(resource_id).last_full
        return last is None or now - last >= self._full_every

    def done(
        self,
        resource_id: str,
        changed: bool,
        newest_written_ms: int = 0,
        full: bool = False,
        state: str = "followed",
        now: float | None = None,
    ) -> None:
        now = time.monotonic() if now is None else now
        st = self.state(resource_id)
        st.state = state
        st.quiet_streak = 0 if changed else st.quiet_streak + 1
        wait = 0.0 if changed else min(self._cap, self._interval * 2 ** max(0, st.quiet_streak - 1))
        if st.quiet_streak <= 1:
            wait = 0.0
        st.next_due = now + wait
        if newest_written_ms:
            st.last_sighting_ms = max(st.last_sighting_ms or 0, newest_written_ms)
        if full:
            st.last_full = now
