"""Create what the services expect to exist: Kafka topics, DynamoDB tables (with TTL), S3 bucket.

Idempotent: what already exists is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from common.aws import AwsClients
from common.kafka_topics import ensure_topics
from common.settings import AwsSettings, KafkaSettings, S3Settings, TablesSettings
from common.tables import table_specs

log = structlog.get_logger(__name__)

TOPIC_PARTITIONS = 8


@contextmanager
def scoped_environ(env: dict[str, str]) -> Iterator[None]:
    """Settings and botocore read the process environment; point them at the stack for a while."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def provision(env: dict[str, str]) -> None:
    with scoped_environ(env):
        if "KAFKA_BROKERS" in env:
            await create_topics(KafkaSettings())
        if "AWS_ENDPOINT_URL_DYNAMODB" in env:
            clients = AwsClients(AwsSettings())
            await create_tables(clients, TablesSettings())
            await create_bucket(clients, S3Settings())


async def create_topics(settings: KafkaSettings) -> None:
    await ensure_topics(settings, TOPIC_PARTITIONS, replication_factor=1)


async def create_tables(clients: AwsClients, settings: TablesSettings) -> None:
    async with clients.client("dynamodb") as ddb:
        existing = set((await ddb.list_tables())["TableNames"])
        for spec in table_specs(settings):
            if spec.name not in existing:
                await ddb.create_table(**spec.create_kwargs())
                await ddb.get_waiter("table_exists").wait(TableName=spec.name)
            ttl = (await ddb.describe_time_to_live(TableName=spec.name))["TimeToLiveDescription"]
            if spec.ttl_attribute and ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                await ddb.update_time_to_live(
                    TableName=spec.name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
                )
        log.info("tables_ready", tables=[s.name for s in table_specs(settings)])


async def create_bucket(clients: AwsClients, settings: S3Settings) -> None:
    async with clients.client("s3") as s3:
        buckets = {b["Name"] for b in (await s3.list_buckets()).get("Buckets", [])}
        if settings.s3_bucket not in buckets:
            await s3.create_bucket(Bucket=settings.s3_bucket)
        log.info("bucket_ready", bucket=settings.s3_bucket)
