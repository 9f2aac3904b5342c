"""`/_admin/`: what the tests, the demo and the benchmarks ask of the emulator (no auth).

* `GET /_admin/stats`: requests, records, bytes and failures counted since start (or reset);
* `POST /_admin/reset`: `{"data": true, "stats": true, "faults": true}` (each defaults to true);
* `GET|POST|DELETE /_admin/faults`: read, partially update, or clear the faults (`faults.Faults`);
* `GET /_admin/truth?org=default&stream=s[&event_ids=true]`: the ground truth of a stream, faults
  aside: `acknowledged` (records answered `successful`), `stored` (records on disk) and, with
  `event_ids`, each stored `event_id` with its number of copies;
* `GET /_admin/arrivals?org=default&stream=s&field=event_time&limit=20000`: when records
  arrived (ingest time, µs, wall clock) beside a field of theirs, for an even sample of rows —
  what the demo's freshness figures are computed from;
* `GET /_admin/healthz`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from devstack.fault_admin import fault_routes, json_object
from devstack.openobserve.faults import FaultState


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    records: Counter[str] = field(default_factory=Counter)
    bytes: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    # Records answered `successful`, per "org/stream": what the server acknowledged, to hold
    # against what it stored (`/_admin/truth`).
    acknowledged: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": {"total": sum(self.requests.values()), **self.requests},
            "statuses": dict(self.statuses),
            "records": {
                k: self.records.get(k, 0)
                for k in ("received", "successful", "failed", "lost", "lost_after_ack")
            },
            "bytes": {k: self.bytes.get(k, 0) for k in ("received", "decompressed")},
            "failures": dict(self.failures),
        }

    def clear(self) -> None:
        for counter in (self.requests, self.statuses, self.records, self.bytes, self.failures):
            counter.clear()


StoreCall = Callable[[str], Awaitable[Any]]
TruthCall = Callable[[str, str, bool], Awaitable[dict[str, Any]]]
ArrivalsCall = Callable[[str, str, str, int], Awaitable[dict[str, Any]]]


def routes(
    stats: Stats,
    faults: FaultState,
    store_call: StoreCall,
    truth: TruthCall,
    arrivals: ArrivalsCall,
) -> list[web.RouteDef]:
    """`store_call("total_records"|"reset")` runs that store method on the store's thread;
    `truth(org, stream, event_ids)` reads what a stream holds, faults aside; `arrivals(org,
    stream, field, limit)` when its records arrived."""

    async def get_arrivals(request: web.Request) -> web.Response:
        stream = request.query.get("stream")
        if not stream:
            raise web.HTTPBadRequest(text="stream is required")
        try:
            limit = int(request.query.get("limit", "20000"))
        except ValueError as exc:
            raise web.HTTPBadRequest(text=f"limit must be an integer: {exc}") from exc
        org = request.query.get("org", "default")
        field = request.query.get("field", "_timestamp")
        return web.json_response(await arrivals(org, stream, field, limit))

    async def get_truth(request: web.Request) -> web.Response:
        stream = request.query.get("stream")
        if not stream:
            raise web.HTTPBadRequest(text="stream is required")
        org = request.query.get("org", "default")
        with_ids = request.query.get("event_ids", "false").lower() == "true"
        return web.json_response(await truth(org, stream, with_ids))

    async def get_stats(_request: web.Request) -> web.Response:
        body = stats.snapshot()
        body["stored_records"] = await store_call("total_records")
        return web.json_response(body)

    async def reset(request: web.Request) -> web.Response:
        options = await json_object(request)
        if options.get("data", True):
            await store_call("reset")
            stats.acknowledged.clear()
        if options.get("stats", True):
            stats.clear()
        if options.get("faults", True):
            faults.clear()
        return web.json_response({"reset": True})

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    return [
        web.get("/_admin/stats", get_stats),
        web.post("/_admin/reset", reset),
        *fault_routes(faults),
        web.get("/_admin/healthz", healthz),
        web.get("/_admin/truth", get_truth),
        web.get("/_admin/arrivals", get_arrivals),
    ]
