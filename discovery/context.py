"""Per (account, region): the RDS client (through an assumed role for `AWS_ACCOUNTS` entries),
its own shared bucket and cache namespace, and the listers that use them.

Assumed-role credentials last an hour; the client is rebuilt with fresh ones before they expire
(`refresh()`, called at the start of each cycle; common/rds_clients.py builds it).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from common.accounts import AccountTarget
from common.aws import AwsClients
from common.cache import DescribeCache, PassThroughCache, ReadThroughCache
from common.rate_limit import Priority, RdsBucket
from common.rds import CallLog, RdsApi, RdsCallFailed, RdsThrottled
from common.rds_clients import RoleClient
from common.settings import Settings
from common.valkey import ValkeyGuard
from discovery.fleet import FleetLister
from discovery.listing import LogFileLister
from discovery.params import ParameterChecker

log = structlog.get_logger(__name__)
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
    _role: RoleClient

    async def refresh(self) -> None:
        """Re-assume the role when its credentials are about to expire."""
        if await self._role.refresh():
            self.api.use_client(self._role.client)

    async def close(self) -> None:
        await self._role.close()


async def open_context(
    settings: Settings,
    clients: AwsClients,
    guard: ValkeyGuard,
    target: AccountTarget,
    calls: CallLog,
) -> AccountContext:
    role = await RoleClient(clients, target, SESSION_NAME).open()
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
    api = RdsApi(role.client, bucket, r, Priority.DISCOVERY, calls)
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
        _role=role,
    )
