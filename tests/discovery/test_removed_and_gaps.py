"""An instance removed from the fleet (a reader scaled in): its rows are marked vanished with a
TTL, the bytes never read are in the gap ledger, counted, and shown by `stats`."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest
from prometheus_client import REGISTRY

from tests.discovery.conftest import World, running, use_rds


async def test_removed_instance_rows_marked_with_gaps(
    world: World,
    emulators,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = emulators("--instances", "8", "--stopped", "0")
    use_rds(world, emu, monkeypatch)
    settings = world.settings(cache_ttl_describe_sec=0, discovery_opt_out_tag="none")
    victim = emu.admin("GET", "fleet")["instances"][3]["instance_id"]
    before = (
        REGISTRY.get_sample_value("aurora_discovery_gaps_total", {"log_type": "slowquery"}) or 0
    )
    async with running(settings) as svc:
        first = (await svc.run_cycle())[0]
        rid = next(i.resource_id for i in svc.discoverers[0].owned() if i.instance_id == victim)
        rows = await svc.tracking.rows(rid)
        assert rows and all(r.status == "new" for r in rows.values())
        emu.admin("DELETE", f"fleet/instances/{victim}")
        unsure = (await svc.run_cycle())[0]
        assert unsure.vanished == 0  # missing once: not yet (a transient listing marks nothing)
        second = (await svc.run_cycle())[0]
        assert second.vanished == len(rows) and second.gaps == len(rows)
        marked = await svc.tracking.rows(rid)
        now = time.time()
        for row in marked.values():
            assert row.status == "vanished"
        raw = await svc._ddb.query(
            TableName=settings.tables.tracking_table,
            KeyConditionExpression="resource_id = :r",
            ExpressionAttributeValues={":r": {"S": rid}},
        )
        for item in raw["Items"]:
            expires = int(item["expires_at"]["N"])
            assert now + 6.9 * 86400 < expires < now + 7.1 * 86400
            assert int(item["gap_end"]["N"]) == int(item["size_seen"]["N"]) > 0
            assert item["vanished_reason"]["S"] == "instance_removed"
        third = (await svc.run_cycle())[0]
        assert third.vanished == 0  # marked once
    assert first.outcome == "ok"
    after = REGISTRY.get_sample_value("aurora_discovery_gaps_total", {"log_type": "slowquery"}) or 0
    assert after > before

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "discovery.cli", "stats",
        env=world.subprocess_env(), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    stats = json.loads(stdout)
    lost = [g for g in stats["gaps"] if g["instance_id"] == victim]
    assert len(lost) == len(rows)
    assert stats["shards"][0]["instances"]["followed"] == 7


async def test_files_rotated_out_before_being_read_are_in_the_gap_ledger(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulators("--instances", "3", "--stopped", "0", "--logging", "all")
    use_rds(world, emu, monkeypatch)
    settings = world.settings(
        cache_ttl_log_files_sec=0, discovery_full_listing_sec=0.001, discovery_opt_out_tag="none"
    )
    async with running(settings) as svc:
        first = (await svc.run_cycle())[0]
        assert first.announced > 0 and first.vanished == 0
        emu.admin("POST", "clock", {"advance_sec": 26 * 3600})  # slow/general/audit kept 24 h
        later = (await svc.run_cycle())[0]
        assert later.outcome == "ok", later.errors
        assert later.vanished > 0 and later.gaps == later.vanished  # nothing was read
        ledger = await svc.tracking.gaps()
    assert {g["vanished_reason"] for g in ledger} == {"rotated_out"}
    assert all(g["gap_end"] > g["gap_start"] == 0 for g in ledger)
    # Error logs are kept 30 days: none of them is lost yet.
    assert not [g for g in ledger if g["log_type"] == "error"]
