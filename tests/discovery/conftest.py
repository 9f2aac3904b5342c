"""Discovery against the real local stack: the session's Kafka, Valkey and moto, plus an RDS
emulator of each test's own (fleet size, clock, throttling as the test needs). Every test gets
tables, topics and a Valkey key prefix of its own, so tests do not see each other's state."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.structs import TopicPartition
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from common.aws import AwsClients
from common.kafka import make_consumer
from common.log_files import generation_of, log_type_of
from common.settings import KafkaSettings, Settings, TablesSettings, load_settings
from common.valkey import ValkeyGuard
from devstack.procs import free_port, spawn, start_http_server, stop_group, wait_tcp
from devstack.provision import create_tables, create_topics
from devstack.stack import KINDS
from discovery.service import DiscoveryService

HOST = "127.0.0.1"
START = "2026-11-23T10:30:00Z"


def dead_guard() -> ValkeyGuard:
    """A guard on a port nothing listens on: Valkey down."""
    return ValkeyGuard(Redis(host=HOST, port=free_port(), socket_connect_timeout=0.2))


def start_own(kind_name: str, port: int, root: Path) -> int:
    """A server of the stack's kind (valkey, kafka) of the test's own, to stop and restart."""
    kind = next(k for k in KINDS if k.name == kind_name)
    root.mkdir(parents=True, exist_ok=True)
    proc = spawn(kind.argv(port, root), root / f"{kind_name}.log")
    wait_tcp(HOST, port, 30, kind_name, root / f"{kind_name}.log")
    return proc.pid


def metric_total(name: str) -> float:
    """The sum of a labelled counter over all its labels (e.g. `aurora_rds_throttles_total`)."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        for sample in metric.samples
        if sample.name == name
    )


@dataclass
class Emulator:
    url: str
    pid: int
    log: Path

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = httpx.request(method, f"{self.url}/_admin/{path}", json=body, timeout=120)
        resp.raise_for_status()
        return resp.json()

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "stats")
        return result

    def reset_stats(self) -> None:
        self.admin("POST", "stats/reset")


def start_emulator(root: Path, *extra: str) -> Emulator:
    """A private RDS emulator. The happy profile: these tests hold announcements against the
    ground truth, and the realistic profile lists some sizes wrongly on purpose (+241 bytes),
    which discovery must announce as listed (the processor's tests run the realistic one)."""
    port = free_port(HOST)
    log = root / "rds.log"
    argv = [
        sys.executable, "-m", "devstack.rds", "--host", HOST, "--port", str(port),
        "--data-dir", str(root / "data"), "--instances", "30", "--seed", "11",
        "--clock-speed", "0", "--start-time", START, "--history-hours", "1",
        "--rate-scale", "0.02", "--log-level", "WARNING", "--profile", "happy", *extra,
    ]  # fmt: skip
    url = f"http://{HOST}:{port}"
    proc = start_http_server(argv, log, f"{url}/_admin/healthz", "rds emulator", timeout=60)
    return Emulator(url, proc.pid, log)


@pytest.fixture
def emulators(tmp_path: Path) -> Iterator[Callable[..., Emulator]]:
    """`emulators(*args)` starts an emulator for this test; all are stopped at its end."""
    started: list[Emulator] = []

    def start(*extra: str) -> Emulator:
        root = tmp_path / f"rds{len(started)}"
        root.mkdir()
        emu = start_emulator(root, *extra)
        started.append(emu)
        return emu

    try:
        yield start
    finally:
        for emu in started:
            stop_group(emu.pid)


@dataclass
class World:
    """One test's isolated names on the shared stack, and the settings that use them."""

    overrides: dict[str, Any]
    env: dict[str, str]
    topics: dict[str, str]
    rds_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def settings(self, **more: Any) -> Settings:
        return load_settings(**{**self.overrides, **more})

    def subprocess_env(self, **more: str) -> dict[str, str]:
        env = dict(self.env)
        env["AWS_ENDPOINT_URL_RDS"] = self.rds_url
        env.update(more)
        return env


