"""Per (account, region): the RDS client (through an assumed role for `AWS_ACCOUNTS` entries),
its own shared bucket and cache namespace, and the listers that use them.

Assumed-role credentials last an hour; the client is rebuilt with fresh ones before they expire
(`refresh()`, called at the start of each cycle).
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import structlog

from common.accounts import AccountTarget
from common.aws import AwsClients, endpoint_for
from common.cache import DescribeCache, PassThroughCache, ReadThroughCache
from common.rate_limit import Priority, RdsBucket
from common.rds import CallLog, RdsApi, RdsCallFailed, RdsThrottled
from common.settings import Settings
from common.valkey import ValkeyGuard
from discovery.fleet import FleetLister
from discovery.listing import LogFileLister
from discovery.params import ParameterChecker

log = structlog.get_logger(__name__)
REFRESH_BEFORE_SEC = 600.0
SESSION_NAME = "aurora-discovery"


@dataclass
class AccountContext:
    target: AccountTarget
    api: RdsApi
    cache: DescribeCache
    fleet: FleetLister
    files: LogFileLister
    params: ParameterChecker
    bucket: RdsBucket
    _clients: AwsClients
    _stack: AsyncExitStack
    _expires: float | None = None

    async def refresh(self) -> None:
        """Re-assume the role when its credentials are about to expire."""
        if self._expires is None or self._expires - time.time() > REFRESH_BEFORE_SEC:
            return
        client, expires = await _rds_client(self._clients, self.target, self._stack)
        self.api.use_client(client)
        self._expires = expires
        log.info("role_credentials_refreshed", account=self.target.label)

    async def close(self) -> None:
        await self._stack.aclose()


async def _rds_client(
    clients: AwsClients, target: AccountTarget, stack: AsyncExitStack
) -> tuple[Any, float | None]:
    # Our RdsApi retries throttles itself after taking a token: botocore must not retry unseen.
    no_retries = {"retries": {"mode": "standard", "total_max_attempts": 1}}
    if target.role_arn is None:
        client = await stack.enter_async_context(clients.client("rds", target.region, **no_retries))
        return client, None
    async with clients.client("sts", target.region) as sts:
        resp = await sts.assume_role(RoleArn=target.role_arn, RoleSessionName=SESSION_NAME)
    creds = resp["Credentials"]
    session = clients.session
    client = await stack.enter_async_context(
        session.create_client(
            "rds",
            region_name=target.region,
            endpoint_url=endpoint_for("rds"),
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            config=clients.config(**no_retries),
        )
    )
    expires = creds["Expiration"]
    return client, expires.timestamp() if hasattr(expires, "timestamp") else None


async def open_context(
    settings: Settings,
    clients: AwsClients,
    guard: ValkeyGuard,
    target: AccountTarget,
    calls: CallLog,
) -> AccountContext:
    stack = AsyncExitStack()
    try:
        client, expires = await _rds_client(clients, target, stack)
    except Exception:
        await stack.aclose()
        raise
    r, v = settings.rds, settings.valkey
    bucket = RdsBucket(
        guard,
        target.account,
        target.region,
        r.rds_api_rate_limit,
        r.rds_api_burst,
        r.rds_api_reserve,
        settings.discovery.total_shards,
        v.valkey_key_prefix,
    )
    api = RdsApi(client, bucket, r, Priority.DISCOVERY, calls)
    seed = settings.discovery.discovery_seed_style
    cache: DescribeCache = (
        PassThroughCache()
        if seed
        else ReadThroughCache(
            guard,
            f"{v.valkey_key_prefix}cache:{target.label}:",
            v.cache_stale_sec,
            stale_on=(RdsThrottled, RdsCallFailed),
        )
    )
    return AccountContext(
        target=target,
        api=api,
        cache=cache,
        fleet=FleetLister(
            api, cache, r.engines, settings.discovery, target.region, v.cache_ttl_describe_sec
        ),
        files=LogFileLister(api, cache, v.cache_ttl_log_files_sec),
        params=ParameterChecker(api, cache, v.cache_ttl_parameters_sec),
        bucket=bucket,
        _clients=clients,
        _stack=stack,
        _expires=expires,
    )
