"""One ingestion request, start to finish on the store's thread: decode, prepare every record,
apply the per-record faults, write each stream in one transaction, and build the response body
(`{"code":200,"status":[...]}` for `_json`/`_multi`, the Elasticsearch shape for `_bulk`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from devstack.openobserve import bodies
from devstack.openobserve.admin import Stats
from devstack.openobserve.faults import FaultState
from devstack.openobserve.ingest import (
    Preparer,
    RecordError,
    Window,
    format_stream_name,
    now_micros,
)
from devstack.openobserve.store import ColumnsLimit, Store

log = structlog.get_logger(__name__)

INJECTED_RECORD_ERROR = "Failed to write record: injected failure (emulator fault injection)"


@dataclass
class StreamStatus:
    name: str
    successful: int = 0
    failed: int = 0
    error: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "successful": self.successful}
        out["failed"] = self.failed
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class Ingestion:
    """What one request needs besides its body."""

    kind: str  # json | multi | bulk
    org: str
    stream: str | None
    body: bytes
    encoding: str | None


def handle(
    req: Ingestion, store: Store, faults: FaultState, stats: Stats, flatten_level: int
) -> dict[str, Any]:
    """Process one request; raises `bodies.BadBody`/`PayloadTooLarge`/`UnsupportedEncoding`."""
    started = time.monotonic()
    limits = faults.current
    data = bodies.decompress(req.body, req.encoding, limits.payload_limit)
    stats.bytes["decompressed"] += len(data)
    if req.kind == "bulk":
        docs = bodies.parse_bulk(data)
        targets = [(d.stream, d.record) for d in docs]
    else:
        assert req.stream is not None
        stream = format_stream_name(req.stream)
        records = (
            bodies.parse_json_records(data)
            if req.kind == "json"
            else bodies.parse_multi_records(data)
        )
        targets = [(stream, r) for r in records]
        docs = []
    stats.records["received"] += len(targets)
    window = Window(limits.ingest_allowed_upto_hours, limits.ingest_allowed_in_future_hours)
    prepare = Preparer(window, now_micros(), flatten_level)
    statuses: dict[str, StreamStatus] = {}
    if req.stream is not None:
        name = format_stream_name(req.stream)
        statuses[name] = StreamStatus(name)
    outcomes: list[tuple[str, str] | None] = []  # per record: None ok, (type, reason) failed
    record_faults = faults.any_record_faults
    for stream, record in targets:
        status = statuses.get(stream) or statuses.setdefault(stream, StreamStatus(stream))
        try:
            row = prepare(record)
        except RecordError as exc:
            status.failed += 1
            status.error = str(exc)
            outcomes.append((exc.kind, str(exc)))
            continue
        fate = faults.record_fate() if record_faults else "ok"
        if fate == "lose":
            stats.records["lost"] += 1
            outcomes.append(None)
            continue
        if fate == "fail":
            status.failed += 1
            status.error = INJECTED_RECORD_ERROR
            outcomes.append(("schema_conformance_failed", INJECTED_RECORD_ERROR))
            continue
        status.rows.append(row)
        outcomes.append(None)
    share = len(data) // max(len(targets), 1)
    for status in statuses.values():
        _write(req.org, status, store, stats, limits.cols_limit, share)
    for status in statuses.values():
        stats.records["failed"] += status.failed
    if req.kind == "bulk":
        return _bulk_body(docs, outcomes, started)
    return {"code": 200, "status": [s.body() for s in statuses.values()]}


def _write(
    org: str, status: StreamStatus, store: Store, stats: Stats, cols_limit: int, share: int
) -> None:
    if not status.rows:
        return
    try:
        store.insert(org, status.name, status.rows, share * len(status.rows), cols_limit)
    except ColumnsLimit as exc:
        # The server only logs this schema failure and still answers 200 with 0/0: silent loss.
        log.warning(
            "o2_columns_limit",
            stream=status.name,
            columns=exc.columns,
            limit=cols_limit,
            dropped=len(status.rows),
        )
        stats.records["lost"] += len(status.rows)
        stats.failures["columns_limit"] += 1
        status.rows = []
        return
    status.successful = len(status.rows)
    stats.records["successful"] += status.successful
    status.rows = []


def _bulk_body(
    docs: list[bodies.BulkDoc], outcomes: list[tuple[str, str] | None], started: float
) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for seq, (doc, outcome) in enumerate(zip(docs, outcomes, strict=True), start=1):
        if outcome is None:
            detail: dict[str, Any] = {
                "_index": doc.stream,
                "_id": doc.doc_id,
                "_version": 1,
                "result": "created",
                "_shards": {"total": 1, "successful": 1, "failed": 0},
                "_seq_no": seq,
                "_primary_term": 1,
                "status": 200,
            }
        else:
            kind, reason = outcome
            detail = {
                "_index": doc.stream,
                "_id": doc.doc_id,
                "status": 422,
                "error": {
                    "type": kind,
                    "reason": reason,
                    "index_uuid": "0",
                    "shard": "1",
                    "index": doc.stream,
                },
                "originalRecord": doc.record,
            }
        items.append({doc.action: detail})
    return {
        "took": int((time.monotonic() - started) * 1000),
        "errors": any(o is not None for o in outcomes),
        "items": items,
    }
