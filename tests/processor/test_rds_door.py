"""Every RDS call of the processor goes through the one door (common/rds.py `RdsApi`): a token of
the pair's shared bucket first, counted in `aurora_rds_api_calls_total` by operation (the REST
complete download as `DownloadCompleteDBLogFile`), `Throttling` penalising the bucket and retried
there — never by botocore unseen — and each message read as its (account, region)'s role."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import REGISTRY

from common.accounts import AccountTarget
from common.aws import AwsClients
from common.messages import LogFileMessage
from common.rate_limit import Priority, RdsBucket
from common.rds import Budget
from common.valkey import ValkeyGuard
from processor.accounts import NoRoleForAccount, RdsAccounts
from tests.processor.conftest import (
    ACCOUNT,
    World,
    archived,
    own_settings,
    rds_admin,
    rotated_messages,
    shipped_once,
)

PORTION, COMPLETE = "DownloadDBLogFilePortion", "DownloadCompleteDBLogFile"


def calls(operation: str, outcome: str) -> float:
    labels = {"operation": operation, "outcome": outcome}
    return REGISTRY.get_sample_value("aurora_rds_api_calls_total", labels) or 0.0


def emulator(kind: str, operation: str) -> int:
    """The emulator's own count of `kind` ("calls", "throttled") for `operation`."""
    return int(rds_admin("GET", "stats")[kind].get(operation, 0))


async def test_every_call_is_counted_by_operation(world: World) -> None:
    (mysql,) = await rotated_messages(world, "aurora-mysql", ("slowquery",))
    (pg,) = await rotated_messages(world, "aurora-postgresql", ("postgresql",))
    before = {op: (calls(op, "ok"), emulator("calls", op)) for op in (PORTION, COMPLETE)}
    assert (await world.worker("p1").handle(mysql)).complete_file_calls == 1
    assert (await world.worker("p1", complete_download=False).handle(pg)).outcome == "complete"
    counted = {op: calls(op, "ok") - b[0] for op, b in before.items()}
    served = {op: emulator("calls", op) - b[1] for op, b in before.items()}
    assert counted == served and counted[COMPLETE] == 1 and counted[PORTION] >= 2


@dataclass
class Counted:
    """A real bucket that counts the penalties it takes."""

    bucket: RdsBucket
    penalties: list[float] = field(default_factory=list)

    async def acquire(self, priority: Priority = Priority.DISCOVERY, cost: int = 1) -> float:
        return await self.bucket.acquire(priority, cost)

    async def penalise(self) -> None:
        self.penalties.append(time.monotonic())
        await self.bucket.penalise()


@pytest.fixture
def throttle() -> Iterator[Any]:
    before = rds_admin("GET", "throttle")
    yield lambda body: rds_admin("POST", "throttle", body)
    rds_admin("POST", "throttle", before)


async def test_a_throttling_storm_is_survived_with_every_throttle_counted(
    world: World, guard: ValkeyGuard, throttle: Any
) -> None:
    """The emulator allows portions 1 call in a burst and 4 a second, the REST download 1 a
    second: answers `Throttling` are counted, penalise the shared bucket and are retried
    after a backoff; botocore retries none (the emulator saw exactly the throttles we counted);
    the bytes are the ground truth and each event lands once."""
    settings = own_settings(world.settings, world.prefix.strip("/") + "-storm",
                            rds_throttle_retries=40, rds_backoff_base_sec=0.02,
                            rds_backoff_max_sec=0.2, rds_api_rate_limit=1000.0,
                            rds_api_burst=1000, rds_api_reserve=0)  # fmt: skip
    buckets: list[Counted] = []

    def counted(target: AccountTarget) -> Budget:
        r = settings.rds
        buckets.append(Counted(RdsBucket(guard, target.account, target.region, r.rds_api_rate_limit,
                                         r.rds_api_burst, 0, 1, settings.valkey.valkey_key_prefix)))  # fmt: skip
        return buckets[-1]

    accounts = RdsAccounts(settings, AwsClients(settings.aws), guard, budget=counted)
    try:
        mysql = await rotated_messages(world, "aurora-mysql", ("slowquery", "error"))
        (pg,) = await rotated_messages(world, "aurora-postgresql", ("postgresql",))
        throttle({"enabled": True, "operations": {PORTION: {"burst": 1, "rate": 4},
                                                  COMPLETE: {"burst": 1, "rate": 1}}})  # fmt: skip
        ops = (PORTION, COMPLETE)
        before = {op: (calls(op, "throttled"), emulator("throttled", op)) for op in ops}
        # At once, so that two reads of each kind meet the emulator's empty buckets for sure.
        again = mysql[0].model_copy(update={"generation": mysql[0].generation + "portions"})
        reads = [(mysql[0], True), (mysql[1], True), (pg, False), (again, False)]

        async def read(msg: LogFileMessage, complete: bool) -> None:
            truth = world.truth(msg.instance_id, msg.log_file_name)
            result = await world.worker("p1", rds=accounts, complete_download=complete).handle(msg)
            assert result.shipped_offset == result.archived_offset == len(truth)
            assert await archived(world, msg) == truth
            shipped_once(world, msg, truth)

        await asyncio.gather(*(read(msg, complete) for msg, complete in reads))
    finally:
        await accounts.close()
    ours = {op: calls(op, "throttled") - b[0] for op, b in before.items()}
    theirs = {op: emulator("throttled", op) - b[1] for op, b in before.items()}
    assert ours == theirs, "a throttled answer was retried where it was not counted"
    assert ours[PORTION] > 0 and ours[COMPLETE] > 0
    assert len(buckets) == 1 and len(buckets[0].penalties) == sum(ours.values())


