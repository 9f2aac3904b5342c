"""Publishing LogFileMessages: awaited, acks=all, in the order given (files closest to expiry
first). A message counts as announced only once Kafka acknowledged it; a failure stops the rest
of the batch (a Kafka outage), so nothing is marked announced that was not acknowledged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from common.messages import LogFileMessage
from discovery.metrics import KAFKA_PUBLISH_FAILURES

log = structlog.get_logger(__name__)
T = TypeVar("T")
CHUNK = 100
RECORD_CONCURRENCY = 16


class Publisher:
    def __init__(self, producer: AIOKafkaProducer, topics: dict[str, str]) -> None:
        self._producer = producer
        self._topics = topics
        for topic in topics.values():  # from zero, so that the first failure is an increase
            KAFKA_PUBLISH_FAILURES.labels(topic)

    async def publish(
        self,
        items: Sequence[T],
        message_of: Callable[[T], LogFileMessage],
        acknowledged: Callable[[T], Awaitable[None]],
    ) -> tuple[int, int]:
        """Send `items` in order; call `acknowledged(item)` after each ack. (acked, failed)."""
        acked = 0
        sem = asyncio.Semaphore(RECORD_CONCURRENCY)

        async def record(item: T) -> None:
            async with sem:
                await acknowledged(item)

        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            sent: list[tuple[T, str, asyncio.Future[object]]] = []
            failed = 0
            for item in chunk:
                msg = message_of(item)
                topic = self._topics[msg.log_type.value]
                try:
                    fut = await self._producer.send(topic, msg.to_bytes(), key=msg.key)
                except KafkaError as exc:
                    KAFKA_PUBLISH_FAILURES.labels(topic).inc()
                    log.error("kafka_publish_failed", topic=topic, error=repr(exc))
                    failed = len(items) - start - len(sent)
                    break
                sent.append((item, topic, fut))
            done: list[T] = []
            for item, topic, fut in sent:
                try:
                    await fut
                except KafkaError as exc:
                    KAFKA_PUBLISH_FAILURES.labels(topic).inc()
                    log.error("kafka_publish_failed", topic=topic, error=repr(exc))
                    failed += 1
                    continue
                done.append(item)
            await asyncio.gather(*(record(i) for i in done))
            acked += len(done)
            if failed:
                return acked, len(items) - acked
        return acked, 0
