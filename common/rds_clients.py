"""The RDS client of one (account, region) target, and the credentials that sign its requests.

Both services read RDS as each `AWS_ACCOUNTS` entry's assumed role (or, without entries, with
their own credentials), so building that client lives here once. Botocore's retries are off:
`RdsApi` retries `Throttling` itself after taking a token, and botocore's retries would spend
tokens unseen. Assumed-role credentials last an hour; `refresh()` re-assumes the role before they
expire. The client before the current one is closed at the next refresh (calls still running on
it an hour later are not expected), so a long-running service does not keep one per hour.
The credentials are kept for what no SDK signs: the complete download's REST GET.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from typing import Any

import structlog
from botocore.credentials import Credentials

from common.accounts import AccountTarget
from common.aws import AwsClients, endpoint_for

log = structlog.get_logger(__name__)

REFRESH_BEFORE_SEC = 600.0
NO_RETRIES: dict[str, Any] = {"retries": {"mode": "standard", "total_max_attempts": 1}}


class RoleClient:
    """`await RoleClient(clients, target, "aurora-processor").open()`; `client`, `credentials()`,
    `refresh()` (True when the client changed), `close()`."""

    def __init__(self, clients: AwsClients, target: AccountTarget, session_name: str) -> None:
        self._clients = clients
        self.target = target
        self._session_name = session_name
        self.client: Any = None
        self.expires: float | None = None  # None: the service's own (refreshing) credentials
        self._credentials: Credentials | None = None
        self._stacks: list[AsyncExitStack] = []  # the previous client's and the current one's

    async def open(self) -> RoleClient:
        await self._open()
        return self

    async def credentials(self) -> Credentials:
        """What signs a REST request as this target: the role's, or the service's own."""
        if self._credentials is not None:
            return self._credentials
        return await self._clients.credentials()

    async def refresh(self) -> bool:
        """Re-assume the role when its credentials are about to expire; True if it did."""
        if self.expires is None or self.expires - time.time() > REFRESH_BEFORE_SEC:
            return False
        await self._open()
        log.info("role_credentials_refreshed", account=self.target.label)
        return True

    async def close(self) -> None:
        while self._stacks:
            await self._stacks.pop().aclose()

    async def _open(self) -> None:
        stack = AsyncExitStack()
        try:
            client, credentials, expires = await self._create(stack)
        except BaseException:
            await stack.aclose()
            raise
        self._stacks.append(stack)
        while len(self._stacks) > 2:
            await self._stacks.pop(0).aclose()
        self.client, self._credentials, self.expires = client, credentials, expires

    async def _create(self, stack: AsyncExitStack) -> tuple[Any, Credentials | None, float | None]:
        clients, target = self._clients, self.target
        if target.role_arn is None:
            own = clients.client("rds", target.region, **NO_RETRIES)
            return await stack.enter_async_context(own), None, None
        async with clients.client("sts", target.region) as sts:
            resp = await sts.assume_role(
                RoleArn=target.role_arn, RoleSessionName=self._session_name
            )
        creds = resp["Credentials"]
        client = await stack.enter_async_context(
            clients.session.create_client(
                "rds",
                region_name=target.region,
                endpoint_url=endpoint_for("rds"),
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                config=clients.config(**NO_RETRIES),
            )
        )
        signing = Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        expires = creds["Expiration"]
        return client, signing, expires.timestamp() if hasattr(expires, "timestamp") else None
