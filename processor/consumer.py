"""The consumer loop: messages of a partition in order, partitions concurrently, manual commits.

Why it is built this way (docs/design.md §3, §5):

* **One worker per partition.** An instance's files live on one partition (key = instance), and
  its messages must be handled in order; different partitions have nothing to wait for, so each
  assigned partition gets a task of its own, and `max_in_flight` bounds how many handle a message
  at once (downloads are heavy).
* **Commit after the work, never before.** A partition's offset is committed only past messages
  whose handler returned or that went to the dead-letter topic. A crash re-delivers the rest —
  harmless, because a message is a hint and the DynamoDB checkpoint is the truth.
* **Nothing stops a partition for good.** A handler error with `retriable = False` (a poison
  message, a permanent refusal) is dead-lettered at once; any other error is retried with
  jittered backoff, and dead-lettered after `max_attempts`. Either way the partition moves on.
* **Backpressure.** A partition whose queue grows past `queue_limit` is paused at the fetcher and
  resumed when its worker catches up, so a slow file never makes the process buffer a topic.
* **Rebalances and stops.** Revoked partitions' workers are cancelled (their handler must be
  cancellation-safe: the checkpoint protocol is) and what they finished is committed before the
  group moves on. `stop()` stops fetching, lets the current messages finish for up to
  `drain_sec`, cancels the rest, commits, and leaves the group.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord, TopicPartition

from processor import metrics

log = structlog.get_logger(__name__)

Handler = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]]


class PoisonMessage(ValueError):
    """The message itself is wrong (not a `LogFileMessage`): dead-letter it, never retry."""

    retriable = False


@dataclass
class ConsumerOptions:
    max_attempts: int = 5
    backoff_base_sec: float = 0.5
    backoff_max_sec: float = 30.0
    max_in_flight: int = 8
    queue_limit: int = 100
    commit_interval_sec: float = 1.0
    drain_sec: float = 10.0
    poll_timeout_ms: int = 200


@dataclass
class ConsumerStats:
    handled: int = 0
    retried: int = 0
    dead_lettered: int = 0
    commits: int = 0
    revoked: int = 0
    last_error: str = ""
    in_flight: set[TopicPartition] = field(default_factory=set)


def is_retriable(exc: BaseException) -> bool:
    """Errors say whether retrying can help (`retriable`); an error that does not say is
    taken as transient: it is retried, and dead-lettered only after the last attempt."""
    return bool(getattr(exc, "retriable", True))


def dead_letter(record: ConsumerRecord[bytes, bytes], reason: str, attempts: int) -> bytes:
    """The DLQ payload: where the message came from, why it failed, and the message itself."""
    value = record.value or b""
    try:
        shown: Any = json.loads(value)
    except ValueError:
        shown = {"base64": base64.b64encode(value).decode()}
    return json.dumps(
        {
            "reason": reason,
            "attempts": attempts,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key": (record.key or b"").decode("utf-8", "replace"),
            "failed_at": time.time(),
            "message": shown,
        }
    ).encode()


class _Partition:
    def __init__(self, tp: TopicPartition) -> None:
        self.tp = tp
        self.queue: asyncio.Queue[ConsumerRecord[bytes, bytes]] = asyncio.Queue()
        self.done: int | None = None  # next offset to commit
        self.committed: int | None = None
        self.paused = False
        self.busy = False  # a handler is running: a stop waits for it (up to drain_sec)
        self.task: asyncio.Task[None] | None = None


class PartitionedConsumer:
    """Runs `handler` over every message of `consumer`'s topics; see the module docstring."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        topics: list[str],
        producer: AIOKafkaProducer,
        dlq_topic: str,
        handler: Handler,
        options: ConsumerOptions | None = None,
        on_dead_letter: Callable[[str, str], None] | None = None,
    ) -> None:
        self._consumer = consumer
        self._topics = topics
        self._producer = producer
        self._dlq = dlq_topic
        self._handler = handler
        self.options = options or ConsumerOptions()
        self._on_dead_letter = on_dead_letter or (lambda topic, reason: None)
        self._parts: dict[TopicPartition, _Partition] = {}
        self._slots = asyncio.Semaphore(self.options.max_in_flight)
        self._fetching = True
        self.stats = ConsumerStats()
        self.lag: dict[str, int] = {}

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Fetch and dispatch until cancelled or `stop()`; commits as work completes."""
        self._consumer.subscribe(self._topics, listener=_Listener(self))
        committer = asyncio.create_task(self._commit_loop(), name="consumer-commits")
        try:
            while self._fetching:
                batch = await self._consumer.getmany(timeout_ms=self.options.poll_timeout_ms)
                for tp, records in batch.items():
                    part = self._partition(tp)
                    for record in records:
                        part.queue.put_nowait(record)
                    if part.queue.qsize() >= self.options.queue_limit and not part.paused:
                        self._consumer.pause(tp)
                        part.paused = True
        finally:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer

    async def stop(self) -> None:
        """Stop fetching, let current messages finish within `drain_sec`, commit, leave."""
        self._fetching = False
        busy = [p.task for p in self._parts.values() if p.busy and p.task is not None]
        if busy:
            await asyncio.wait(busy, timeout=self.options.drain_sec)
        await self._drop(list(self._parts))
        await self._consumer.stop()

    # ------------------------------------------------------------------ workers
    def _partition(self, tp: TopicPartition) -> _Partition:
        part = self._parts.get(tp)
        if part is None:
            part = self._parts[tp] = _Partition(tp)
            part.task = asyncio.create_task(self._work(part), name=f"partition-{tp}")
        return part

    async def _work(self, part: _Partition) -> None:
        while self._fetching:  # stopping: the rest stays uncommitted and is re-delivered
            record = await part.queue.get()
            if not self._fetching:
                return
            async with self._slots:
                part.busy = True
                self.stats.in_flight.add(part.tp)
                try:
                    await self._handle(record)
                finally:
                    part.busy = False
                    self.stats.in_flight.discard(part.tp)
            part.done = record.offset + 1
            if part.paused and part.queue.qsize() < self.options.queue_limit // 2:
                self._consumer.resume(part.tp)
                part.paused = False

    async def _handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._handler(record)
                self.stats.handled += 1
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                self.stats.last_error = reason
                final = not is_retriable(exc) or attempt >= self.options.max_attempts
                log.warning(
                    "message_failed",
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=(record.key or b"").decode("utf-8", "replace"),
                    attempt=attempt,
                    final=final,
                    error=reason,
                    exc_info=not isinstance(exc, PoisonMessage),
                )
                if final:
                    await self._dead_letter(record, reason, attempt)
                    return
                self.stats.retried += 1
                metrics.RETRIES.labels("message").inc()
                delay = min(
                    self.options.backoff_max_sec, self.options.backoff_base_sec * 2 ** (attempt - 1)
                )
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, attempts: int
    ) -> None:
        await self._producer.send_and_wait(
            self._dlq, dead_letter(record, reason, attempts), key=record.key
        )
        self.stats.dead_lettered += 1
        self._on_dead_letter(record.topic, reason)

    # ------------------------------------------------------------------ commits and rebalances
    async def _commit_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.commit_interval_sec)
            await self._commit(list(self._parts))
            self.lag = self._lag()

    def _lag(self) -> dict[str, int]:
        """Messages between what this member finished and each assigned partition's end, per
        topic (`aurora_processor_consumer_lag`; the group's lag is the sum over members)."""
        lag: dict[str, int] = {}
        for tp in self._consumer.assignment():
            end = self._consumer.highwater(tp)
            if end is None:
                continue
            part = self._parts.get(tp)
            done = part.done if part is not None and part.done is not None else None
            behind = end - done if done is not None else part.queue.qsize() if part else 0
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, behind)
        for topic in self._topics:
            metrics.CONSUMER_LAG.labels(topic).set(lag.get(topic, 0))
        return lag

    async def _commit(self, tps: list[TopicPartition]) -> None:
        offsets = {}
        for tp in tps:
            part = self._parts.get(tp)
            if part is not None and part.done is not None and part.done != part.committed:
                offsets[tp] = part.done
        if not offsets:
            return
        await self._consumer.commit(offsets)
        self.stats.commits += 1
        for tp, offset in offsets.items():
            self._parts[tp].committed = offset

    async def _drop(self, tps: list[TopicPartition]) -> None:
        """Cancel the workers of `tps`, commit what they finished, forget them."""
        tasks = [t for tp in tps if (t := self._parts[tp].task) is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._commit(tps)
        for tp in tps:
            self._parts.pop(tp, None)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: PartitionedConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        mine = [tp for tp in revoked if tp in self._owner._parts]
        self._owner.stats.revoked += len(mine)
        if mine:
            log.info("partitions_revoked", partitions=sorted(str(tp) for tp in mine))
            await self._owner._drop(mine)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions_assigned", partitions=sorted(str(tp) for tp in assigned))
