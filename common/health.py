"""The observability port: Prometheus `/metrics`, `/healthz` (alive) and `/readyz` (dependencies).

Readiness is a set of named async checks (Kafka reachable, DynamoDB answering, ...). Each runs
with a timeout; `/readyz` answers 200 only when all pass, and its JSON body says which failed and
why, so `kubectl describe` and a human with curl see the same reason. *Details* are reported in
the same body without deciding readiness: an optional dependency that is down makes the service
degraded (slower), not unready.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    generate_latest,
)

log = structlog.get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]
Detail = Callable[[], str]

READY = Gauge("aurora_ready", "1 when every readiness check passed at the last /readyz")


class HealthServer:
    """An aiohttp server on one port; `start()` binds it, `stop()` closes it."""

    name = "health"

    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry = REGISTRY,
        check_timeout_sec: float = 2.0,
    ) -> None:
        self._host = host
        self._port = port
        self._registry = registry
        self._timeout = check_timeout_sec
        self._checks: dict[str, ReadinessCheck] = {}
        self._details: dict[str, Detail] = {}
        self._runner: web.AppRunner | None = None
        self._started_at = time.time()
        self.bound_port: int | None = None

    def add_check(self, name: str, check: ReadinessCheck) -> None:
        """Register a readiness check: an async callable that raises when the dependency is down."""
        self._checks[name] = check

    def add_detail(self, name: str, detail: Detail) -> None:
        """Report `detail()` ("ok", "degraded: ...") in /readyz without affecting readiness."""
        self._details[name] = detail

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("health_server_started", host=self._host, port=self.bound_port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest(self._registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"status": "ok", "uptime_sec": round(time.time() - self._started_at)}
        )

    async def run_checks(self) -> dict[str, str]:
        """Run every check; map name -> "ok" or the failure's text."""
        results: dict[str, str] = {}

        async def one(name: str, check: ReadinessCheck) -> None:
            try:
                await asyncio.wait_for(check(), self._timeout)
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - the reason is reported, not swallowed
                results[name] = f"{type(exc).__name__}: {exc}"
                log.warning("readiness_check_failed", check=name, error=results[name])

        await asyncio.gather(*(one(n, c) for n, c in self._checks.items()))
        return results

    async def _readyz(self, _request: web.Request) -> web.Response:
        results = await self.run_checks()
        ready = all(v == "ok" for v in results.values())
        READY.set(1 if ready else 0)
        body: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": results}
        if self._details:
            body["details"] = {name: detail() for name, detail in self._details.items()}
        return web.json_response(body, status=200 if ready else 503)