@pytest.fixture
async def world(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> World:
    return await new_world(stack_env)


async def new_world(stack_env: dict[str, str]) -> World:
    """Tables, topics and a key prefix of their own on the shared stack (a second world lets a
    test run two discoveries side by side)."""
    tag = uuid.uuid4().hex[:8]
    overrides: dict[str, Any] = {
        "instance_table": f"meta-{tag}",
        "tracking_table": f"trk-{tag}",
        "jobs_table": f"jobs-{tag}",
        "valkey_key_prefix": f"t{tag}:",
        "metrics_port": 0,
        "metrics_host": HOST,
        "kafka_session_timeout_ms": 1000,
        "kafka_heartbeat_interval_ms": 200,
    }
    topics = {}
    for log_type in KafkaSettings().topics():
        topics[log_type] = f"{log_type}-{tag}"
        overrides[f"kafka_topic_{log_type}"] = topics[log_type]
    kafka = KafkaSettings(**{k: v for k, v in overrides.items() if k.startswith("kafka_")})
    await create_topics(kafka)
    settings = load_settings(**overrides)
    await create_tables(AwsClients(settings.aws), TablesSettings(**{
        k: overrides[k] for k in ("instance_table", "tracking_table", "jobs_table")
    }))  # fmt: skip
    env = dict(stack_env)
    for key, value in overrides.items():
        env[key.upper()] = str(value)
    return World(overrides, env, topics)


def use_rds(world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    world.rds_url = emu.url
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", emu.url)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[DiscoveryService]:
    service = DiscoveryService(settings)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def read_messages(settings: Settings) -> list[dict[str, Any]]:
    """Every message of the test's topics, from the beginning to the current end."""
    topics = list(settings.kafka.topics().values())
    consumer = make_consumer(settings.kafka, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [
            TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())
        ]
        if not parts:
            for t in topics:
                await consumer._client.force_metadata_update()
                parts += [TopicPartition(t, p) for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        out: list[dict[str, Any]] = []
        remaining = {tp for tp in parts if end[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, msgs in batch.items():
                out += [json.loads(m.value) for m in msgs if m.value is not None]
                if msgs and msgs[-1].offset + 1 >= end[tp]:
                    remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


def expected_files(
    emu: Emulator, instances: list[str], engines: dict[str, str]
) -> set[tuple[str, str]]:
    """(instance id, generation) of every listed, followed file with bytes, from ground truth."""
    out = set()
    for iid in instances:
        for f in emu.admin("GET", f"ground-truth/{iid}")["files"]:
            if f["state"] == "expired" or f["size"] == 0:
                continue
            name = f["listed_name"]
            if log_type_of(engines[iid], name) is None:
                continue
            out.add((iid, generation_of(name, int(f["last_written"]), int(f["size"])).key))
    return out


async def followed(emu: Emulator) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Instances discovery should follow (available, not opted out), their engines and
    resource ids, read through a plain client (its calls are the test's, not discovery's)."""
    from aiobotocore.session import get_session

    async with get_session().create_client(
        "rds", region_name="us-east-1", endpoint_url=emu.url,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ) as rds:  # fmt: skip
        items: list[dict[str, Any]] = []
        async for page in rds.get_paginator("describe_db_instances").paginate():
            items += page["DBInstances"]
    out = [
        i for i in items
        if i["DBInstanceStatus"] == "available"
        and {t["Key"]: t["Value"] for t in i["TagList"]}.get("log-shipping") != "disabled"
    ]  # fmt: skip
    return (
        sorted(i["DBInstanceIdentifier"] for i in out),
        {i["DBInstanceIdentifier"]: i["Engine"] for i in out},
        {i["DBInstanceIdentifier"]: i["DbiResourceId"] for i in out},
    )
