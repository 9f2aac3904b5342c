"""One ingestion request on the store's thread, in two steps: `decode` (decompress, parse,
prepare every record, apply the per-record faults; no store access) and `commit` (write each
stream in one transaction, then build the response body: `{"code":200,"status":[...]}` for
`_json`/`_multi`, the Elasticsearch shape for `_bulk`).

Both steps run on the one store thread: decoding on a second thread, to overlap SQLite's writes
(which release the GIL), was measured slower, as the two threads then fight over the GIL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from devstack.openobserve import bodies
from devstack.openobserve.admin import Stats
from devstack.openobserve.faults import FaultState
from devstack.openobserve.ingest import (
    Preparer,
    RecordError,
    Row,
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
    rows: list[Row] = field(default_factory=list)
    hidden: int = 0  # counted successful, never written (the hidden-loss fault)

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


@dataclass
class Decoded:
    """A request decoded and prepared, waiting for `commit`."""

    req: Ingestion
    started: float
    statuses: dict[str, StreamStatus]
    docs: list[bodies.BulkDoc]
    outcomes: list[tuple[str, str] | None]  # per record: None ok, (type, reason) failed
    cols_limit: int
    share: int  # decompressed bytes per record, for the stream's storage stats
    lost: int  # records dropped by the silent-loss fault


def handle(
    req: Ingestion, store: Store, faults: FaultState, stats: Stats, flatten_level: int
) -> dict[str, Any]:
    """Process one request; raises `bodies.BadBody`/`PayloadTooLarge`/`UnsupportedEncoding`."""
    return commit(decode(req, faults, stats, flatten_level), store, stats)


def decode(req: Ingestion, faults: FaultState, stats: Stats, flatten_level: int) -> Decoded:
    """Everything before the write; raises `bodies.BadBody`/`PayloadTooLarge`/
    `UnsupportedEncoding` (nothing is written then)."""
    started = time.monotonic()
    limits = faults.current
    data = bodies.decompress(req.body, req.encoding, limits.payload_limit)
    stats.bytes["decompressed"] += len(data)
    docs: list[bodies.BulkDoc] = []
    if req.kind == "bulk":
        docs = bodies.parse_bulk(data)
        records = [d.record for d in docs]
    elif req.kind == "json":
        records = bodies.parse_json_records(data)
    else:
        records = bodies.parse_multi_records(data)
    stats.records["received"] += len(records)
    window = Window(limits.ingest_allowed_upto_hours, limits.ingest_allowed_in_future_hours)
    prepare = Preparer(window, now_micros(), flatten_level).row
    statuses: dict[str, StreamStatus] = {}
    outcomes: list[tuple[str, str] | None] = []
    lost = 0
    if req.stream is not None and not faults.any_record_faults:
        # The common request: one stream and no per-record faults (outcomes are for `_bulk`).
        status = StreamStatus(format_stream_name(req.stream))
        statuses[status.name] = status
        append = status.rows.append
        for record in records:
            try:
                append(prepare(record))
            except RecordError as exc:
                status.failed += 1
                status.error = str(exc)
    else:
        if req.stream is not None:
            name = format_stream_name(req.stream)
            statuses[name] = StreamStatus(name)
            targets = [(name, r) for r in records]
        else:
            targets = [(d.stream, d.record) for d in docs]
        lost = _prepare_each(targets, prepare, faults, statuses, outcomes)
    share = len(data) // max(len(records), 1)
    return Decoded(req, started, statuses, docs, outcomes, limits.cols_limit, share, lost)


def _prepare_each(
    targets: list[tuple[str, Any]],
    prepare: Callable[[Any], Row],
    faults: FaultState,
    statuses: dict[str, StreamStatus],
    outcomes: list[tuple[str, str] | None],
) -> int:
    """Prepare each (stream, record), applying the per-record faults; returns how many were
    silently lost."""
    record_faults = faults.any_record_faults
    lost = 0
    for stream, record in targets:
        status = statuses.get(stream) or statuses.setdefault(stream, StreamStatus(stream))
        try:
            row = prepare(record)
        except RecordError as exc:
            status.failed += 1
            status.error = str(exc)
            outcomes.append((exc.kind, str(exc)))
            continue
        if record_faults:
            fate = faults.record_fate()
            if fate == "lose":
                lost += 1
                outcomes.append(None)
                continue
            if fate == "hide":
                status.hidden += 1
                outcomes.append(None)  # `_bulk` reports it created, too
                continue
            if fate == "fail":
                status.failed += 1
                status.error = INJECTED_RECORD_ERROR
                outcomes.append(("schema_conformance_failed", INJECTED_RECORD_ERROR))
                continue
        status.rows.append(row)
        outcomes.append(None)
    return lost


def commit(decoded: Decoded, store: Store, stats: Stats) -> dict[str, Any]:
    """Write what `decode` prepared (on the store's thread) and build the response body."""
    statuses = decoded.statuses
    stats.records["lost"] += decoded.lost
    for status in statuses.values():
        _write(decoded.req.org, status, store, stats, decoded.cols_limit, decoded.share)
    for status in statuses.values():
        stats.records["failed"] += status.failed
    if decoded.req.kind == "bulk":
        return _bulk_body(decoded.docs, decoded.outcomes, decoded.started)
    return {"code": 200, "status": [s.body() for s in statuses.values()]}


def _write(
    org: str, status: StreamStatus, store: Store, stats: Stats, cols_limit: int, share: int
) -> None:
    if status.hidden:
        # The server counts these before its write fails, logs the failure and answers 200.
        log.error("o2_write_failed_after_ack", org=org, stream=status.name, lost=status.hidden)
        status.successful += status.hidden
        stats.records["lost_after_ack"] += status.hidden
        stats.records["successful"] += status.hidden
        stats.acknowledged[f"{org}/{status.name}"] += status.hidden
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
    status.successful += len(status.rows)
    stats.records["successful"] += len(status.rows)
    stats.acknowledged[f"{org}/{status.name}"] += len(status.rows)
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
