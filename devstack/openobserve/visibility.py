"""What a search does not see (the search faults): rows written less than the visibility lag
ago, and the share of rows a failed querier leaves out of a partial answer.

The store keeps, per stream, the rowid range each request wrote and when; `hidden` turns the
faults in force into an SQL condition on a stream's rows (true for the rows left out), which
the SQL bridge applies inside the stream's time-window CTE, so aggregates miss them too.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

# Writes older than this are visible whatever the lag fault says (bounds the bookkeeping).
_MAX_LAG_SEC = 3_600.0
_MAX_WRITES = 100_000


@dataclass(frozen=True)
class Write:
    """The rows one request added to a stream (rowids `first..last`), and when (monotonic)."""

    first: int
    last: int
    at: float


class Visibility:
    def __init__(self) -> None:
        self._writes: dict[str, deque[Write]] = {}

    def record(self, stream: str, first: int, last: int) -> None:
        now = time.monotonic()
        writes = self._writes.setdefault(stream, deque())
        writes.append(Write(first, last, now))
        while writes and (len(writes) > _MAX_WRITES or writes[0].at < now - _MAX_LAG_SEC):
            writes.popleft()

    def forget(self, stream: str) -> None:
        self._writes.pop(stream, None)

    def hidden(self, stream: str, lag_sec: float, partial: tuple[int, float] | None) -> str:
        """An SQL condition true for the rows of `stream` a search leaves out: those written
        less than `lag_sec` ago, and with `partial` = (salt, share) a pseudo-random share of
        all rows (a different share for each salt). Empty when none is left out."""
        conditions = []
        if lag_sec > 0:
            since = time.monotonic() - lag_sec
            young = [w for w in self._writes.get(stream, ()) if w.at > since]
            conditions += [f"rowid BETWEEN {w.first} AND {w.last}" for w in young]
        if partial is not None:
            salt, share = partial
            conditions.append(f"((rowid * 2654435761 + {salt}) % 1000) < {int(share * 1000)}")
        return " OR ".join(f"({c})" for c in conditions)
