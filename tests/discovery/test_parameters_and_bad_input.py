"""What the fleet is not logging (parameter groups, cached an hour), and bad input: unknown file
names logged once and skipped, a Kafka outage that stops publishing and recovers by itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from common.log_types import LogType
from devstack.procs import free_port, stop_group
from devstack.provision import create_topics
from discovery.params import disabled_log_types
from tests.discovery.conftest import (
    World,
    metric_total,
    read_messages,
    running,
    start_own,
    use_rds,
)
from tests.helpers import wait_for

OPTIONAL = {LogType.SLOWQUERY.value, LogType.GENERAL.value, LogType.AUDIT.value}


def test_disabled_rules() -> None:
    assert disabled_log_types("aurora-mysql", {}) == {
        "slowquery": "slow_query_log=0", "general": "general_log=0", "audit": "server_audit_logging=0",
    }  # fmt: skip
    on = {"slow_query_log": "1", "general_log": "1", "server_audit_logging": "1"}
    assert disabled_log_types("aurora-mysql", on) == {}
    table = disabled_log_types("aurora-mysql", {**on, "log_output": "TABLE"})
    assert table == {"slowquery": "log_output=TABLE", "general": "log_output=TABLE"}
    assert disabled_log_types("aurora-postgresql", {"log_min_duration_statement": "-1"}) == {
        "postgresql": "log_min_duration_statement=-1"
    }


async def test_disabled_log_types_match_the_files_that_exist(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulators("--instances", "80", "--stopped", "0")
    use_rds(world, emu, monkeypatch)
    settings = world.settings(discovery_opt_out_tag="none")
    async with running(settings) as svc:
        assert (await svc.run_cycle())[0].outcome == "ok"
        emu.reset_stats()
        assert (await svc.run_cycle())[0].outcome == "ok"
        calls = emu.stats()["calls"]
        assert "DescribeDBClusterParameters" not in calls  # cached for an hour
        assert "DescribeDBParameters" not in calls
        d = svc.discoverers[0]
        reported = {
            i.instance_id: {r.split(":")[0] for r in d.disabled.get(i.resource_id, [])}
            for i in d.owned()
        }
        snapshot = svc.snapshot(svc.reports, {}, 0.0, "ok")
    fleet = {i["instance_id"]: i for i in emu.admin("GET", "fleet")["instances"]}
    off_somewhere = 0
    for iid, off in reported.items():
        if fleet[iid]["engine"] != "aurora-mysql":
            continue
        existing = set(fleet[iid]["log_types"])
        assert off & OPTIONAL == OPTIONAL - existing, iid
        off_somewhere += bool(off)
    assert off_somewhere > 0
    gauge = REGISTRY.get_sample_value("aurora_discovery_log_type_disabled", {"log_type": "audit"})
    assert gauge and gauge > 0
    assert snapshot["disabled_log_types"]


async def test_kafka_outage_stops_publishing_and_recovers(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A broker of the test's own, stopped mid-run and started again on the same port."""
    emu = emulators("--instances", "8", "--stopped", "0")
    use_rds(world, emu, monkeypatch)
    port = free_port()

    async def broker_up() -> int:
        pid = start_own("kafka", port, tmp_path)
        await create_topics(settings.kafka)
        return pid

    settings = world.settings(
        discovery_opt_out_tag="none", cache_ttl_log_files_sec=0, kafka_brokers=f"127.0.0.1:{port}",
        kafka_request_timeout_ms=3000,  # a send to the stopped broker fails in 3 s, not 30
    )  # fmt: skip
    pid = await broker_up()
    try:
        async with running(settings) as svc:
            first = (await svc.run_cycle())[0]
            assert first.outcome == "ok" and first.announced > 0
            stop_group(pid)
            emu.admin("POST", "clock", {"advance_sec": 600})
            failures = metric_total("aurora_kafka_publish_failures_total")
            second = (await svc.run_cycle())[0]
            assert second.announced == 0 and second.publish_failed > 0
            assert second.outcome == "partial"
            assert metric_total("aurora_kafka_publish_failures_total") > failures
            # Nothing is marked announced that Kafka did not acknowledge.
            for inst in svc.discoverers[0].owned():
                for row in (await svc.tracking.rows(inst.resource_id)).values():
                    assert row.published_size == row.size_seen  # still the first cycle's sizes
            pid = await broker_up()  # back (empty: tansu keeps topics in memory)

            async def recovered() -> bool:
                report = (await svc.run_cycle())[0]
                return report.outcome == "ok" and report.announced >= second.publish_failed

            await wait_for(recovered, timeout=120, interval=1)
        assert len(await read_messages(settings)) >= second.publish_failed
    finally:
        stop_group(pid)
