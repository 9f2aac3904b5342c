"""The emulator's HTTP surface (aiohttp): ingestion, search, streams, health and admin routes.

Every store access runs on one dedicated thread, so requests are applied one at a time, each in
one transaction, while the event loop stays free for health checks and admin calls.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from aiohttp import web

from devstack.openobserve import admin, auth, batch, bodies
from devstack.openobserve.faults import FaultState
from devstack.openobserve.ingest import now_micros
from devstack.openobserve.sql import SqlError
from devstack.openobserve.store import Store

log = structlog.get_logger(__name__)

T = TypeVar("T")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TOO_LARGE = "Failed to buffer the request body: length limit exceeded"
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
                *admin.routes(self.stats, self.faults, self._store_call),
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
            return web.json_response({"code": injected, "message": message}, status=injected)
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
        return web.json_response(result)

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
            body = bodies.loads(await request.read())
            query, start, end, offset, size, track = self._search_params(body)
        except (bodies.BadBody, ValueError, TypeError, KeyError) as exc:
            return _search_error(400, SqlError(20001, "Invalid search request", str(exc)))
        db = await self._on_store(self.store.org, request.match_info["org"], False)
        if db is None:
            return _search_error(400, SqlError(20002, "Search stream not found", "no streams"))
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
            )
        except SqlError as exc:
            status = {20010: 408, 20008: 500}.get(exc.code, 400)
            return _search_error(status, exc)
        return web.json_response(
            {
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
                "is_partial": False,
                "result_cache_ratio": 0,
            }
        )

    def _search_params(self, body: Any) -> tuple[str, int, int, int, int, bool]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), dict):
            raise ValueError('the body must be {"query": {"sql": ...}}')
        query = body["query"]
        sql = query.get("sql")
        if not isinstance(sql, str):
            raise ValueError("query.sql must be a string")
        if body.get("encoding") == "base64":
            try:
                sql = base64.b64decode(sql).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise ValueError(f"query.sql is not base64: {exc}") from exc
        start = int(query.get("start_time") or 0)
        end = int(query.get("end_time") or 0) or now_micros()
        offset = int(query.get("from") or 0)
        size = int(query.get("size") or 0) or self.options.query_default_limit
        return sql, start, end, offset, size, bool(query.get("track_total_hits", False))

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


def _search_error(status: int, exc: SqlError) -> web.Response:
    body = {"code": exc.code, "message": exc.message, "error_detail": exc.detail}
    return web.json_response(body, status=status)
