"""The unit every parser emits: one log entry with its byte range, fields and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

Fields = dict[str, Any]


@dataclass(slots=True)
class Event:
    """One log entry: its byte range in the file, parsed fields and time."""

    start: int
    end: int
    fields: Fields
    event_time: datetime | None
    parse_error: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The event as a flat JSON-ready object (field names are lower-case [a-z0-9_])."""
        out: dict[str, Any] = {
            "offset": self.start,
            "end_offset": self.end,
            "event_time": None if self.event_time is None else self.event_time.isoformat(),
            "parse_error": self.parse_error,
        }
        out.update(self.fields)
        return out
