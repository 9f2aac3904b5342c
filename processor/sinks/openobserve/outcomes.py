"""What `OpenObserveClient.ship` returns: where each event went."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PermanentFailure:
    """An event OpenObserve did not take and will not take if resent as is."""

    event_id: str
    reason: (
        str  # invalid_event, duplicate_event_id, http_400, payload_too_large, retries_exhausted...
    )
    status: int | None = None
    body: str = ""


@dataclass
class ShipResult:
    """Where each event of a `ship` call went; every event is in exactly one of the three lists
    `delivered`, `failed`, `s3_only`. `retimed` lists the events that were sent with
    `_timestamp` = ingest time because they were outside the window (their `event_time` keeps
    the real time)."""

    stream: str
    delivered: list[str] = field(default_factory=list)
    failed: list[PermanentFailure] = field(default_factory=list)
    s3_only: list[str] = field(default_factory=list)
    retimed: list[str] = field(default_factory=list)
    requests: int = 0
    retries: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def merge(self, other: ShipResult) -> None:
        self.delivered.extend(other.delivered)
        self.failed.extend(other.failed)
        self.s3_only.extend(other.s3_only)
        self.retimed.extend(other.retimed)
        self.requests += other.requests
        self.retries += other.retries
