"""Discovery as a real process: killed between publish and `published_size` it re-announces
(harmless) and never forgets; SIGTERM finishes the cycle's publishing and exits 0; /readyz
reflects Kafka and DynamoDB with Valkey as a detail."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.aws import AwsClients
from common.settings import Settings
from devstack.procs import free_port, spawn, stop_group
from discovery.tracking import Row
from tests.discovery.conftest import World, expected_files, followed, read_messages, use_rds
from tests.helpers import wait_for


async def tracking_rows(settings: Settings) -> dict[tuple[str, str], Row]:
    out: dict[tuple[str, str], Row] = {}
    async with AwsClients(settings.aws).client("dynamodb") as ddb:
        kwargs: dict[str, Any] = {"TableName": settings.tables.tracking_table}
        while True:
            page = await ddb.scan(**kwargs)
            for item in page["Items"]:
                row = Row.from_item(item)
                out[(item["resource_id"]["S"], row.generation)] = row
            if not page.get("LastEvaluatedKey"):
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _key(m: dict[str, Any]) -> tuple[str, str, int]:
    return (m["resource_id"], m["generation"], m["size"])


def start(world: World, tmp: Path, command: str, **env: str) -> int:
    proc = spawn(
        [sys.executable, "-m", "discovery.cli", command],
        tmp / f"discovery-{command}.log",
        env=world.subprocess_env(LOG_FORMAT="console", **env),
    )
    return proc.pid


async def first_message(settings: Settings) -> None:
    async def any_message() -> bool:
        return bool(await read_messages(settings))

    await wait_for(any_message, timeout=120, interval=0.02)


async def exit_code(pid: int, timeout: float) -> int:
    async def gone() -> int | None:
        done, status = os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222 - WNOHANG never blocks
        return os.waitstatus_to_exitcode(status) if done else None

    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        code = await gone()
        if code is not None:
            return code
        await asyncio.sleep(0.05)
    raise AssertionError(f"process {pid} still running after {timeout}s")


async def fleet_of_40(
    world: World, emulators: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, set[tuple[str, str]]]:
    """An emulator of 40 instances for the test, and the (resource id, generation) it holds."""
    emu = emulators("--instances", "40")
    use_rds(world, emu, monkeypatch)
    ids, engines, rids = await followed(emu)
    return {(rids[i], g) for i, g in expected_files(emu, ids, engines)}


async def test_killed_between_publish_and_record_reannounces_and_never_forgets(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    want = await fleet_of_40(world, emulators, monkeypatch)
    settings = world.settings()
    pid = start(world, tmp_path, "run", DISCOVERY_INTERVAL_SEC="3600")
    try:
        await first_message(settings)
        os.killpg(pid, signal.SIGKILL)
        await exit_code(pid, 10)
    finally:
        stop_group(pid)
    before = await read_messages(settings)
    # A write the killed process had sent may still be applied: wait until the table is still.
    seen: list[dict[tuple[str, str], Row]] = [await tracking_rows(settings)]

    async def still() -> bool:
        seen.append(await tracking_rows(settings))
        return seen[-1] == seen[-2]

    await wait_for(still, timeout=30, interval=0.5)
    rows = seen[-1]
    unrecorded = {
        (m["resource_id"], m["generation"], m["size"])
        for m in before
        if (
            rows.get((m["resource_id"], m["generation"]))
            or Row.from_item({"generation": {"S": ""}})
        ).published_size
        != m["size"]
    }
    recorded = {(m["resource_id"], m["generation"], m["size"]) for m in before} - unrecorded

    pid = start(world, tmp_path, "once")
    try:
        assert await exit_code(pid, 180) == 0
    finally:
        stop_group(pid)
    after = await read_messages(settings)
    again_set = set(+(Counter(map(_key, after)) - Counter(map(_key, before))))
    # Acknowledged but not recorded when killed: announced again (a harmless duplicate) ...
    assert unrecorded <= again_set
    # ... recorded ones are not, and nothing is forgotten: every file has its row.
    assert not (recorded & again_set)
    rows = await tracking_rows(settings)
    assert {k for k, r in rows.items() if r.published_size is not None} == want
    assert {(m["resource_id"], m["generation"]) for m in after} == want


async def test_sigterm_finishes_publishing_and_exits_zero_readyz(
    world: World, emulators, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    want = await fleet_of_40(world, emulators, monkeypatch)
    settings = world.settings()
    port = free_port()
    pid = start(
        world, tmp_path, "run", DISCOVERY_INTERVAL_SEC="3600", METRICS_PORT=str(port),
        SHUTDOWN_TIMEOUT_SEC="60",
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def ready() -> dict[str, Any] | None:
                try:
                    resp = await http.get("/readyz")
                except httpx.TransportError:
                    return None
                return resp.json() if resp.status_code == 200 else None

            body = await wait_for(ready, timeout=60, interval=0.1)
            assert body["checks"] == {"kafka": "ok", "dynamodb": "ok"}
            assert body["details"] == {"valkey": "ok"}
            await first_message(settings)
            metrics = (await http.get("/metrics")).text
            assert "aurora_rds_api_calls_total" in metrics
        os.killpg(pid, signal.SIGTERM)
        assert await exit_code(pid, 90) == 0
    finally:
        stop_group(pid)
    # The cycle under way when SIGTERM came finished its publishing and recorded every ack.
    messages = await read_messages(settings)
    rows = await tracking_rows(settings)
    for m in messages:
        assert rows[(m["resource_id"], m["generation"])].published_size == m["size"]
    assert {(m["resource_id"], m["generation"]) for m in messages} == want
