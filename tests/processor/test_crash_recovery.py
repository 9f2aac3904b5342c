"""`aurora-processor run` as a real process, fed by Kafka, killed with SIGKILL ten times while it
works.

Whatever moment a kill lands on (starting up, mid-download, after a batch left and before its
checkpoint, mid-archive, in the recovery of the previous kill's batch), the next processor takes
the expired lease, finishes or recovers the pending range and goes on: in the end S3 holds every
file byte for byte, OpenObserve every event once, and the `jobs` ledger no range twice.
The moments are random: the test prints its seed, and `CHAOS_SEED=<seed>` replays the choices.
A SIGTERM instead drains: the process exits 0 within its deadline.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from common.messages import LogFileMessage
from tests.helpers import wait_for
from tests.processor.conftest import World
from tests.processor.fleet import (
    all_complete,
    assert_exactly_once,
    checkpoints,
    fleet_files,
    job_rows,
    jobs_count,
    overlapping,
    private_fleet,
)

SEED = int(os.environ.get("CHAOS_SEED", random.randrange(1 << 30)))
KILLS = 10


@pytest.fixture
async def messages(world: World) -> AsyncIterator[list[LogFileMessage]]:
    # A rotated file's range is one download chunk (up to 1 MiB) and its archive one object,
    # so work to interrupt ten times means files, not bytes: many small ones, two jobs each
    # (72). A kill comes after 1 or 2 new jobs, plus those finishing meanwhile: 27 to 51 jobs
    # were done by the tenth in the runs measured.
    yield await fleet_files(world)


async def test_sigkill_ten_times_at_random_moments_loses_and_duplicates_nothing(
    world: World,
    messages: list[LogFileMessage],
    stack_env: dict[str, str],
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    print(f"CHAOS_SEED={SEED}")  # a failing seed replays with CHAOS_SEED=...
    # Two files at a time: a kill interrupts a few files, not the whole fleet's work.
    fleet = await private_fleet(world, stack_env, tmp_path, PROCESSOR_CONCURRENCY="2")
    await fleet.publish(messages)
    moments = []
    # Each ingest request takes 50-150 ms, so a kill often lands between a range's intent and
    # its checkpoint: the case recovery exists for.
    world.o2_faults("POST", {"latency_ms": 50, "latency_jitter_ms": 100})
    try:
        for kill in range(KILLS):
            proc = fleet.services.start("processor", "processor")
            target = await jobs_count(world) + rng.randint(1, 2)

            async def progressed(target: int = target) -> bool:
                return await jobs_count(world) >= target or await all_complete(world, messages)

            await wait_for(progressed, timeout=60, interval=0.05)
            if await all_complete(world, messages):
                break
            # Not a wait for anything: a random moment within the next range or two.
            await asyncio.sleep(rng.uniform(0, 0.2))
            fleet.services.kill(proc.name, signal.SIGKILL)
            moments.append(await jobs_count(world))
            print(f"kill {kill + 1} after {moments[-1]} jobs")
        # The chaos is over: the last processor finishes at full speed.
        world.o2_faults("DELETE")
        if not fleet.services.running["processor"].alive:
            fleet.services.env["PROCESSOR_CONCURRENCY"] = "8"
            fleet.services.start("processor", "processor")
        await wait_for(lambda: all_complete(world, messages), timeout=120, interval=0.2)
    finally:
        world.o2_faults("DELETE")
        fleet.services.stop_all()
    assert len(moments) == KILLS, f"all done after {len(moments)} kills: the files are too small"
    await assert_exactly_once(world, messages, SEED)
    assert overlapping(await job_rows(world)) == [], f"a range processed twice (seed {SEED})"


async def test_sigterm_drains_and_exits_zero_within_the_deadline(
    world: World, stack_env: dict[str, str], tmp_path: Path
) -> None:
    msgs = (await fleet_files(world))[:16]
    fleet = await private_fleet(world, stack_env, tmp_path)
    await fleet.publish(msgs)
    world.o2_faults("POST", {"latency_ms": 50})
    proc = fleet.services.start("processor")
    try:

        async def working() -> bool:
            return await jobs_count(world) > 0

        await wait_for(working, timeout=60)
        fleet.services.kill(proc.name, signal.SIGTERM)
        code = proc.process.wait(20)  # SHUTDOWN_TIMEOUT_SEC=10, plus the interpreter's exit
    finally:
        world.o2_faults("DELETE")
        fleet.services.stop_all()
    assert code == 0, proc.log.read_text()[-3000:]
    rows = await checkpoints(world, msgs)
    assert all(r.lease_owner is None for r in rows)  # nothing left leased after a clean stop
