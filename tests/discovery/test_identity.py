"""Identity that survives renames and Blue/Green switchovers (checkpoints carry the DbiResourceId),
paused Serverless v2 and stopped clusters skipped without errors, START_POSITION."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.discovery.conftest import World, read_messages, running, use_rds


def _fleet(emu) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {i["instance_id"]: i for i in emu.admin("GET", "fleet")["instances"]}


async def test_rename_and_blue_green_switchover(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulators("--instances", "12", "--stopped", "0", "--logging", "all")
    use_rds(world, emu, monkeypatch)
    fleet = _fleet(emu)
    clusters = emu.admin("GET", "fleet")["clusters"]
    blue_cluster = next(
        c for c, members in clusters.items() if fleet[members[0]]["engine"] == "aurora-mysql"
    )
    renamed = next(i for i in fleet if fleet[i]["cluster_id"] != blue_cluster)
    settings = world.settings(
        cache_ttl_describe_sec=0, cache_ttl_log_files_sec=0, discovery_opt_out_tag="none"
    )
    async with running(settings) as svc:
        first = (await svc.run_cycle())[0]
        assert first.outcome == "ok", first.errors
        count_before = len(await read_messages(settings))

        # A rename keeps the resource id: nothing is announced again, the history stays.
        emu.admin("POST", f"fleet/instances/{renamed}/rename", {"new_instance_id": renamed + "-x"})
        second = (await svc.run_cycle())[0]
        assert second.outcome == "ok", second.errors
        assert second.announced == 0
        owned = {i.instance_id: i.resource_id for i in svc.discoverers[0].owned()}
        assert owned[renamed + "-x"] == fleet[renamed]["resource_id"]

        # Blue/Green: greens are new resources (announced from their start); after the
        # switchover the names move, resource ids do not, and nothing is skipped or repeated.
        deployment = emu.admin("POST", f"fleet/clusters/{blue_cluster}/blue-green", {})
        emu.admin("POST", "clock", {"advance_sec": 300})
        (await svc.run_cycle())[0]
        switched = emu.admin("POST", f"blue-green/{deployment['deployment_id']}/switchover")
        emu.admin("POST", "clock", {"advance_sec": 600})
        after = (await svc.run_cycle())[0]
        assert after.outcome == "ok", after.errors
        rows_by_rid = {
            rid: await svc.tracking.rows(rid)
            for rid in {i.resource_id for i in svc.discoverers[0].owned()}
        }
    new_fleet = _fleet(emu)
    messages = await read_messages(settings)
    assert len(messages) > count_before
    for pair in deployment["pairs"]:
        blue, green = pair["blue"], pair["green"]
        green_rid = fleet_rid = new_fleet[blue]["resource_id"]  # the name's new owner
        assert fleet_rid != fleet[blue]["resource_id"]
        assert new_fleet[switched["renamed"][blue]]["resource_id"] == fleet[blue]["resource_id"]
        # Files of the new owner of the name: read from their start (cursors at 0), whatever
        # the old owner had read of files with the same names.
        green_rows = rows_by_rid[green_rid]
        assert green_rows
        assert all(r.shipped_offset == 0 for r in green_rows.values())
        names = {r.log_file_name for r in green_rows.values()}
        blue_names = {r.log_file_name for r in rows_by_rid[fleet[blue]["resource_id"]].values()}
        assert names & blue_names  # same names (e.g. the active slow log): kept apart by rid
        by_rid = [m for m in messages if m["resource_id"] == green_rid]
        assert {m["instance_id"] for m in by_rid} <= {green, blue}
    sizes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for m in messages:
        sizes[(m["resource_id"], m["generation"])].append(m["size"])
    assert all(len(v) == len(set(v)) for v in sizes.values())  # never twice at one size


async def test_paused_serverless_and_stopped_cluster_are_quiet(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulators("--instances", "60", "--stopped", "0")
    use_rds(world, emu, monkeypatch)
    fleet = _fleet(emu)
    serverless = next(i for i, f in fleet.items() if f["instance_class"] == "db.serverless")
    clusters = emu.admin("GET", "fleet")["clusters"]
    stopped_cluster = next(c for c, m in clusters.items() if serverless not in m and len(m) >= 2)
    settings = world.settings(cache_ttl_log_files_sec=0, discovery_opt_out_tag="none")
    async with running(settings) as svc:
        assert (await svc.run_cycle())[0].outcome == "ok"
        emu.admin("POST", f"fleet/instances/{serverless}/pause")
        # The cluster stops while the instance listing is still cached: the log API answers
        # InvalidDBInstanceState; then the listing says `stopped`. Neither is an error.
        emu.admin("POST", f"fleet/clusters/{stopped_cluster}/stop", {"seconds": 0})
        emu.reset_stats()
        for _ in range(3):
            report = (await svc.run_cycle())[0]
            assert report.outcome == "ok" and not report.errors
        assert svc.discoverers[0].schedule.state(fleet[serverless]["resource_id"]).state == "paused"
        for member in clusters[stopped_cluster]:
            assert (
                svc.discoverers[0].schedule.state(fleet[member]["resource_id"]).state == "not_ready"
            )
        # Quiet instances back off: three cycles did not list the paused instance three times.
        errors = emu.stats()["errors"].get("DescribeDBLogFiles", {})
        assert errors.get("DBInstanceNotReady", 0) <= 2


async def test_start_position_latest_and_duration(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulators(
        "--instances", "6", "--stopped", "0", "--history-hours", "3", "--logging", "all"
    )
    use_rds(world, emu, monkeypatch)
    settings = world.settings(
        start_position="latest", cache_ttl_log_files_sec=0, discovery_opt_out_tag="none"
    )
    async with running(settings) as svc:
        first = (await svc.run_cycle())[0]
        assert first.announced == 0 and first.skipped_files > 0
        emu.admin("POST", "clock", {"advance_sec": 120})
        second = (await svc.run_cycle())[0]
    messages = await read_messages(settings)
    # Only files written after the start: the active ones that grew.
    assert second.announced == len(messages) > 0
    assert not any(m["rotated"] for m in messages)
