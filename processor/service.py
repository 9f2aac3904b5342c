"""`aurora-processor run`: the processor as one component of the common lifecycle.

It opens its clients once (DynamoDB, S3, the complete-download HTTP pool, OpenObserve, Valkey,
the Kafka producer for dead letters and the consumer) — RDS clients per (account, region) of the
messages, as they come (processor/accounts.py) — then hands every Kafka message to the
`FileWorker` through the `PartitionedConsumer`. Readiness (`/readyz`) asks each dependency the
processor cannot work without: Kafka, DynamoDB, S3 and OpenObserve.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from typing import Any

import httpx
import structlog
from aiokafka.structs import ConsumerRecord

from common.aws import AwsClients
from common.kafka import make_consumer, make_producer, start_when_reachable
from common.log_types import LogType
from common.messages import LogFileMessage, MessageError
from common.settings import Settings
from common.tables import table_specs
from common.valkey import ValkeyGuard, valkey_client
from processor import metrics
from processor.accounts import RdsAccounts
from processor.checkpoint import CheckpointStore, new_owner_id
from processor.consumer import ConsumerOptions, PartitionedConsumer, PoisonMessage
from processor.file_worker import FileResult, FileWorker, WorkerConfig, WorkerDeps
from processor.jobs import JobsLog
from processor.sinks.openobserve import OpenObserveClient

log = structlog.get_logger(__name__)


class ProcessorService:
    """One processor process: `start`, `run` until stopped, `stop` (drains, commits, leaves)."""

    name = "processor"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.owner = new_owner_id()
        self._stack = AsyncExitStack()
        self.runner: PartitionedConsumer | None = None
        self._clients: dict[str, Any] = {}
        self._working: dict[tuple[str, str], float] = {}
        self._behind: dict[tuple[str, str], tuple[str, int]] = {}

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        s = self.settings
        aws = AwsClients(s.aws)
        stack = self._stack
        for service in ("dynamodb", "s3"):
            self._clients[service] = await stack.enter_async_context(aws.client(service))
        self._http = await stack.enter_async_context(
            httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0))
        )
        self._o2 = await stack.enter_async_context(OpenObserveClient(s.openobserve))
        redis = valkey_client(s.valkey)
        stack.push_async_callback(redis.aclose)
        self._guard = ValkeyGuard(redis)
        self.accounts = RdsAccounts(s, aws, self._guard)
        stack.push_async_callback(self.accounts.close)
        await self.accounts.open_all()
        specs = {spec.name: spec for spec in table_specs(s.tables)}
        ddb = self._clients["dynamodb"]
        self.store = CheckpointStore(
            ddb,
            specs[s.tables.tracking_table],
            self.owner,
            s.processor.processor_lease_sec,
            on_conflict=metrics.CHECKPOINT_CONFLICTS.inc,
        )
        self.jobs = JobsLog(ddb, specs[s.tables.jobs_table])
        wait = s.kafka.kafka_start_timeout_sec
        self._producer = await start_when_reachable(
            lambda: make_producer(s.kafka), "producer", wait
        )
        stack.push_async_callback(self._producer.stop)
        topics = list(s.kafka.topics().values())
        self._topics = {topic: LogType(t) for t, topic in s.kafka.topics().items()}
        consumer = await start_when_reachable(lambda: make_consumer(s.kafka), "consumer", wait)
        p = s.processor
        self.worker = FileWorker(
            WorkerConfig(
                range_bytes=p.processor_range_bytes,
                archive_range_bytes=p.processor_archive_range_bytes,
                follow_active=frozenset(p.follow_active_types),
                compression=s.s3.s3_compression,
                bucket=s.s3.s3_bucket,
                prefix=s.s3.s3_prefix,
                visibility_lag_sec=s.openobserve.openobserve_visibility_lag_sec,
                complete_download=p.processor_complete_download,
            ),
            WorkerDeps(
                store=self.store,
                jobs=self.jobs,
                sink=self._o2,
                streams=s.openobserve.streams(),
                s3=self._clients["s3"],
                rds=self.accounts,
                http=self._http,
                dead_letter=self._dead_letter_range,
            ),
        )
        self.runner = PartitionedConsumer(
            consumer,
            topics,
            self._producer,
            s.kafka.kafka_topic_dlq,
            self.handle,
            ConsumerOptions(
                max_attempts=p.processor_max_attempts,
                max_in_flight=p.processor_concurrency,
                drain_sec=max(1.0, s.observability.shutdown_timeout_sec / 2),
            ),
            on_dead_letter=self._counted_dead_letter,
        )
        log.info("processor_started", owner=self.owner, topics=topics)

    async def run(self) -> None:
        assert self.runner is not None, "start() first"
        watch = asyncio.create_task(self._watch_stuck(), name="processor-stuck-files")
        try:
            await self.runner.run()
        finally:
            watch.cancel()

    async def _watch_stuck(self) -> None:
        """`aurora_processor_files_stuck`: files held longer than a lease (a hung download, a
        sink that never answers) — the alert's input; their leases will pass to others."""
        lease = self.settings.processor.processor_lease_sec
        while True:
            await asyncio.sleep(min(30.0, lease / 3))
            now = time.monotonic()
            metrics.FILES_STUCK.set(sum(1 for t in self._working.values() if now - t > lease))

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        await self._stack.aclose()

    # ------------------------------------------------------------------ work
    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        log_type = self._topics.get(record.topic)
        try:
            msg = LogFileMessage.from_bytes(record.value)
        except MessageError as exc:
            metrics.MESSAGES.labels(str(log_type or "unknown"), "invalid").inc()
            raise PoisonMessage(str(exc)) from exc
        metrics.FILES_IN_PROGRESS.inc()
        key = (msg.resource_id, msg.generation)
        self._working[key] = time.monotonic()
        try:
            result = await self.worker.handle(msg)
        except Exception:
            metrics.MESSAGES.labels(str(msg.log_type), "error").inc()
            raise
        finally:
            metrics.FILES_IN_PROGRESS.dec()
            self._working.pop(key, None)
        self._note_behind(msg, result)
        metrics.MESSAGES.labels(str(msg.log_type), result.outcome).inc()
        if result.outcome == "lease_lost":
            metrics.LEASES_LOST.inc()

    def _note_behind(self, msg: LogFileMessage, result: FileResult) -> None:
        """`aurora_processor_bytes_behind`: what the last message of each file announced beyond
        what is shipped now (held elsewhere or lost leases say nothing, so they are skipped)."""
        if result.outcome in ("held_elsewhere", "lease_lost"):
            return
        key = (msg.resource_id, msg.generation)
        behind = max(0, msg.size - result.shipped_offset)
        if behind:
            self._behind[key] = (str(msg.log_type), behind)
        else:
            self._behind.pop(key, None)
        for log_type in LogType:
            total = sum(b for t, b in self._behind.values() if t == log_type.value)
            metrics.BYTES_BEHIND.labels(log_type.value).set(total)

    def _counted_dead_letter(self, topic: str, reason: str) -> None:
        """A message went to the DLQ (the alerts' error rate counts `dead_lettered`)."""
        invalid = reason.startswith("PoisonMessage")
        metrics.DLQ_MESSAGES.labels("invalid" if invalid else "attempts").inc()
        if not invalid:  # an invalid one was counted as `invalid` when it was read
            log_type = self._topics.get(topic)
            metrics.MESSAGES.labels(str(log_type or "unknown"), "dead_lettered").inc()

    async def _dead_letter_range(self, record: dict[str, Any]) -> None:
        """A range OpenObserve refused for good: its events go to the DLQ with the server's
        answer (the raw bytes stay in S3; `verify` re-ships them once the cause is fixed)."""
        metrics.DLQ_MESSAGES.labels("refused").inc()
        await self._producer.send_and_wait(
            self.settings.kafka.kafka_topic_dlq,
            json.dumps({**record, "failed_at": time.time()}, default=str).encode(),
            key=str(record.get("instance_id", "")).encode(),
        )

    # ------------------------------------------------------------------ readiness
    async def check_kafka(self) -> None:
        await self._producer.client.fetch_all_metadata()

    async def check_dynamodb(self) -> None:
        await self._clients["dynamodb"].describe_table(
            TableName=self.settings.tables.tracking_table
        )

    async def check_s3(self) -> None:
        await self._clients["s3"].head_bucket(Bucket=self.settings.s3.s3_bucket)

    async def check_openobserve(self) -> None:
        response = await self._http.get(f"{self.settings.openobserve.openobserve_url}/healthz")
        response.raise_for_status()
