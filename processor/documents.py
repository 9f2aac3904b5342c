"""Parsed events become OpenObserve documents: docs/design.md §3's fields plus the parser's own.

`event_id` is deterministic from (resource id, file generation, start offset), so the same range
parsed twice yields the same ids and a resend can be recognised — also when the bytes are read once
under the active name and again under the rotated one, or after a rename (the first design named
the instance id and file name; both move, the resource id and generation do not); `_timestamp` is
the event's own time in µs (the sink decides what to do with events outside the server's ingestion
window).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from processor.parsers.event import Event

EVENT_ID_HEX = 32


@dataclass(frozen=True)
class FileContext:
    """Where a file comes from; the same for every event of the file."""

    account: str
    region: str
    cluster_id: str
    instance_id: str
    engine: str
    log_type: str
    log_file_name: str
    resource_id: str
    generation: str


def event_id(resource_id: str, generation: str, start_offset: int) -> str:
    """Hex sha256 of `resource_id|generation|start_offset`, truncated."""
    key = f"{resource_id}|{generation}|{start_offset}".encode()
    return hashlib.sha256(key).hexdigest()[:EVENT_ID_HEX]


def timestamp_us(event: Event, now: datetime) -> int:
    """The document's `_timestamp`: the event's own time, or `now` (ingest time) without one."""
    return int((event.event_time or now).timestamp() * 1_000_000)


def to_document(
    event: Event, context: FileContext, batch_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """The document shipped for `event`; events without a time get the ingest time."""
    when = event.event_time or now or datetime.now(UTC)
    doc = event.to_dict()
    doc.update(
        _timestamp=timestamp_us(event, when),
        event_time=when.isoformat(),
        event_id=event_id(context.resource_id, context.generation, event.start),
        batch_id=batch_id,
        account=context.account,
        region=context.region,
        cluster_id=context.cluster_id,
        instance_id=context.instance_id,
        engine=context.engine,
        log_type=context.log_type,
        log_file_name=context.log_file_name,
        resource_id=context.resource_id,
        generation=context.generation,
    )
    return doc
