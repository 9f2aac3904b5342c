"""Valkey killed mid-run: discovery goes on (local bucket, its own memory for the cache),
says so in its readiness detail and metric, and recovers by itself when Valkey returns."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from devstack.procs import free_port, stop_group
from tests.discovery.conftest import World, read_messages, running, start_own, use_rds
from tests.helpers import wait_for


async def test_valkey_killed_mid_run_then_back(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    emu = emulators("--instances", "10", "--stopped", "0")
    use_rds(world, emu, monkeypatch)
    port = free_port()
    pid = start_own("valkey", port, tmp_path / "v1")
    settings = world.settings(
        valkey_url=f"redis://127.0.0.1:{port}/0",
        valkey_socket_timeout_sec=0.5,
        cache_ttl_log_files_sec=0,
        discovery_opt_out_tag="none",
    )
    try:
        async with running(settings) as svc:
            first = (await svc.run_cycle())[0]
            assert first.outcome == "ok" and first.announced > 0
            assert svc.valkey_detail() == "ok"

            stop_group(pid)
            emu.admin("POST", "clock", {"advance_sec": 600})
            second = (await svc.run_cycle())[0]
            assert second.outcome == "ok", second.errors
            assert second.announced > 0  # new bytes still announced
            assert svc.valkey_detail().startswith("degraded")
            assert REGISTRY.get_sample_value("aurora_valkey_up") == 0

            pid = start_own("valkey", port, tmp_path / "v2")
            emu.admin("POST", "clock", {"advance_sec": 600})

            async def recovered() -> bool:
                report = (await svc.run_cycle())[0]
                assert report.outcome == "ok", report.errors
                return svc.valkey_detail() == "ok"

            await wait_for(recovered, timeout=60, interval=0.5)
            assert REGISTRY.get_sample_value("aurora_valkey_up") == 1
            total = first.announced + second.announced
    finally:
        stop_group(pid)
    messages = await read_messages(settings)
    assert len(messages) >= total
    keys = [(m["instance_id"], m["generation"], m["size"]) for m in messages]
    assert len(keys) == len(set(keys))  # never the same file at the same size twice
