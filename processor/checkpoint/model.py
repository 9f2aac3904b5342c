"""What a tracking row means to the processor: the file's key, its cursors, its pending intent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ParserState = dict[str, Any]


@dataclass(frozen=True)
class FileKey:
    """One file generation: the instance's DbiResourceId and the generation discovery named.

    Names move (renames, Blue/Green); a resource id never does. A reused active name and its
    later rotated name share one generation, so they share this key and one checkpoint.
    """

    resource_id: str
    generation: str


@dataclass(frozen=True)
class Intent:
    """The write-ahead record of a range about to be shipped (`pending` in the row).

    `first_us`/`last_us` bound the events' `_timestamp`s, so recovery asks OpenObserve about the
    batch within its own time range.
    """

    batch_id: str
    start: int
    end: int
    events: int
    marker: str | None = None
    marker_offset: int = 0
    parser_state: ParserState = field(default_factory=dict)
    first_us: int = 0
    last_us: int = 0
    owner: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "start": self.start,
            "end": self.end,
            "events": self.events,
            "marker": self.marker,
            "marker_offset": self.marker_offset,
            "parser_state": self.parser_state,
            "first_us": self.first_us,
            "last_us": self.last_us,
            "owner": self.owner,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Intent:
        return cls(
            batch_id=str(data["batch_id"]),
            start=int(data["start"]),
            end=int(data["end"]),
            events=int(data["events"]),
            marker=None if data.get("marker") is None else str(data["marker"]),
            marker_offset=int(data.get("marker_offset") or 0),
            parser_state=dict(data.get("parser_state") or {}),
            first_us=int(data.get("first_us") or 0),
            last_us=int(data.get("last_us") or 0),
            owner=str(data.get("owner") or ""),
        )


@dataclass(frozen=True)
class Checkpoint:
    """A tracking row as read (or as written back) at `version`."""

    key: FileKey
    version: int = 0
    shipped_offset: int = 0
    archived_offset: int = 0
    marker: str | None = None
    marker_offset: int = 0
    parser_state: ParserState = field(default_factory=dict)
    pending: Intent | None = None
    lease_owner: str | None = None
    lease_until: float = 0.0
    status: str | None = None  # `processor_status`: discovery owns the row's `status`
    attributes: dict[str, Any] = field(default_factory=dict)
    # Set by `acquire` only (not stored): the latest moment the previous holder may still have
    # written to the sinks — its lease end if it lost the lease, its last row write if it gave
    # the lease back, now if it was this process. Recovery trusts an absence only after it.
    last_foreign_write: float = 0.0

    @classmethod
    def empty(cls, key: FileKey) -> Checkpoint:
        return cls(key)

    def cursors(self) -> tuple[int, int, str | None, Intent | None]:
        """What only the lease holder may change; a foreign write must leave it as it was."""
        return (self.shipped_offset, self.archived_offset, self.marker, self.pending)
