"""`aurora-processor run` as a real process, fed by Kafka, killed with SIGKILL while it works.

Whatever moment the kill lands on (mid-download, after a batch left and before its checkpoint,
mid-archive), the next processor takes the expired lease, finishes or recovers the pending range
and goes on: in the end S3 holds every file byte for byte and OpenObserve every event once.
A SIGTERM instead drains: the process exits 0 within its deadline.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from common.kafka import make_producer
from common.messages import LogFileMessage
from common.settings import Settings
from devstack.procs import spawn, stop_group
from processor.checkpoint import CheckpointStore, FileKey
from tests.helpers import wait_for
from tests.processor.conftest import (
    World,
    archived,
    expected_ids,
    rotated_files_totalling,
    rotated_messages,
)

SEED = int(os.environ.get("CHAOS_SEED", random.randrange(1 << 30)))


def _env(world: World, stack_env: dict[str, str], group: str) -> dict[str, str]:
    return {
        **os.environ,
        **stack_env,
        "KAFKA_CONSUMER_GROUP": group,
        "KAFKA_SESSION_TIMEOUT_MS": "6000",
        "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "TRACKING_TABLE": world.tracking.name,
        "JOBS_TABLE": world.jobs.name,
        "S3_PREFIX": world.prefix,
        "PROCESSOR_RANGE_BYTES": "4096",
        "PROCESSOR_ARCHIVE_RANGE_BYTES": str(5 * 1024 * 1024),
        "PROCESSOR_LEASE_SEC": "10",
        "METRICS_PORT": "0",
        "LOG_LEVEL": "INFO",
        "SHUTDOWN_TIMEOUT_SEC": "20",
        "OPENOBSERVE_VISIBILITY_LAG_SEC": "1",
    }


@pytest.fixture
async def messages(world: World) -> AsyncIterator[list[LogFileMessage]]:
    found = await rotated_files_totalling(world, "aurora-mysql", ("slowquery",), 20 * 4096)
    found += await rotated_messages(world, "aurora-postgresql", ("postgresql",))
    # Enough ranges (PROCESSOR_RANGE_BYTES=4096, each shipped in 50-150 ms) that a kill after a
    # few jobs lands while work remains. The files' sizes depend on the hour the test runs.
    assert sum(m.size for m in found) > 16 * 4096, [m.size for m in found]
    yield found


async def _publish(settings: Settings, msgs: list[LogFileMessage]) -> None:
    producer = make_producer(settings.kafka)
    await producer.start()
    try:
        topics = settings.kafka.topics()
        for msg in msgs:
            await producer.send_and_wait(topics[str(msg.log_type)], msg.to_bytes(), key=msg.key)
    finally:
        await producer.stop()


async def _done(world: World, msgs: list[LogFileMessage]) -> bool:
    store = CheckpointStore(world.ddb, world.tracking, "test", 1)
    rows = [await store.load(FileKey(m.resource_id, m.generation)) for m in msgs]
    return all(r.status == "complete" and r.pending is None for r in rows)


async def _jobs(world: World) -> int:
    answer = await world.ddb.scan(TableName=world.jobs.name, Select="COUNT")
    return int(answer["Count"])


def _run(env: dict[str, str], log: Path) -> Any:
    return spawn([sys.executable, "-m", "processor.cli", "run"], log, env=env)


async def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    world: World,
    messages: list[LogFileMessage],
    stack_env: dict[str, str],
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    print(f"CHAOS_SEED={SEED}")  # a failing seed replays with CHAOS_SEED=...
    env = _env(world, stack_env, "g-" + uuid.uuid4().hex[:8])
    await _publish(world.settings, messages)
    kills = 0
    running: list[Any] = []
    # Each ingest request takes 100-250 ms, so a kill lands while ranges remain to ship.
    world.o2_faults("POST", {"latency_ms": 100, "latency_jitter_ms": 150})
    try:
        for attempt in range(3):
            proc = _run(env, tmp_path / f"p{attempt}.log")
            running.append(proc)
            target = await _jobs(world) + rng.randint(1, 4)

            async def progressed(target: int = target) -> bool:
                return await _jobs(world) >= target or await _done(world, messages)

            await wait_for(progressed, timeout=90)
            if await _done(world, messages):
                break
            os.killpg(proc.pid, signal.SIGKILL)  # mid-range, mid-archive: wherever it is
            proc.wait(10)
            running.remove(proc)
            kills += 1
        running.append(_run(env, tmp_path / "final.log"))
        await wait_for(lambda: _done(world, messages), timeout=180, interval=0.5)
    finally:
        world.o2_faults("DELETE")
        for proc in running:
            stop_group(proc.pid)
    assert kills >= 1, "every file was done before the first kill: the test proves nothing"
    for msg in messages:
        truth = world.truth(msg.instance_id, msg.log_file_name)
        assert await archived(world, msg) == truth, msg.log_file_name
        copies = world.o2_copies(world.settings.openobserve.streams()[str(msg.log_type)])
        expected = expected_ids(msg, truth)
        duplicated = [e for e in expected if copies.get(e, 0) > 1]
        lost = [e for e in expected if copies.get(e, 0) == 0]
        assert (duplicated, lost) == ([], []), f"{msg.log_file_name} (seed {SEED})"


async def test_sigterm_drains_and_exits_zero_within_the_deadline(
    world: World,
    messages: list[LogFileMessage],
    stack_env: dict[str, str],
    tmp_path: Path,
) -> None:
    env = _env(world, stack_env, "g-" + uuid.uuid4().hex[:8])
    await _publish(world.settings, messages)
    proc = _run(env, tmp_path / "p.log")
    try:
        start = await _jobs(world)

        async def working() -> bool:
            return await _jobs(world) > start

        await wait_for(working, timeout=90)
        os.killpg(proc.pid, signal.SIGTERM)
        code = proc.wait(30)  # SHUTDOWN_TIMEOUT_SEC=20, plus the interpreter's exit
    finally:
        stop_group(proc.pid)
    assert code == 0, (tmp_path / "p.log").read_text()[-3000:]
    store = CheckpointStore(world.ddb, world.tracking, "test", 1)
    rows = [await store.load(FileKey(m.resource_id, m.generation)) for m in messages]
    assert all(r.lease_owner is None for r in rows)  # nothing left leased after a clean stop
