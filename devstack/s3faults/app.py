"""The proxy: every request not under `/_admin/` goes to the upstream (moto) unless a fault
answers it first or instead.

Admin (no auth), as the OpenObserve emulator's: `GET|POST|PUT|DELETE /_admin/faults` (read,
partially update, clear `faults.S3Faults`), `GET /_admin/stats` (requests and injected faults by
operation), `POST /_admin/reset` (faults and stats), `GET /_admin/healthz`.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import uuid
from collections import Counter
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from devstack.fault_admin import fault_routes
from devstack.s3faults.faults import Injected, S3FaultState
from devstack.s3faults.operations import operation_of

log = structlog.get_logger(__name__)

# Not forwarded: hop-by-hop headers, and the ones aiohttp sets again from the body it sends.
_DROP_REQUEST = {"connection", "keep-alive", "expect", "transfer-encoding", "content-length"}
_DROP_RESPONSE = {"connection", "keep-alive", "transfer-encoding", "content-length"}
_ERRORS = {
    "500": ("InternalError", "We encountered an internal error. Please try again."),
    "503": ("SlowDown", "Please reduce your request rate."),
}


class Proxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = S3FaultState()
        self.requests: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self._session: aiohttp.ClientSession | None = None

    async def start(self, _app: web.Application) -> None:
        self._session = aiohttp.ClientSession(
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=300)
        )

    async def stop(self, _app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        op = operation_of(request.method, request.path, request.query, request.headers)
        self.requests[op] += 1
        striking = self.faults.strikes(op)
        if striking:
            delay = self.faults.latency_sec()
            if delay:
                await asyncio.sleep(delay)
            fault = self.faults.before()
            if fault is not None:
                return self._inject(request, op, fault, "before")
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST}
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as upstream:
            payload = await upstream.read()
            status = upstream.status
            answer_headers = [
                (k, v) for k, v in upstream.headers.items() if k.lower() not in _DROP_RESPONSE
            ]
        if striking and status < 300:
            fault = self.faults.after()
            if fault is not None:
                return self._inject(request, op, fault, "after_write")
        response = web.Response(status=status, body=payload)
        for k, v in answer_headers:
            response.headers.add(k, v)
        return response

    def _inject(
        self, request: web.Request, op: str, fault: Injected, when: str
    ) -> web.StreamResponse:
        self.injected[f"{op}:{fault}:{when}"] += 1
        log.info("s3_fault_injected", operation=op, fault=fault, when=when, path=request.path)
        if fault == "reset":
            return _reset(request)
        code, message = _ERRORS[fault]
        request_id = uuid.uuid4().hex[:16].upper()
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
        return web.Response(
            status=int(fault), text=xml, content_type="application/xml",
            headers={"x-amz-request-id": request_id},
        )  # fmt: skip

    def stats(self) -> dict[str, Any]:
        return {
            "requests": {"total": sum(self.requests.values()), **self.requests},
            "injected": {"total": sum(self.injected.values()), **self.injected},
        }


def _reset(request: web.Request) -> web.StreamResponse:
    """Close the connection with a TCP RST (SO_LINGER 0), the way a dropped connection looks."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    # Nothing can be written any more; aiohttp drops this answer on the closed transport.
    return web.Response(status=500)


def make_app(upstream: str) -> web.Application:
    proxy = Proxy(upstream)
    app = web.Application(client_max_size=1024**3)
    app.on_startup.append(proxy.start)
    app.on_cleanup.append(proxy.stop)

    async def get_stats(_request: web.Request) -> web.Response:
        return web.json_response(proxy.stats())

    async def reset(_request: web.Request) -> web.Response:
        proxy.faults.clear()
        proxy.requests.clear()
        proxy.injected.clear()
        return web.json_response({"reset": True})

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "upstream": proxy.upstream})

    app.add_routes(
        [
            *fault_routes(proxy.faults),
            web.get("/_admin/stats", get_stats),
            web.post("/_admin/reset", reset),
            web.get("/_admin/healthz", healthz),
            web.route("*", "/{tail:.*}", proxy.forward),
        ]
    )
    return app
