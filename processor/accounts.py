"""The RDS access of each message's (account, region): one client per pair, as discovery reads it.

A message names the account and region of the instance it announces; its file is read with that
pair's client (the `AWS_ACCOUNTS` entry's assumed role, or the processor's own credentials when
there are none) and the REST download is signed with the same credentials. Every call goes
through `RdsApi` (common/rds.py) at `Priority.PROCESSOR` on the pair's shared bucket — the same
Valkey key discovery uses, so that both services spend one budget — and is counted in
`aurora_rds_api_calls_total`. Pairs are opened on first use and refreshed before the role's
credentials expire.

A pair `AWS_ACCOUNTS` does not name is `NoRoleForAccount` (not retriable: the processor and
discovery disagree about the deployment). An instance's ARN account normally is the role's
account; where it is not (an emulator with one account behind several roles), the one entry of
the message's region is used, and said once in the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from botocore.credentials import Credentials

from common.accounts import AccountTarget, parse_accounts
from common.aws import AwsClients
from common.rate_limit import Priority, RdsBucket
from common.rds import Budget, CallLog, RdsApi
from common.rds_clients import RoleClient
from common.settings import Settings
from common.valkey import ValkeyGuard

log = structlog.get_logger(__name__)
SESSION_NAME = "aurora-processor"


class NoRoleForAccount(Exception):
    """The message's (account, region) has no `AWS_ACCOUNTS` entry to read it with."""

    retriable = False


@dataclass(frozen=True)
class RdsAccess:
    """What reading one pair's files takes: the door for query-API calls, the credentials that
    sign the complete download, and the region they are signed for."""

    api: RdsApi
    credentials: Callable[[], Awaitable[Credentials]]
    region: str

    @property
    def endpoint(self) -> str:
        """Where the pair's client calls (the region's RDS endpoint, or the local override): the
        REST download goes there too."""
        return str(self.api.client.meta.endpoint_url)


class RdsAccessProvider(Protocol):
    async def access(self, account: str, region: str) -> RdsAccess: ...


class RdsAccounts:
    """`await accounts.access(msg.account, msg.region)`; `close()` at the end. `budget` makes
    a pair's budget (default: its shared `RdsBucket` in Valkey through `guard`)."""

    def __init__(
        self,
        settings: Settings,
        clients: AwsClients,
        guard: ValkeyGuard | None,
        *,
        budget: Callable[[AccountTarget], Budget] | None = None,
    ) -> None:
        self._settings = settings
        self._clients = clients
        self._guard = guard
        self._budget = budget or self._bucket
        self._targets = parse_accounts(settings.aws)
        self._own = settings.aws.aws_accounts.strip() == ""
        self._open: dict[AccountTarget, tuple[RoleClient, RdsAccess]] = {}
        self._lock = asyncio.Lock()
        self._said: set[tuple[str, str]] = set()
        self.calls = CallLog()

    def target_of(self, account: str, region: str) -> AccountTarget:
        """The `AWS_ACCOUNTS` entry (or the service's own credentials) for a message's pair."""
        if self._own:
            return AccountTarget(None, region)
        exact = [t for t in self._targets if t.account == account and t.region == region]
        if exact:
            return exact[0]
        local = [t for t in self._targets if t.region == region]
        if len(local) == 1:
            if (account, region) not in self._said:
                self._said.add((account, region))
                log.warning("account_matched_by_region", account=account, region=region,
                            role=local[0].role_arn)  # fmt: skip
            return local[0]
        raise NoRoleForAccount(
            f"AWS_ACCOUNTS has no role for account {account} in {region} "
            f"(entries: {', '.join(t.label for t in self._targets)})"
        )

    async def open_all(self) -> None:
        """Open every configured pair now (at start-up): building a client loads botocore's RDS
        model, seconds of CPU on a busy host that would otherwise stall the event loop (and the
        Kafka heartbeats) in the middle of the first message."""
        for target in self._targets:
            await self._access(target)

    async def access(self, account: str, region: str) -> RdsAccess:
        return await self._access(self.target_of(account, region))

    async def _access(self, target: AccountTarget) -> RdsAccess:
        async with self._lock:
            opened = self._open.get(target)
            if opened is None:
                role = await RoleClient(self._clients, target, SESSION_NAME).open()
                api = RdsApi(
                    role.client, self._budget(target), self._settings.rds, Priority.PROCESSOR,
                    self.calls,
                )  # fmt: skip
                access = RdsAccess(api, role.credentials, target.region)
                opened = self._open[target] = (role, access)
            elif await opened[0].refresh():
                opened[1].api.use_client(opened[0].client)
        return opened[1]

    def _bucket(self, target: AccountTarget) -> Budget:
        assert self._guard is not None, "a guard, or a budget of the caller's"
        r = self._settings.rds
        return RdsBucket(
            self._guard,
            target.account,
            target.region,
            r.rds_api_rate_limit,
            r.rds_api_burst,
            r.rds_api_reserve,
            self._settings.processor.processor_replicas,
            self._settings.valkey.valkey_key_prefix,
        )

    async def close(self) -> None:
        for role, _ in self._open.values():
            await role.close()
        self._open.clear()
