"""Our client factories against each real local server."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition
from botocore.exceptions import ClientError

from common.aws import AwsClients
from common.kafka import make_consumer, make_producer
from common.settings import Settings
from common.valkey import valkey_client
from tests.helpers import wait_for


async def _new_topic(settings: Settings, partitions: int = 2) -> str:
    name = "t-" + uuid.uuid4().hex[:10]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def test_kafka_group_consume_with_manual_commit_resumes_after_commit(
    settings: Settings,
) -> None:
    topic = await _new_topic(settings)
    group = "g-" + uuid.uuid4().hex[:8]
    producer = make_producer(settings.kafka)
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(topic, f"m{i}".encode(), key=f"inst-{i % 3}".encode())
    finally:
        await producer.stop()

    consumer = make_consumer(settings.kafka, topic, group_id=group)
    await consumer.start()
    try:
        got: list[bytes] = []
        firsts: dict[TopicPartition, bytes] = {}

        async def drain() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for tp, msgs in batch.items():
                for m in msgs:
                    if m.offset == 0 and m.value:
                        firsts[tp] = m.value
            got.extend(m.value for msgs in batch.values() for m in msgs if m.value)
            return len(got) >= 10

        await wait_for(drain, timeout=30)
        assert sorted(got) == sorted(f"m{i}".encode() for i in range(10))
        # Commit only the first message of every partition: a new member must resume after it.
        await consumer.commit({tp: 1 for tp in firsts})
    finally:
        await consumer.stop()

    resumed = make_consumer(settings.kafka, topic, group_id=group)
    await resumed.start()
    try:
        again: list[bytes] = []

        async def drain_again() -> bool:
            batch = await resumed.getmany(timeout_ms=200)
            again.extend(m.value for msgs in batch.values() for m in msgs if m.value)
            return len(again) >= 10 - len(firsts)

        await wait_for(drain_again, timeout=30)
        positions = {tp: await resumed.committed(tp) for tp in firsts}
        assert all(p == 1 for p in positions.values()), positions
        # One message of every used partition is behind the committed offset.
        assert sorted(again) == sorted(set(got) - set(firsts.values()))
    finally:
        await resumed.stop()


async def test_kafka_keeps_order_per_key(settings: Settings) -> None:
    topic = await _new_topic(settings, partitions=4)
    producer = make_producer(settings.kafka)
    await producer.start()
    try:
        for i in range(30):
            await producer.send(topic, str(i).encode(), key=b"db-1")
        await producer.flush()
    finally:
        await producer.stop()
    consumer = make_consumer(settings.kafka, topic, group_id="g-" + uuid.uuid4().hex[:8])
    await consumer.start()
    try:
        values: list[int] = []
        partitions: set[TopicPartition] = set()

        async def drain() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for tp, msgs in batch.items():
                partitions.add(tp)
                values.extend(int(m.value or b"-1") for m in msgs)
            return len(values) >= 30

        await wait_for(drain, timeout=30)
        assert values == list(range(30))
        assert len(partitions) == 1
    finally:
        await consumer.stop()


async def test_valkey_set_with_ttl_expires(settings: Settings) -> None:
    client = valkey_client(settings.valkey)
    try:
        key = "k-" + uuid.uuid4().hex
        assert await client.set(key, b"v", px=300)
        ttl = await client.pttl(key)
        assert 0 < ttl <= 300
        assert await client.get(key) == b"v"

        async def gone() -> bool:
            return await client.exists(key) == 0

        await wait_for(gone, timeout=5)
        assert await client.set(key, b"a", nx=True, ex=60)
        assert not await client.set(key, b"b", nx=True, ex=60)
    finally:
        await client.aclose()


async def test_dynamodb_conditional_write_is_refused(settings: Settings) -> None:
    clients = AwsClients(settings.aws)
    table = settings.tables.tracking_table
    key = {"resource_id": {"S": "db-" + uuid.uuid4().hex[:6]}, "generation": {"S": "a.log"}}
    async with clients.client("dynamodb") as ddb:
        await ddb.put_item(
            TableName=table,
            Item={**key, "version": {"N": "1"}},
            ConditionExpression="attribute_not_exists(instance_id)",
        )
        with pytest.raises(ClientError) as refused:
            await ddb.put_item(
                TableName=table,
                Item={**key, "version": {"N": "2"}},
                ConditionExpression="version = :seen",
                ExpressionAttributeValues={":seen": {"N": "0"}},
            )
        assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
        item = (await ddb.get_item(TableName=table, Key=key))["Item"]
        assert item["version"] == {"N": "1"}
        ttl = await ddb.describe_time_to_live(TableName=table)
        assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


async def test_s3_multipart_put_and_get(settings: Settings) -> None:
    clients = AwsClients(settings.aws)
    bucket = settings.s3.s3_bucket
    key = "test/multipart-" + uuid.uuid4().hex
    parts = [bytes([i]) * (5 * 1024 * 1024) for i in (1, 2)] + [b"tail"]
    async with clients.client("s3") as s3:
        upload = await s3.create_multipart_upload(Bucket=bucket, Key=key)
        etags = []
        for number, body in enumerate(parts, start=1):
            part = await s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=body
            )
            etags.append({"ETag": part["ETag"], "PartNumber": number})
        await s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": etags}
        )
        got = await s3.get_object(Bucket=bucket, Key=key)
        async with got["Body"] as stream:
            data = await stream.read()
    assert data == b"".join(parts)
