"""Several accounts/regions through assumed roles, each with its own budget and cache keys;
instance metadata upserted with a 7-day TTL; AWS_ACCOUNTS validated."""

from __future__ import annotations

import time

import pytest

from common.accounts import AccountTarget, parse_accounts
from common.settings import AwsSettings, SettingsError
from common.valkey import valkey_client
from tests.discovery.conftest import World, running, use_rds

ROLES = "arn:aws:iam::111111111111:role/reader@us-east-1,arn:aws:iam::222222222222:role/reader@eu-west-1"


def test_parse_accounts() -> None:
    assert parse_accounts(AwsSettings(aws_accounts="")) == [AccountTarget(None, "us-east-1")]
    targets = parse_accounts(AwsSettings(aws_accounts=ROLES))
    assert [t.label for t in targets] == ["111111111111:us-east-1", "222222222222:eu-west-1"]
    with pytest.raises(SettingsError, match="AWS_ACCOUNTS"):
        parse_accounts(AwsSettings(aws_accounts="arn:aws:iam::1:role/x"))


async def test_two_accounts_through_assumed_roles_with_own_budget_and_cache(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch, stack_env: dict[str, str]
) -> None:
    emu = emulators("--instances", "6", "--stopped", "0")
    use_rds(world, emu, monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", stack_env["AWS_ENDPOINT_URL_DYNAMODB"])  # moto
    settings = world.settings(aws_accounts=ROLES, discovery_opt_out_tag="none")
    async with running(settings) as svc:
        reports = await svc.run_cycle()
        assert [r.label for r in reports] == ["111111111111:us-east-1", "222222222222:eu-west-1"]
        assert all(r.outcome == "ok" for r in reports)
        # The emulator's own region bucket saw both regions (signed with each role's creds).
        regions = {d.ctx.target.region for d in svc.discoverers}
        assert regions == {"us-east-1", "eu-west-1"}
        raw = await svc._ddb.scan(TableName=settings.tables.instance_table)
        items = [i for i in raw["Items"] if not i["instance_id"]["S"].startswith("#")]
    client = valkey_client(settings.valkey)
    try:
        prefix = settings.valkey.valkey_key_prefix
        keys = {k.decode() async for k in client.scan_iter(match=prefix + "*")}
    finally:
        await client.aclose()
    for label in ("111111111111:us-east-1", "222222222222:eu-west-1"):
        assert any(k.startswith(f"{prefix}cache:{label}:") for k in keys)
    assert f"{prefix}rds-bucket:111111111111:us-east-1" in keys
    assert f"{prefix}rds-bucket:222222222222:eu-west-1" in keys
    # Instance metadata: upserted on sighting with a 7-day TTL.
    assert items
    now = time.time()
    for item in items:
        assert now + 6.9 * 86400 < int(item["expires_at"]["N"]) < now + 7.1 * 86400
        assert item["resource_id"]["S"].startswith("db-")
