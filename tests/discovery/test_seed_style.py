"""`DISCOVERY_SEED_STYLE`: the benchmarks' baseline behaves like the seed design (a
DescribeDBInstances per instance, no cache hit, a full DescribeDBLogFiles per instance every
cycle) and still announces exactly what the normal mode announces."""

from __future__ import annotations

from collections import Counter

import pytest

from discovery.schedule import Schedule
from tests.discovery.conftest import (
    World,
    expected_files,
    followed,
    new_world,
    read_messages,
    running,
    use_rds,
)


def test_seed_schedule_lists_every_instance_in_full_every_cycle() -> None:
    seed = Schedule(60, 600, 3600, every_cycle=True)
    normal = Schedule(60, 600, 3600)
    for schedule in (seed, normal):
        for quiet in range(4):  # quiet cycles: the normal schedule backs off
            schedule.done("db-1", changed=False, newest_written_ms=1000, full=True, now=quiet)
    assert seed.due("db-1", now=4) and seed.wants_full("db-1", now=4)
    assert not normal.due("db-1", now=4) and not normal.wants_full("db-1", now=4)


async def test_seed_style_cycle_describes_each_instance_uncached_same_announcements(
    world: World, stack_env: dict[str, str], emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulators()
    use_rds(world, emu, monkeypatch)
    ids, engines, _ = await followed(emu)
    fleet = emu.admin("GET", "fleet")
    members = sum(len(m) for m in fleet["clusters"].values())

    seed_settings = world.settings(discovery_seed_style=True)
    async with running(seed_settings) as svc:
        for n in range(2):  # the second cycle proves nothing is cached between cycles either
            emu.reset_stats()
            report = (await svc.run_cycle())[0]
            assert report.outcome == "ok", report.errors
            calls = emu.stats()["calls"]
            assert calls["DescribeDBInstances"] >= members >= len(ids)
            assert calls["DescribeDBLogFiles"] == len(ids)  # every followed instance, in full
            assert report.polled == len(ids)
            assert svc.discoverers[0].ctx.cache.counts["hit"] == 0
            assert svc.discoverers[0].ctx.cache.counts["stale"] == 0
            if n == 0:
                first = report
    seed_messages = await read_messages(seed_settings)
    seed_files = Counter((m["instance_id"], m["generation"], m["size"]) for m in seed_messages)
    assert len(seed_messages) == first.announced and max(seed_files.values()) == 1

    normal = await new_world(stack_env)
    normal_settings = normal.settings()
    async with running(normal_settings) as svc:
        assert (await svc.run_cycle())[0].outcome == "ok"
    normal_messages = await read_messages(normal_settings)
    normal_files = Counter((m["instance_id"], m["generation"], m["size"]) for m in normal_messages)
    assert seed_files == normal_files
    assert {(i, g) for i, g, _ in seed_files} == expected_files(emu, ids, engines)
