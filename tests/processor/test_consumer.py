"""The partitioned consumer on tansu: order per key, retries, dead letters, commits, stop."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord

from common.kafka import make_consumer, make_producer
from common.settings import Settings
from processor.consumer import ConsumerOptions, PartitionedConsumer, PoisonMessage
from tests.helpers import wait_for

Record = ConsumerRecord[bytes, bytes]


class Transient(RuntimeError):
    retriable = True


async def _topics(settings: Settings, partitions: int = 4) -> tuple[str, str]:
    name = "t-" + uuid.uuid4().hex[:8]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1), NewTopic(name + "-dlq", 1, 1)])
    finally:
        await admin.close()
    return name, name + "-dlq"


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[object]:
    p = make_producer(settings.kafka)
    await p.start()
    yield p
    await p.stop()


async def _dlq(settings: Settings, topic: str, expected: int) -> list[dict[str, object]]:
    reader = make_consumer(settings.kafka, topic, group_id=None)
    await reader.start()
    got: list[dict[str, object]] = []
    try:

        async def drain() -> bool:
            batch = await reader.getmany(timeout_ms=200)
            got.extend(json.loads(m.value) for ms in batch.values() for m in ms)
            return len(got) >= expected

        await wait_for(drain, timeout=20)
    finally:
        await reader.stop()
    return got


async def test_order_per_key_retries_and_dead_letters(settings: Settings, producer: object) -> None:
    topic, dlq = await _topics(settings)
    group = "g-" + uuid.uuid4().hex[:8]
    for i in range(40):
        key = f"inst-{i % 8}"
        value = b"not json" if i == 13 else json.dumps({"seq": i, "key": key}).encode()
        await producer.send_and_wait(topic, value, key=key.encode())  # type: ignore[attr-defined]

    seen: dict[str, list[int]] = defaultdict(list)
    failures: dict[int, int] = defaultdict(int)

    async def handle(record: Record) -> None:
        try:
            body = json.loads(record.value)
        except ValueError as exc:
            raise PoisonMessage(f"not a message: {exc}") from exc
        if body["seq"] % 10 == 3 and failures[body["seq"]] < 2:
            failures[body["seq"]] += 1
            raise Transient("OpenObserve said 503")
        if body["seq"] == 27:
            raise Transient("keeps failing")
        seen[body["key"]].append(body["seq"])

    options = ConsumerOptions(max_attempts=3, backoff_base_sec=0.01, commit_interval_sec=0.1)
    consumer = make_consumer(settings.kafka, group_id=group)
    runner = PartitionedConsumer(consumer, [topic], producer, dlq, handle, options)  # type: ignore[arg-type]
    await consumer.start()
    task = asyncio.create_task(runner.run())
    try:
        await wait_for(lambda: _async(runner.stats.handled + runner.stats.dead_lettered >= 40), 60)
        await wait_for(lambda: _async(_all_committed(runner)), 20)
    finally:
        await runner.stop()
        task.cancel()
    for key, seqs in seen.items():
        assert seqs == sorted(seqs), f"{key} out of order: {seqs}"
    handled = sorted(s for seqs in seen.values() for s in seqs)
    assert handled == [i for i in range(40) if i not in (13, 27)]
    assert runner.stats.retried == 2 * 3 + 2  # 3, 23, 33 twice each (13 is poison); 27 twice
    letters = await _dlq(settings, dlq, 2)
    by_offset = {(d["partition"], d["offset"]): d for d in letters}
    assert len(by_offset) == 2
    reasons = sorted(str(d["reason"]) for d in letters)
    assert reasons[0].startswith("PoisonMessage") and reasons[1] == "Transient: keeps failing"
    assert sorted(int(d["attempts"]) for d in letters) == [1, 3]  # type: ignore[call-overload]


async def _async(value: bool) -> bool:
    return value


def _all_committed(runner: PartitionedConsumer) -> bool:
    parts = runner._parts.values()
    return bool(parts) and all(p.done is not None and p.committed == p.done for p in parts)


async def test_stop_waits_for_the_running_message_and_leaves_the_rest_for_the_next_owner(
    settings: Settings, producer: object
) -> None:
    topic, dlq = await _topics(settings, partitions=1)
    group = "g-" + uuid.uuid4().hex[:8]
    for i in range(5):
        await producer.send_and_wait(topic, str(i).encode(), key=b"k")  # type: ignore[attr-defined]
    started = asyncio.Event()
    release = asyncio.Event()
    handled: list[int] = []

    async def slow(record: Record) -> None:
        if int(record.value) == 1:
            started.set()
            await release.wait()
        handled.append(int(record.value))

    consumer = make_consumer(settings.kafka, group_id=group)
    runner = PartitionedConsumer(
        consumer,
        [topic],
        producer,
        dlq,
        slow,
        ConsumerOptions(drain_sec=10),  # type: ignore[arg-type]
    )
    await consumer.start()
    task = asyncio.create_task(runner.run())
    await asyncio.wait_for(started.wait(), 30)
    stopping = asyncio.create_task(runner.stop())
    await wait_for(lambda: _async(not runner._fetching), 5)
    release.set()  # the running message finishes inside the drain window
    await asyncio.wait_for(stopping, 15)
    task.cancel()
    assert handled == [0, 1]

    again: list[int] = []

    async def record_all(record: Record) -> None:
        again.append(int(record.value))

    consumer = make_consumer(settings.kafka, group_id=group)
    second = PartitionedConsumer(consumer, [topic], producer, dlq, record_all)  # type: ignore[arg-type]
    await consumer.start()
    task = asyncio.create_task(second.run())
    try:
        await wait_for(lambda: _async(len(again) >= 3), 30)
    finally:
        await second.stop()
        task.cancel()
    assert again == [2, 3, 4]
