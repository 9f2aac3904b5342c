"""AWS clients: one aiobotocore session, the retry mode of the settings, per-service endpoints.

Endpoint overrides follow the standard `AWS_ENDPOINT_URL_<SERVICE>` variables (and
`AWS_ENDPOINT_URL` for all), which botocore itself honours; the local stack sets them to moto and
the emulators. They are read here too so that a log line can say where a client points.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.credentials import Credentials

from common.settings import AwsSettings


def endpoint_for(service: str) -> str | None:
    """The endpoint override in force for `service` ("rds", "dynamodb", "s3"), or None."""
    key = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_")
    return os.environ.get(key) or os.environ.get("AWS_ENDPOINT_URL") or None


class AwsClients:
    """Creates aiobotocore clients that share one session and one retry configuration."""

    def __init__(self, settings: AwsSettings, session: AioSession | None = None) -> None:
        self._settings = settings
        self._session = session or get_session()

    @property
    def session(self) -> AioSession:
        return self._session

    def config(self, **overrides: Any) -> AioConfig:
        retries = {
            "mode": self._settings.aws_retry_mode,
            "total_max_attempts": self._settings.aws_max_attempts,
        }
        base = AioConfig(
            retries=retries, connect_timeout=10, read_timeout=60, max_pool_connections=50
        )
        return base.merge(AioConfig(**overrides)) if overrides else base

    async def credentials(self) -> Credentials:
        """The session's current credentials, frozen (for signing requests no SDK makes)."""
        found = await self._session.get_credentials()
        if found is None:
            raise RuntimeError("no AWS credentials found: set AWS_ACCESS_KEY_ID or a role")
        frozen = await found.get_frozen_credentials()
        return Credentials(frozen.access_key, frozen.secret_key, frozen.token)

    @asynccontextmanager
    async def client(
        self, service: str, region: str | None = None, **config_overrides: Any
    ) -> AsyncIterator[Any]:
        """`async with clients.client("dynamodb") as ddb:` — closed on exit."""
        async with self._session.create_client(
            service,
            region_name=region or self._settings.aws_region,
            endpoint_url=endpoint_for(service),
            config=self.config(**config_overrides),
        ) as client:
            yield client
