"""The Valkey client (redis-py's asyncio client, `redis://` or `rediss://` URLs) and the guard
through which the optional uses (cache, shared bucket) reach it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from prometheus_client import Gauge
from redis.asyncio import Redis
from redis.exceptions import RedisError

from common.settings import ValkeySettings

log = structlog.get_logger(__name__)
T = TypeVar("T")
VALKEY_UP = Gauge("aurora_valkey_up", "1 while Valkey answers; 0 while callers use their fallbacks")


def valkey_client(settings: ValkeySettings) -> Redis:
    """A pooled client; `await client.aclose()` when done. TLS follows the URL scheme."""
    return Redis.from_url(
        settings.valkey_url,
        socket_timeout=settings.valkey_socket_timeout_sec,
        socket_connect_timeout=settings.valkey_socket_timeout_sec,
        health_check_interval=30,
        decode_responses=False,
    )


class ValkeyUnavailable(ConnectionError):
    """Valkey did not answer (or failed recently and is not retried yet); callers fall back."""


class ValkeyGuard:
    """Valkey is an optimisation: a caller runs its command through the guard and falls back
    (local bucket, direct RDS call) on `ValkeyUnavailable`. After a failure the guard answers
    `ValkeyUnavailable` at once for `retry_after_sec`, so a dead server does not add a socket
    timeout to every RDS call; then one command tries again.
    """

    def __init__(self, client: Redis | None, retry_after_sec: float = 5.0) -> None:
        self.client = client
        self._retry_after = retry_after_sec
        self._down_since: float | None = None if client is not None else 0.0
        self.last_error = "" if client is not None else "not configured"

    @property
    def available(self) -> bool:
        return self._down_since is None

    async def run(self, command: Callable[[Redis], Awaitable[T]]) -> T:
        client = self.client
        if client is None:
            raise ValkeyUnavailable("Valkey is not configured")
        now = time.monotonic()
        if self._down_since is not None and now - self._down_since < self._retry_after:
            raise ValkeyUnavailable(f"Valkey down: {self.last_error}")
        try:
            result = await command(client)
        except (RedisError, OSError) as exc:
            if self._down_since is None:
                log.warning("valkey_unavailable", error=f"{type(exc).__name__}: {exc}")
            self._down_since = now
            self.last_error = f"{type(exc).__name__}: {exc}"
            VALKEY_UP.set(0)
            raise ValkeyUnavailable(self.last_error) from exc
        if self._down_since is not None:
            log.info("valkey_recovered")
            self._down_since = None
            self.last_error = ""
        VALKEY_UP.set(1)
        return result
