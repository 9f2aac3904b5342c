"""Processors of one consumer group, real processes, through rebalances while they work: a range
is never processed twice.

A second processor joins mid-work (the group splits the partitions: the first one's revoked
files are cancelled and let go), the first is then SIGKILLed (its partitions come back to the
group after the session timeout, its leases are waited out and its pending ranges recovered), a
third joins and the second leaves with SIGTERM (it drains, commits and leaves). Throughout, the
conditional checkpoint writes fence whoever lost a file. The `jobs` ledger then shows no two
rows of one file generation and sink sharing a byte, every rotated file is `complete`, S3 holds
it byte for byte, and OpenObserve holds each event once (of an active file: each event of the
bytes shipped so far).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from signal import SIGKILL, SIGTERM

from common.messages import LogFileMessage
from devstack.services import ServiceProcess
from tests.helpers import wait_for
from tests.processor.conftest import World, active_file, clear_of_the_hour
from tests.processor.fleet import (
    all_complete,
    assert_exactly_once,
    fleet_files,
    job_rows,
    jobs_by,
    overlapping,
    private_fleet,
)

ACTIVE = "slowquery/mysql-slowquery.log"


async def test_processors_joining_and_leaving_never_process_a_range_twice(
    world: World, stack_env: dict[str, str], tmp_path: Path
) -> None:
    rotated = await fleet_files(world)
    slow = [m for m in rotated if str(m.log_type) == "slowquery"]
    clear_of_the_hour()
    msgs = rotated + [await active_file(world, m, ACTIVE) for m in slow[:2]]
    # Two files at a time per processor and slow ingestion: the work outlasts three startups.
    fleet = await private_fleet(world, stack_env, tmp_path, PROCESSOR_CONCURRENCY="2")
    await fleet.publish(msgs)
    world.o2_faults("POST", {"latency_ms": 200, "latency_jitter_ms": 200})
    services = fleet.services
    try:
        first = services.start("processor")
        await _worked(world, msgs, first, 1)
        # Imports while the first works; joins mid-work: a rebalance splits the partitions.
        second = services.start("processor")
        await _worked(world, msgs, second, 1)
        services.kill(first.name, SIGKILL)  # its partitions and leases come back to the group
        services.env["PROCESSOR_CONCURRENCY"] = "8"  # the last one finishes at full speed
        third = services.start("processor")  # imports while the second takes over
        done = await jobs_by(world, second)
        await _worked(world, msgs, second, done + 2)
        await _worked(world, msgs, third, 1)
        services.kill(second.name, SIGTERM)  # drains, commits, leaves
        code = second.process.wait(20)  # SHUTDOWN_TIMEOUT_SEC=10, plus the interpreter's exit
        world.o2_faults("DELETE")  # the slowness only had to outlast the rebalances
        await wait_for(lambda: all_complete(world, msgs), timeout=90, interval=0.2)
    finally:
        world.o2_faults("DELETE")
        services.stop_all()
    assert code == 0, second.log.read_text()[-3000:]
    jobs = await job_rows(world)
    assert all([await jobs_by(world, p) for p in (first, second, third)]), "a processor idled"
    assert overlapping(jobs) == [], "a range processed twice"
    await assert_exactly_once(world, msgs, seed=0)


async def _worked(
    world: World, msgs: Sequence[LogFileMessage], service: ServiceProcess, jobs: int
) -> None:
    """Until `service` has written `jobs` rows (it holds partitions and works)."""

    async def progressed() -> bool:
        return await jobs_by(world, service) >= jobs or await all_complete(world, msgs)

    await wait_for(progressed, timeout=60, interval=0.1)
    assert await jobs_by(world, service) >= jobs, "the work ran out: more or bigger files"
