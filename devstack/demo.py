"""`make demo`: the main job on the local stack, then a report of what flowed.

Brings the stack up, says where each part listens, checks each server with a real round trip,
runs whatever pipeline stages this checkout has, and stops everything at the end (or on Ctrl-C).
`DEMO_KEEP=1` leaves the stack running for exploration; `aurora-devstack down` stops it later.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import uuid

from common.aws import AwsClients
from common.kafka import make_consumer, make_producer
from common.logging import configure_logging
from common.settings import load_settings
from common.valkey import valkey_client
from devstack.preview import run_preview
from devstack.provision import scoped_environ
from devstack.stack import HOST, Stack

PIPELINE_MODULES = {
    "discovery service": "discovery.service",
    "processor service": "processor.service",
}


async def smoke(env: dict[str, str]) -> list[str]:
    """One real round trip through Kafka, Valkey, DynamoDB and S3; a line per check."""
    lines: list[str] = []
    with scoped_environ(env):
        settings = load_settings()
        topic = settings.kafka.kafka_topic_dlq
        producer = make_producer(settings.kafka)
        await producer.start()
        try:
            marker = uuid.uuid4().hex.encode()
            await producer.send_and_wait(topic, marker, key=b"demo")
        finally:
            await producer.stop()
        consumer = make_consumer(settings.kafka, topic, group_id=None)
        await consumer.start()
        try:
            seen = False
            while not seen:
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=500), 30)
                seen = any(m.value == marker for msgs in batch.values() for m in msgs)
        finally:
            await consumer.stop()
        lines.append(f"kafka        produced and consumed a message on {topic}")
        valkey = valkey_client(settings.valkey)
        try:
            await valkey.set("demo:ping", b"1", ex=10)
            lines.append(f"valkey       SET/GET ok ({await valkey.get('demo:ping')!r})")
        finally:
            await valkey.aclose()
        clients = AwsClients(settings.aws)
        async with clients.client("dynamodb") as ddb:
            tables = (await ddb.list_tables())["TableNames"]
        lines.append(f"dynamodb     tables: {', '.join(sorted(tables))}")
        async with clients.client("s3") as s3:
            await s3.put_object(Bucket=settings.s3.s3_bucket, Key="demo/hello", Body=b"hello")
        lines.append(f"s3           wrote s3://{settings.s3.s3_bucket}/demo/hello")
    return lines


def main() -> int:
    configure_logging("WARNING", "console")
    stack = Stack()
    keep = os.environ.get("DEMO_KEEP") == "1"
    try:
        state = stack.up()
        print("Local stack is up:")
        for name, server in state.servers.items():
            print(f"  {name:12} {HOST}:{server.port}  (log {server.log})")
        for line in asyncio.run(smoke(stack.env(state))):
            print("  ok  " + line)
        if {"rds", "openobserve"} <= set(state.servers):
            print("Pulling the logs of a few emulated instances (RDS -> S3 + OpenObserve):")
            with scoped_environ(stack.env(state)):
                report = asyncio.run(run_preview(load_settings()))
            for line in report.lines():
                print("  " + line)
        missing = list(stack.missing())
        missing += [n for n, m in PIPELINE_MODULES.items() if importlib.util.find_spec(m) is None]
        if missing:
            print("Not in this checkout yet: " + ", ".join(missing))
        else:
            print(
                "That was one pass of the parts, without checkpoints. The two services are built "
                "(aurora-discovery, aurora-processor: see the README); running them here, with "
                "live progress and a report, is the next step of the demo."
            )
        return 0
    except KeyboardInterrupt:
        print("interrupted")
        return 130
    finally:
        if keep:
            print("DEMO_KEEP=1: the stack keeps running; `aurora-devstack down` stops it.")
        else:
            stack.down()
            print("Stack stopped; nothing left running.")


if __name__ == "__main__":
    sys.exit(main())
