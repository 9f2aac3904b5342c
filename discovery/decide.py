"""What to do with one sighted file, given its tracking row: announce it, record it as skipped
(START_POSITION), or nothing. Pure: the cycle does the I/O.

A file is announced when RDS lists bytes beyond its checkpoint and it was not already announced
at that size (nor, for a file that just became complete, as complete); a file still behind long
after its announcement is announced again (the processor may have dead-lettered it).

A growing (active) file already announced is announced again only once it has grown by
`active_min_bytes` or its last announcement is `active_max_delay_sec` old: every announcement
of an active file costs a processor at least one portion call of the account's 12/s, so
following 600 active files at every small growth would take the whole budget. Freshness of an
active file is therefore bounded by the delay; its rotated copy is read whole the hour after.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from common.log_types import LogType
from discovery.listing import Sighting
from discovery.tracking import Row

HOUR = 3600.0
# How long RDS keeps a complete file (docs/reference/rds-api.md §2): the sooner it goes, the
# sooner it is read.
RETENTION_SEC = {
    LogType.ERROR: 30 * 24 * HOUR,
    LogType.SLOWQUERY: 24 * HOUR,
    LogType.GENERAL: 24 * HOUR,
    LogType.AUDIT: 24 * HOUR,
    LogType.POSTGRESQL: 3 * 24 * HOUR,
}


class Action(StrEnum):
    NOTHING = "nothing"
    ANNOUNCE = "announce"
    SKIP = "skip"


@dataclass(frozen=True)
class Pacing:
    """When an announced active file is worth announcing again (0, 0: at every growth)."""

    min_bytes: int = 0
    max_delay_sec: float = 0.0

    def waits(self, s: Sighting, row: Row, now: float) -> bool:
        if s.rotated or not row.published_size:
            return False
        grown = s.size - row.published_size
        return grown < self.min_bytes and now - row.published_at < self.max_delay_sec


@dataclass(frozen=True)
class Decision:
    action: Action
    start_offset: int = 0


def decide(
    s: Sighting,
    row: Row | None,
    *,
    start_after_sec: float | None,
    first_listing: bool,
    newest_written_ms: int,
    now: float,
    reannounce_sec: float,
    pacing: Pacing = Pacing(),
) -> Decision:
    if row is None:
        if s.size == 0:
            return Decision(Action.NOTHING)
        if first_listing and start_after_sec is not None:
            cutoff = newest_written_ms - start_after_sec * 1000
            if start_after_sec == 0 or s.last_written < cutoff:
                return Decision(Action.SKIP, s.size)
        return Decision(Action.ANNOUNCE, 0)
    if s.size <= row.checkpoint(s.rotated) or pacing.waits(s, row, now):
        return Decision(Action.NOTHING)
    if (
        row.published_size != s.size
        or (s.rotated and not row.published_rotated)
        or now - row.published_at >= reannounce_sec
    ):
        return Decision(Action.ANNOUNCE)
    return Decision(Action.NOTHING)


def expiry_estimate(s: Sighting) -> float:
    """When RDS will likely remove the file (seconds); a growing file does not expire."""
    if not s.rotated:
        return float("inf")
    return s.last_written / 1000 + RETENTION_SEC[s.log_type]


def behind(s: Sighting, row: Row | None) -> int:
    """Bytes RDS lists beyond the checkpoint."""
    done = row.checkpoint(s.rotated) if row is not None else 0
    return max(0, s.size - done)
