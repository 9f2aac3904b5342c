"""The emulator's HTTP surface (aiohttp): ingestion, search, streams, health and admin routes.

Every store access runs on one dedicated thread, so requests are applied one at a time, each in
one transaction, while the event loop stays free for health checks and admin calls.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from aiohttp import web

from devstack.openobserve import admin, auth, batch, bodies
from devstack.openobserve.faults import FaultState
from devstack.openobserve.sql import SqlError
from devstack.openobserve.store import Store

log = structlog.get_logger(__name__)

T = TypeVar("T")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TOO_LARGE = "Failed to buffer the request body: length limit exceeded"
_DEFAULT_ORG = "default"  # exists from the start; any other org once something is ingested
_PARTIAL_ERROR = "Partial data: a querier failed to answer (emulator fault injection)"
_AFTER_WRITE_TEXT = {
    "502": (502, "502 Bad Gateway (emulator fault injection: the records were stored)"),
    "504": (504, "504 Gateway Time-out (emulator fault injection: the records were stored)"),
}
_STATUS_TEXT = {
    408: "Request timeout",
    429: "Too many requests: rate limit exceeded (emulator fault injection)",
    500: "Internal server error (emulator fault injection)",
    502: "Bad gateway (emulator fault injection)",
    503: "Service unavailable: memory circuit breaker tripped (emulator fault injection)",
    504: "Gateway timeout (emulator fault injection)",
}


@dataclass(frozen=True)
class Options:
    flatten_level: int = 3
    query_default_limit: int = 1000
    fulltext_fields: tuple[str, ...] = ()
    search_timeout_sec: float = 30.0


class Emulator:
    def __init__(
        self, store: Store, faults: FaultState, creds: auth.Credentials, options: Options
    ) -> None:
        self.store = store
        self.faults = faults
        self.creds = creds
        self.options = options
        self.stats = admin.Stats()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="o2-store")

    async def _on_store(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    async def _store_call(self, name: str) -> Any:
        return await self._on_store(getattr(self.store, name))

    async def _truth(self, org: str, stream: str, event_ids: bool) -> dict[str, Any]:
        truth = await self._on_store(self.store.truth, org, stream, event_ids)
        acknowledged = self.stats.acknowledged[f"{org}/{stream}"]
        return {"org": org, "stream": stream, "acknowledged": acknowledged, **truth}

    async def _arrivals(self, org: str, stream: str, field: str, limit: int) -> dict[str, Any]:
        return await self._on_store(self.store.arrivals, org, stream, field, limit)

    def close(self) -> None:
        self._executor.submit(self.store.close).result()
        self._executor.shutdown(wait=True)

    def app(self) -> web.Application:
        # The body limit is ours (413 on the decompressed size), not aiohttp's 1 MiB default.
        app = web.Application(middlewares=[self._middleware], client_max_size=2**40)
        app.add_routes(
            [
                web.get("/healthz", self.healthz),
                web.post("/api/{org}/{stream}/_json", self.ingest_json),
                web.post("/api/{org}/{stream}/_multi", self.ingest_multi),
                web.post("/api/{org}/_bulk", self.ingest_bulk),
                web.post("/api/{org}/_search", self.search),
                web.get("/api/{org}/streams", self.streams),
                web.delete("/api/{org}/streams/{stream}", self.delete_stream),
                web.get("/api/{org}/passcode", self.passcode),
                *admin.routes(
                    self.stats, self.faults, self._store_call, self._truth, self._arrivals
                ),
            ]
        )
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        self.stats.requests[_route_name(request.path)] += 1
        if not auth.authorised(
            request.headers.get("Authorization"), self.creds, auth.is_ingestion(request.path)
        ):
            self.stats.failures["unauthorized"] += 1
            self.stats.statuses["401"] += 1
            return auth.unauthorized()
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self.stats.statuses[str(exc.status)] += 1
            raise
        self.stats.statuses[str(response.status)] += 1
        return response

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ingest_json(self, request: web.Request) -> web.Response:
        return await self._ingest(request, "json", request.match_info["stream"])

    async def ingest_multi(self, request: web.Request) -> web.Response:
        return await self._ingest(request, "multi", request.match_info["stream"])

    async def ingest_bulk(self, request: web.Request) -> web.Response:
        return await self._ingest(request, "bulk", None)

    async def _ingest(self, request: web.Request, kind: str, stream: str | None) -> web.Response:
        delay = self.faults.latency_sec()
        if delay > 0:
            await asyncio.sleep(delay)
        body, too_large = await self._read_body(request, self.faults.current.payload_limit)
        self.stats.bytes["received"] += len(body)
        injected = self.faults.injected_status()
        if injected is not None:
            self.stats.failures[f"injected_{injected}"] += 1
            message = _STATUS_TEXT.get(injected, "injected failure")
            wait = self.faults.current.retry_after_sec
            # A proxy or the server's rate limiter may say when to come back.
            headers = {"Retry-After": str(wait)} if wait and injected in (429, 503) else None
            return web.json_response(
                {"code": injected, "message": message}, status=injected, headers=headers
            )
        if too_large:
            self.stats.failures["payload_too_large"] += 1
            return web.Response(status=413, text=_TOO_LARGE)
        req = batch.Ingestion(
            kind, request.match_info["org"], stream, body, request.headers.get("Content-Encoding")
        )
        try:
            result = await self._on_store(
                batch.handle, req, self.store, self.faults, self.stats, self.options.flatten_level
            )
        except bodies.PayloadTooLarge:
            self.stats.failures["payload_too_large"] += 1
            return web.Response(status=413, text=_TOO_LARGE)
        except bodies.UnsupportedEncoding as exc:
            self.stats.failures["unsupported_encoding"] += 1
            return web.Response(status=415, text=f"Unsupported Content-Encoding: {exc}")
        except bodies.BadBody as exc:
            self.stats.failures["bad_request"] += 1
            return web.json_response({"code": 400, "message": str(exc)}, status=400)
        except Exception as exc:
            # The real server logs a write failure; we answer 500 so nothing passes unnoticed.
            log.exception("o2_ingest_failed", kind=kind, org=req.org, stream=stream)
            self.stats.failures["internal"] += 1
            return web.json_response({"code": 500, "message": str(exc)}, status=500)
        return await self._answer_after_write(result)

    async def _answer_after_write(self, result: dict[str, Any]) -> web.Response:
        """The true answer, or (a fault) a gateway error or a stall past the client's timeout:
        the records are stored either way."""
        lie = self.faults.after_write()
        if lie is None:
            return web.json_response(result)
        self.stats.failures[f"after_write_{lie}"] += 1
        if lie == "timeout":
            await asyncio.sleep(self.faults.current.after_write_stall_ms / 1000.0)
            return web.json_response(result)
        status, text = _AFTER_WRITE_TEXT[lie]
        return web.Response(status=status, text=text)

    @staticmethod
    async def _read_body(request: web.Request, limit: int) -> tuple[bytes, bool]:
        """The whole body (drained even when too large, so the client reads our 413)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(1 << 20):
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
        return b"".join(chunks), size > limit

    async def search(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError) as exc:
            return web.Response(status=400, text=f"Failed to parse the request body as JSON: {exc}")
        try:
            query, start, end, offset, size, track = self._search_params(body)
        except (ValueError, TypeError, KeyError) as exc:
            # axum's `Json` extractor: a body of the wrong shape is 422, in plain text.
            text = f"Failed to deserialize the JSON body into the target type: {exc}"
            return web.Response(status=422, text=text)
        org = request.match_info["org"]
        db = await self._on_store(self.store.org, org, False)
        if db is None:
            if org != _DEFAULT_ORG:
                return web.Response(status=404, text="Organization not found")
            return _search_error(SqlError(20002, "Search stream not found", "no streams"))
        faults = self.faults.current
        notes: list[str] = []
        extra: dict[str, Any] = {}
        max_range = int(faults.max_query_range_hours * 3_600_000_000)
        if max_range and end - start > max_range:
            # The server moves the start later, says so, and marks the answer partial.
            start = end - max_range
            hours = f"{faults.max_query_range_hours:g}"
            notes.append(
                f"Query duration is modified due to query range restriction of {hours} hours"
            )
            extra = {"new_start_time": start, "new_end_time": end}
        salt = self.faults.partial_search()
        if salt is not None:
            notes.append(_PARTIAL_ERROR)
            self.stats.failures["search_partial"] += 1
        try:
            outcome = await self._on_store(
                db.search,
                query,
                start,
                end,
                offset,
                size,
                track,
                self.options.fulltext_fields,
                self.options.search_timeout_sec,
                faults.visibility_lag_ms / 1000.0,
                None if salt is None else (salt, faults.search_partial_share),
            )
        except SqlError as exc:
            return _search_error(exc)
        answer: dict[str, Any] = {
            "took": outcome.took_ms,
            "took_detail": {"total": outcome.took_ms, "wait_queue": 0},
            "hits": outcome.hits,
            "total": outcome.total,
            "from": offset,
            "size": size,
            "cached_ratio": 0,
            "scan_size": 0,
            "idx_scan_size": 0,
            "scan_records": len(outcome.hits),
            "is_partial": bool(notes),
            "result_cache_ratio": 0,
            **extra,
        }
        if notes:
            answer["function_error"] = notes
        return web.json_response(answer)

    def _search_params(self, body: Any) -> tuple[str, int, int, int, int, bool]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), dict):
            raise ValueError("missing field `query`")
        query = body["query"]
        sql = query.get("sql")
        if not isinstance(sql, str):
            raise ValueError("query: missing field `sql`")
        for required in ("start_time", "end_time"):
            if not isinstance(query.get(required), int) or isinstance(query[required], bool):
                raise ValueError(f"query: missing field `{required}`")
        if body.get("encoding") == "base64":
            try:
                sql = base64.b64decode(sql).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise ValueError(f"query.sql is not base64: {exc}") from exc
        offset = int(query.get("from") or 0)
        size = int(query.get("size") or 0)
        if size <= 0:  # 0 and -1 both mean the default limit
            size = self.options.query_default_limit
        track = bool(query.get("track_total_hits", False))
        return sql, int(query["start_time"]), int(query["end_time"]), offset, size, track

    async def streams(self, request: web.Request) -> web.Response:
        stream_type = request.query.get("type", "logs")
        with_schema = request.query.get("fetchSchema", "false").lower() == "true"
        db = await self._on_store(self.store.org, request.match_info["org"], False)
        if db is None or stream_type != "logs":
            return web.json_response({"list": [], "total": 0})
        stats = await self._on_store(db.stream_stats)
        listing = []
        for entry in stats:
            meta = db.streams[entry["name"]]
            item: dict[str, Any] = {
                "name": entry["name"],
                "storage_type": "disk",
                "stream_type": "logs",
                "stats": {
                    "created_at": entry["created_at"],
                    "doc_time_min": entry["doc_time_min"],
                    "doc_time_max": entry["doc_time_max"],
                    "doc_num": entry["doc_num"],
                    "file_num": 0,
                    "storage_size": entry["storage_size"],
                    "compressed_size": entry["storage_size"],
                    "index_size": 0.0,
                },
                "settings": {
                    "partition_keys": {},
                    "full_text_search_keys": _present(self.options.fulltext_fields, meta.types),
                    "index_fields": [],
                    "bloom_filter_fields": [],
                    "data_retention": 0,
                },
            }
            if with_schema:
                item["schema"] = [{"name": n, "type": t} for n, t in sorted(meta.types.items())]
            listing.append(item)
        return web.json_response({"list": listing, "total": len(listing)})

    async def delete_stream(self, request: web.Request) -> web.Response:
        db = await self._on_store(self.store.org, request.match_info["org"], False)
        name = request.match_info["stream"]
        if db is None or not await self._on_store(db.delete_stream, name):
            return web.json_response({"code": 404, "message": "stream not found"}, status=404)
        return web.json_response({"code": 200, "message": "stream deleted"})

    async def passcode(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"data": {"user": self.creds.user, "passcode": self.creds.passcode}}
        )


def _present(fields: Sequence[str], types: dict[str, str]) -> list[str]:
    return [f for f in fields if f in types]


def _route_name(path: str) -> str:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last if last.startswith("_") else "streams" if "/streams" in path else last


# OpenObserve's `ErrorCodes::http_status`: every query error is 400 (20008, the execution
# error, included), a timeout 408, a cancel or rate limit 429.
_SEARCH_STATUS = {20009: 429, 20010: 408, 20012: 429}


def _search_error(exc: SqlError) -> web.Response:
    body = {"code": exc.code, "message": exc.message, "error_detail": exc.detail}
    return web.json_response(body, status=_SEARCH_STATUS.get(exc.code, 400))
