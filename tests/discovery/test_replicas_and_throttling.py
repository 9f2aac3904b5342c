"""Three replicas against an emulator that throttles at 12 requests/s: one shared budget, no
`Throttling` surfaces as a failure, no cycle is lost, and the shards are disjoint and cover."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AsyncExitStack

import pytest

from tests.discovery.conftest import (
    World,
    expected_files,
    followed,
    metric_total,
    read_messages,
    running,
    use_rds,
)


async def test_three_replicas_share_the_budget_without_failures(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulators("--instances", "60")
    # The account's rate, with a burst small enough that our burst of 100 meets `Throttling`.
    emu.admin("POST", "throttle", {"enabled": True, "burst": 20, "rate": 12})
    use_rds(world, emu, monkeypatch)
    ids, engines, _ = await followed(emu)
    throttles_before = metric_total("aurora_rds_throttles_total")
    emu.reset_stats()
    async with AsyncExitStack() as stack:
        services = [
            await stack.enter_async_context(
                running(world.settings(shard_id=n, total_shards=3, cache_ttl_log_files_sec=0))
            )
            for n in range(3)
        ]
        for _ in range(2):
            reports = await asyncio.gather(*(s.run_cycle() for s in services))
            for r in reports:
                assert r[0].outcome == "ok", r[0].errors
        owned = [{i.instance_id for i in s.discoverers[0].owned()} for s in services]
    assert set().union(*owned) == set(ids)
    assert sum(len(o) for o in owned) == len(ids)  # disjoint
    assert all(owned)
    stats = emu.stats()
    assert stats["total_throttled"] > 0  # the test did meet the account's limit
    assert (
        metric_total("aurora_rds_throttles_total") - throttles_before == stats["total_throttled"]
    )  # all seen, retried
    announced = Counter(
        (m["instance_id"], m["generation"]) for m in await read_messages(services[0].settings)
    )
    assert set(announced) == expected_files(emu, ids, engines)
    assert max(announced.values()) == 1
