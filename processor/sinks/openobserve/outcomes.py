"""What the client returns as data: where each shipped event went (`ShipResult`), and which
events a search found stored, absent or could not tell (`StoredCheck`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class PermanentFailure:
    """An event OpenObserve did not take and will not take if resent as is."""

    event_id: str
    reason: (
        str  # invalid_event, duplicate_event_id, http_400, payload_too_large, retries_exhausted...
    )
    status: int | None = None
    body: str = ""


@dataclass(frozen=True)
class Unsettled:
    """An event that may or may not be stored: a write of it may have landed, and searches
    could not tell (partial or young answers) within `openobserve_reconcile_attempts`. It was
    not resent (that could duplicate it); the caller keeps its intent and asks again later
    (`OpenObserveClient.which_stored`)."""

    event_id: str
    reason: str


@dataclass
class ShipResult:
    """Where each event of a `ship` call went; every event is in exactly one of the lists
    `delivered`, `failed`, `s3_only`, `unknown`. `retimed` lists the events that were sent with
    `_timestamp` = ingest time because they were outside the window (their `event_time` keeps
    the real time)."""

    stream: str
    delivered: list[str] = field(default_factory=list)
    failed: list[PermanentFailure] = field(default_factory=list)
    s3_only: list[str] = field(default_factory=list)
    unknown: list[Unsettled] = field(default_factory=list)
    retimed: list[str] = field(default_factory=list)
    requests: int = 0
    retries: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unknown

    def merge(self, other: ShipResult) -> None:
        self.delivered.extend(other.delivered)
        self.failed.extend(other.failed)
        self.s3_only.extend(other.s3_only)
        self.unknown.extend(other.unknown)
        self.retimed.extend(other.retimed)
        self.requests += other.requests
        self.retries += other.retries


class Presence(StrEnum):
    STORED = "stored"
    ABSENT = "absent"  # a complete answer, old enough to have shown it: not stored
    UNKNOWN = "unknown"  # partial answer, too young, or the search failed: ask again later


@dataclass(frozen=True)
class StoredCheck:
    """The answer to "which of these event_ids are stored": each asked id is in exactly one of
    `stored`, `absent`, `unknown`; `reasons` say why some are unknown."""

    stored: frozenset[str]
    absent: frozenset[str]
    unknown: frozenset[str]
    reasons: tuple[str, ...] = ()

    @classmethod
    def build(
        cls, asked: Collection[str], found: set[str], unsure: bool, reasons: list[str]
    ) -> StoredCheck:
        stored = frozenset(e for e in asked if e in found)
        missing = frozenset(e for e in asked if e not in found)
        if unsure:
            return cls(stored, frozenset(), missing, tuple(dict.fromkeys(reasons)))
        return cls(stored, missing, frozenset(), ())

    def of(self, event_id: str) -> Presence:
        if event_id in self.stored:
            return Presence.STORED
        if event_id in self.absent:
            return Presence.ABSENT
        return Presence.UNKNOWN
