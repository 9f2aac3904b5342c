"""The Valkey client (redis-py's asyncio client): `redis://` or `rediss://` (TLS) URLs."""

from __future__ import annotations

from redis.asyncio import Redis

from common.settings import ValkeySettings


def valkey_client(settings: ValkeySettings) -> Redis:
    """A pooled client; `await client.aclose()` when done. TLS follows the URL scheme."""
    return Redis.from_url(
        settings.valkey_url,
        socket_timeout=settings.valkey_socket_timeout_sec,
        socket_connect_timeout=settings.valkey_socket_timeout_sec,
        health_check_interval=30,
        decode_responses=False,
    )
