"""Cutting a file's bytes into shippable ranges that end on entry boundaries.

A range is the unit of the no-loss protocol (docs/design.md §5): its events are shipped under one
write-ahead intent and checkpointed together, so a range must never split an entry (a multi-line
InnoDB dump, a slow-log entry) — a checkpoint in the middle of one would resume inside it. The
parser already knows where the last complete entry ends (`committed_offset`) and what it carries
across entries (`resume_state`, e.g. the slow log's database), so a range ends there and takes
that state with it.

Recovery of a pending intent re-reads the same bytes and must cut the *same* first range: the
`first_end` option forces it. Events are deterministic in the bytes (the parsers' tests check
that chunk cuts never change them), so the events that start before `first_end` are exactly the
ones the interrupted run shipped, and the state at `first_end` is the one the intent recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from processor.parsers import Event, parser_for
from processor.parsers.base import ResumeState


@dataclass(frozen=True)
class Range:
    """Bytes `[start, end)` of a file, the events they hold, and the parser state at `end`."""

    start: int
    end: int
    events: list[Event] = field(repr=False)
    state: ResumeState


class RangeCutter:
    """Feed it the file's bytes from `start` on; it returns ranges of about `target_bytes`."""

    def __init__(
        self,
        log_type: str,
        start: int,
        state: ResumeState,
        target_bytes: int,
        first_end: int | None = None,
        first_state: ResumeState | None = None,
    ) -> None:
        if first_end is not None and (first_end <= start or first_state is None):
            raise ValueError("first_end must lie after start and come with its parser state")
        self._parser = parser_for(log_type, start, state=state)
        self._start = start
        self._target = target_bytes
        self._events: list[Event] = []
        self._first_end = first_end
        self._first_state = first_state

    @property
    def start(self) -> int:
        """Where the next range starts (the end of the last one returned)."""
        return self._start

    @property
    def position(self) -> int:
        """Offset just past the last byte fed."""
        return self._parser.position

    def feed(self, chunk: bytes) -> list[Range]:
        self._events += self._parser.feed(chunk)
        return self._cut(self._parser.committed_offset, final=False)

    def flush_committed(self) -> list[Range]:
        """A range of whatever is complete now, however small (an active file caught up)."""
        committed = self._parser.committed_offset
        if self._first_end is not None and committed < self._first_end:
            return []  # the pending range is not re-read in full yet
        target, self._target = self._target, 1
        try:
            return self._cut(committed, final=False)
        finally:
            self._target = target

    def finish(self) -> list[Range]:
        """End of a complete (rotated) file: the last entry is complete too."""
        self._events += self._parser.flush()
        return self._cut(self._parser.position, final=True)

    def _cut(self, committed: int, final: bool) -> list[Range]:
        out: list[Range] = []
        if final and self._first_end is not None and committed < self._first_end:
            raise ValueError(
                f"the file ends at {committed}, before the pending range's end {self._first_end}"
            )
        if self._first_end is not None and committed >= self._first_end:
            out.append(self._forced_first(self._first_end))
        if committed > self._start and (final or committed - self._start >= self._target):
            out.append(Range(self._start, committed, self._events, self._parser.resume_state()))
            self._start = committed
            self._events = []
        return out

    def _forced_first(self, end: int) -> Range:
        inside = [e for e in self._events if e.start < end]
        if inside and inside[-1].end > end:
            raise ValueError(
                f"the pending range ends at {end}, inside the entry [{inside[-1].start}, "
                f"{inside[-1].end}): the bytes are not the ones the intent was made from"
            )
        assert self._first_state is not None
        first = Range(self._start, end, inside, dict(self._first_state))
        self._events = self._events[len(inside) :]
        self._start = end
        self._first_end = None
        return first
