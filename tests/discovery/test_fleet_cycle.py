"""A whole fleet through discovery on the real stack: every file with data announced once, the
cycle's RDS cost, the cache, opt-out and stopped instances."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from tests.discovery.conftest import (
    World,
    expected_files,
    followed,
    read_messages,
    running,
    use_rds,
)


async def test_316_instances_every_file_announced_once_then_steady_cost(
    world: World,
    emulators,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Budgets five times the real one on both sides (ours still below the emulator's, so "no
    # throttle" still means ours keeps under it): the calls are counted, not timed, and the
    # cycles' ~700 calls at 8/s would be most of this test's time.
    emu = emulators("--instances", "316", "--rate-scale", "0.01",
                    "--throttle-rate", "60", "--throttle-burst", "1500")  # fmt: skip
    use_rds(world, emu, monkeypatch)
    ids, engines, _ = await followed(emu)
    fleet = emu.admin("GET", "fleet")
    clusters = len(fleet["clusters"])
    fast = {"rds_api_rate_limit": 40.0, "rds_api_burst": 500}
    settings = world.settings(**fast)
    emu.reset_stats()
    async with running(settings) as svc:
        first = (await svc.run_cycle())[0]
        assert first.outcome == "ok", first.errors
        assert first.instances["followed"] == len(ids)
        # The emulator's two stopped instances are skipped without an error (one also opts out).
        assert first.instances["not_ready"] + first.instances["opted_out"] == 316 - len(ids)
        assert first.instances["not_ready"] >= 1
        cold = emu.stats()
        assert cold["calls"]["DescribeDBInstances"] == math.ceil(316 / 100)
        assert cold["calls"]["DescribeDBClusters"] == math.ceil(clusters / 100)
        assert cold["calls"]["DescribeDBLogFiles"] == len(ids)
        assert cold["total_throttled"] == 0

        messages = await read_messages(settings)
        announced = Counter((m["instance_id"], m["generation"]) for m in messages)
        assert set(announced) == expected_files(emu, ids, engines)
        assert max(announced.values()) == 1
        assert len(messages) == first.announced

        # Inside the describe TTL: no cluster or instance call; nothing announced again.
        emu.reset_stats()
        second = (await svc.run_cycle())[0]
        assert second.announced == 0 and second.outcome == "ok"
        calls = emu.stats()["calls"]
        assert calls.get("DescribeDBInstances", 0) == 0
        assert calls.get("DescribeDBClusters", 0) == 0
        assert calls.get("DescribeDBLogFiles", 0) <= second.polled

    # A new replica (empty process caches, warm Valkey) past the log-file TTL: listings only
    # for due instances, the fleet from the cache; still nothing announced twice.
    emu.reset_stats()
    async with running(world.settings(cache_ttl_log_files_sec=0, **fast)) as svc:
        third = (await svc.run_cycle())[0]
        assert third.announced == 0
        calls = emu.stats()["calls"]
        due = third.polled
        assert due == len(ids)
        budget = due + math.ceil(316 / 100) + math.ceil(clusters / 100)
        assert sum(v for k, v in calls.items() if not k.endswith("Parameters")) <= budget
        assert calls.get("DescribeDBInstances", 0) == 0  # describe TTL (5 min) still running
    assert len(await read_messages(settings)) == len(messages)