REGIONS = ("us-east-1", "eu-west-1")


async def test_each_account_and_region_reads_with_its_own_role(
    world: World, guard: ValkeyGuard, stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_ACCOUNTS with a role per region: a message is read (portions and REST download)
    with its pair's client and credentials, signed for its region; one client per pair,
    re-assumed before its credentials expire; a pair without a role is refused for good."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", stack_env["AWS_ENDPOINT_URL_DYNAMODB"])  # moto
    roles = ",".join(f"arn:aws:iam::{ACCOUNT}:role/reader@{r}" for r in REGIONS)
    settings = own_settings(world.settings, world.prefix.strip("/") + "-roles")
    settings.aws = settings.aws.model_copy(update={"aws_accounts": roles})
    accounts = RdsAccounts(settings, AwsClients(settings.aws), guard)
    try:
        first = {r: await accounts.access(ACCOUNT, r) for r in REGIONS}
        assert [await accounts.access(ACCOUNT, r) for r in REGIONS] == list(first.values())
        assert first["us-east-1"].api is not first["eu-west-1"].api
        keys = {r: await a.credentials() for r, a in first.items()}
        assert len({k.access_key for k in keys.values()} | {"testing"}) == 3
        for k in keys.values():  # the emulator learns the roles' keys, as IAM knows them
            rds_admin("POST", "keys", {"access_key": k.access_key, "secret_key": k.secret_key})
        (msg,) = await rotated_messages(world, "aurora-mysql", ("slowquery",))
        before = rds_admin("GET", "stats")["callers"]
        for region, complete in (("eu-west-1", True), ("us-east-1", False)):
            mine = msg.model_copy(update={"region": region, "generation": msg.generation + region})
            result = await world.worker("p1", rds=accounts, complete_download=complete).handle(mine)
            assert (result.outcome, result.portion_fallback) == ("complete", False)
        after = rds_admin("GET", "stats")["callers"]

        def new(op: str, who: str) -> int:
            return int(after.get(op, {}).get(who, 0) - before.get(op, {}).get(who, 0))

        assert new(COMPLETE, f"{keys['eu-west-1'].access_key}@eu-west-1") == 1
        assert new(PORTION, f"{keys['us-east-1'].access_key}@us-east-1") >= 2
        assert new(PORTION, f"{keys['eu-west-1'].access_key}@eu-west-1") == 0
        # Credentials about to expire: the role is assumed again, the door uses the new client.
        role, access = accounts._open[accounts.target_of(ACCOUNT, "eu-west-1")]
        old_client, role.expires = role.client, time.time() + 60
        again = await accounts.access(ACCOUNT, "eu-west-1")
        assert again is access and access.api.client is role.client is not old_client
        assert (await again.credentials()).access_key != keys["eu-west-1"].access_key
        # An ARN account that is not the role's (one emulator behind both roles): by region.
        assert accounts.target_of("555555555555", "eu-west-1").region == "eu-west-1"
        with pytest.raises(NoRoleForAccount, match="999999999999") as refused:
            await accounts.access("999999999999", "ap-south-1")
        assert not refused.value.retriable
    finally:
        await accounts.close()
