"""Real `aurora-processor run` processes for the crash and rebalance tests, and their judges.

Each test gets a consumer group and topics of its own: the session's topics hold every other
test's messages, which a new group would otherwise read from the start (`earliest`) and process
again. The judges are the ones DESIGN §5 promises: the `jobs` ledger never shows one byte of a
file generation processed twice per sink, every rotated file ends `complete`, S3 holds it byte
for byte as the emulator's ground truth, and OpenObserve each of its events exactly once.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from common.kafka import make_producer
from common.kafka_topics import ensure_topics
from common.log_types import LogType
from common.messages import LogFileMessage
from common.settings import KafkaSettings
from devstack.services import ServiceProcess, Services
from processor.checkpoint import Checkpoint, FileKey
from processor.checkpoint.codec import from_item
from processor.jobs import Job, JobsLog
from tests.processor.conftest import World, archived, expected_ids, small_rotated_files

PARTITIONS = 4  # per private topic: enough for two processors to split them


@dataclass
class Fleet:
    """Processors of one private consumer group over private topics, on the session's stack."""

    world: World
    kafka: KafkaSettings
    services: Services

    async def publish(self, msgs: Sequence[LogFileMessage]) -> None:
        producer = make_producer(self.kafka)
        await producer.start()
        try:
            topics = self.kafka.topics()
            for msg in msgs:
                await producer.send_and_wait(topics[str(msg.log_type)], msg.to_bytes(), key=msg.key)
        finally:
            await producer.stop()


async def private_fleet(
    world: World, stack_env: dict[str, str], log_dir: Path, **overrides: str
) -> Fleet:
    """Topics and a consumer group named for this test, and `Services` to run processors on
    them with the world's tables and S3 prefix (`overrides`: more settings, by env name)."""
    suffix = uuid.uuid4().hex[:8]
    topics = {f"kafka_topic_{t.value}": f"t-{suffix}-{t.value}" for t in LogType}
    kafka = world.settings.kafka.model_copy(update={**topics, "kafka_topic_dlq": f"t-{suffix}-dlq"})
    await ensure_topics(kafka, PARTITIONS, replication_factor=1)
    env = {
        **stack_env,
        **{name.upper(): value for name, value in topics.items()},
        "KAFKA_TOPIC_DLQ": kafka.kafka_topic_dlq,
        "KAFKA_CONSUMER_GROUP": f"g-{suffix}",
        # A dead member is noticed within 2 s, so a kill costs seconds, not the default 45.
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
        "KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "TRACKING_TABLE": world.tracking.name,
        "JOBS_TABLE": world.jobs.name,
        "S3_PREFIX": world.prefix,
        # Small ranges: many checkpoints per file, so a kill lands between two of them.
        "PROCESSOR_RANGE_BYTES": "4096",
        "PROCESSOR_ARCHIVE_RANGE_BYTES": str(5 * 1024 * 1024),  # the least allowed
        "PROCESSOR_LEASE_SEC": "2",
        "LOG_LEVEL": "INFO",
        "SHUTDOWN_TIMEOUT_SEC": "10",
        "OPENOBSERVE_VISIBILITY_LAG_SEC": "1",
        **overrides,
    }
    return Fleet(world, kafka, Services(env, log_dir))


async def fleet_files(world: World) -> list[LogFileMessage]:
    """The rotated files the crash and rebalance tests share: 36 small ones (up to 256 KiB) of
    three log types on two engines, from as many instances as it takes."""
    found = await small_rotated_files(world, "aurora-mysql", ("slowquery", "error"), 28)
    found += await small_rotated_files(world, "aurora-postgresql", ("postgresql",), 8)
    assert len(found) >= 32, [m.log_file_name for m in found]
    return found


async def checkpoints(world: World, msgs: Sequence[LogFileMessage]) -> list[Checkpoint]:
    """The rows of `msgs`' files, in one Scan (the tests poll this while processors share
    the DynamoDB server with them)."""
    rows = {}
    pages = world.ddb.get_paginator("scan").paginate(TableName=world.tracking.name)
    async for page in pages:
        for item in page.get("Items", []):
            key = FileKey(item["resource_id"]["S"], item["generation"]["S"])
            rows[key] = from_item(key, item)
    keys = [FileKey(m.resource_id, m.generation) for m in msgs]
    return [rows.get(key) or Checkpoint.empty(key) for key in keys]


async def all_complete(world: World, msgs: Sequence[LogFileMessage]) -> bool:
    """Every rotated file of `msgs` is `complete`, every active one caught up and let go."""
    rows = await checkpoints(world, msgs)
    return all(
        (r.status == "complete" if m.rotated else r.shipped_offset > 0 and r.lease_owner is None)
        and r.pending is None
        for m, r in zip(msgs, rows, strict=True)
    )


async def jobs_by(world: World, service: ServiceProcess) -> int:
    """The `jobs` rows written by one processor process (its owner id holds its pid)."""
    return sum(1 for j in await job_rows(world) if j.owner.split(":")[1] == str(service.pid))


async def job_rows(world: World) -> list[Job]:
    return await JobsLog(world.ddb, world.jobs).recent(0)


async def jobs_count(world: World) -> int:
    answer = await world.ddb.scan(TableName=world.jobs.name, Select="COUNT")
    return int(answer["Count"])


def overlapping(jobs: Sequence[Job]) -> list[tuple[Job, Job]]:
    """Pairs of rows of one file generation and sink whose byte ranges share a byte: a range
    processed twice. Rows that did no work (failed, lease lost) are left out, and so is a row
    repeated by design: a job is recorded before its checkpoint, so a process killed between
    the two has its range recorded again by the next owner — the same batch (which sends only
    what OpenObserve lacks) or the same archive object (a deterministic key, overwritten)."""
    by_file: dict[tuple[str, str, str], dict[tuple[int, int, str], Job]] = defaultdict(dict)
    for job in jobs:
        if job.outcome in ("ok", "recovered") and job.end > job.start:
            same = job.batch_id if job.sink == "openobserve" else job.s3_key
            by_file[(job.resource_id, job.generation, job.sink)][(job.start, job.end, same)] = job
    pairs = []
    for once in by_file.values():
        rows = list(once.values())
        rows.sort(key=lambda j: (j.start, j.end))
        pairs += [(a, b) for a, b in itertools.pairwise(rows) if b.start < a.end]
    return pairs


async def assert_exactly_once(world: World, msgs: Sequence[LogFileMessage], seed: int) -> None:
    """Every rotated file of `msgs` is in S3 byte for byte and in OpenObserve once per event;
    an active one has each event of the bytes shipped so far once."""
    rows = {(r.key.resource_id, r.key.generation): r for r in await checkpoints(world, msgs)}
    copies_of: dict[str, dict[str, int]] = {}
    for msg in msgs:
        stream = world.settings.openobserve.streams()[str(msg.log_type)]
        if stream not in copies_of:
            copies_of[stream] = world.o2_copies(stream)
        truth = world.truth(msg.instance_id, msg.log_file_name)
        if msg.rotated:
            assert await archived(world, msg) == truth, f"{msg.log_file_name} (seed {seed})"
        else:
            truth = truth[: rows[(msg.resource_id, msg.generation)].shipped_offset]
        copies = copies_of[stream]
        expected = expected_ids(msg, truth)
        duplicated = [e for e in expected if copies.get(e, 0) > 1]
        lost = [e for e in expected if copies.get(e, 0) == 0]
        assert (duplicated, lost) == ([], []), f"{msg.log_file_name} (seed {seed})"
