"""Hourly rotation of the reused active names under an advancing emulated clock: one generation
(one tracking row) per hour, whose active and rotated names share it; no gap, no overlap."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from common.log_files import generation_of
from tests.discovery.conftest import World, read_messages, running, use_rds

BASE = "slowquery/mysql-slowquery.log"


async def test_one_generation_per_hour_without_gap_or_overlap(
    world: World,
    emulators,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = emulators("--instances", "6", "--stopped", "0", "--rate-scale", "0.2", "--logging", "all")
    use_rds(world, emu, monkeypatch)
    mysql = [i for i in emu.admin("GET", "fleet")["instances"] if i["engine"] == "aurora-mysql"]
    iid = mysql[0]["instance_id"]
    settings = world.settings(cache_ttl_log_files_sec=0, discovery_opt_out_tag="none")
    async with running(settings) as svc:
        for _ in range(14):  # 3.5 emulated hours in 15-minute steps
            report = (await svc.run_cycle())[0]
            assert report.outcome == "ok", report.errors
            emu.admin("POST", "clock", {"advance_sec": 900})
        await svc.run_cycle()
        disc = svc.discoverers[0]
        rid = next(i.resource_id for i in disc.owned() if i.instance_id == iid)
        rows = await svc.tracking.rows(rid)

    truth = [
        f for f in emu.admin("GET", f"ground-truth/{iid}")["files"] if f["name"].startswith(BASE)
    ]
    by_generation = {
        generation_of(f["listed_name"], int(f["last_written"]), int(f["size"])).key: f
        for f in truth
    }
    slow_rows = {g: r for g, r in rows.items() if g.startswith(BASE)}
    # Every hour the emulator made a slow log file for has exactly one row, named by the hour.
    assert set(slow_rows) == {g for g, f in by_generation.items() if f["size"] > 0}
    hours = sorted(
        datetime.strptime(g.split("@")[1], "%Y-%m-%dT%H").replace(tzinfo=UTC) for g in slow_rows
    )
    assert hours == [hours[0] + timedelta(hours=n) for n in range(len(hours))]  # contiguous
    assert len(hours) >= 4
    for g, row in slow_rows.items():
        f = by_generation[g]
        if f["state"] == "rotated":
            # Announced complete, at the rotated file's final size, under its rotated name.
            assert row.published_rotated and row.published_size == f["size"]
            assert row.log_file_name == f["name"] and row.log_file_name != BASE
        else:
            assert row.log_file_name == BASE and not row.published_rotated

    messages = [m for m in await read_messages(settings) if m["instance_id"] == iid]
    sizes: dict[str, list[int]] = defaultdict(list)
    for m in messages:
        if m["generation"].startswith(BASE):
            sizes[m["generation"]].append(m["size"])
            assert m["rotated"] == (m["log_file_name"] != BASE)
    for g, seen in sizes.items():
        assert seen == sorted(set(seen)), f"{g} announced twice at one size: {seen}"
