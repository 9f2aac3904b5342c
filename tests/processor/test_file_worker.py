"""The per-file flow on the real local world: the RDS emulator (realistic quirks), moto's S3 and
DynamoDB, the OpenObserve emulator. The judges are the emulators' ground truths: S3 holds each
rotated file byte for byte, OpenObserve each of its events exactly once — also after a crash
between sending a range and checkpointing it."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from common.aws import AwsClients, endpoint_for
from common.log_files import generation_of, log_type_of
from common.log_types import LogType
from common.messages import LogFileMessage
from common.settings import Settings, load_settings
from common.tables import TableSpec
from processor.checkpoint import CheckpointStore, FileKey
from processor.documents import event_id
from processor.file_worker import FileWorker, WorkerConfig, WorkerDeps
from processor.jobs import JobsLog
from processor.parsers import parser_for
from processor.sinks.openobserve import OpenObserveClient, ShipResult
from processor.sinks.s3_archive import read_archived_file
from processor.sinks.s3_keys import archive_key
from processor.verify import verify

ACCOUNT = "123456789012"


@dataclass
class World:
    settings: Settings
    ddb: Any
    s3: Any
    rds: Any
    http: httpx.AsyncClient
    o2: OpenObserveClient
    tracking: TableSpec
    jobs: TableSpec
    prefix: str
    letters: list[dict[str, Any]]

    def worker(self, owner: str, sink: Any = None, lease_sec: float = 60) -> FileWorker:
        s = self.settings
        store = CheckpointStore(self.ddb, self.tracking, owner, lease_sec)

        async def dead_letter(record: dict[str, Any]) -> None:
            self.letters.append(record)

        return FileWorker(
            WorkerConfig(
                range_bytes=64 * 1024,
                archive_range_bytes=5 * 1024 * 1024,
                follow_active=frozenset({"error", "slowquery", "postgresql"}),
                compression="zst",
                bucket=s.s3.s3_bucket,
                prefix=self.prefix,
                account=ACCOUNT,
                region=s.aws.aws_region,
                rds_endpoint=endpoint_for("rds") or "",
            ),
            WorkerDeps(
                store=store,
                jobs=JobsLog(self.ddb, self.jobs),
                sink=sink or self.o2,
                streams=s.openobserve.streams(),
                s3=self.s3,
                rds=self.rds,
                http=self.http,
                credentials=AwsClients(s.aws).credentials,
                dead_letter=dead_letter,
            ),
        )

    def truth(self, instance_id: str, name: str) -> bytes:
        url = endpoint_for("rds")
        resp = httpx.get(f"{url}/_admin/ground-truth/{instance_id}/{name}", timeout=60)
        resp.raise_for_status()
        return resp.content

    def o2_copies(self, stream: str) -> dict[str, int]:
        resp = httpx.get(
            f"{self.settings.openobserve.openobserve_url}/_admin/truth",
            params={"org": self.settings.openobserve.openobserve_org, "stream": stream,
                    "event_ids": "true"},
            timeout=60,
        )  # fmt: skip
        resp.raise_for_status()
        copies: dict[str, int] = resp.json()["event_ids"]
        return copies


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    aws = AwsClients(settings.aws)
    async with AsyncExitStack() as stack:
        ddb = await stack.enter_async_context(aws.client("dynamodb"))
        s3 = await stack.enter_async_context(aws.client("s3"))
        rds = await stack.enter_async_context(aws.client("rds"))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=120))
        o2 = await stack.enter_async_context(OpenObserveClient(settings.openobserve))
        suffix = uuid.uuid4().hex[:8]
        tracking = TableSpec(f"tracking-{suffix}", "resource_id", "generation", "expires_at")
        jobs = TableSpec(f"jobs-{suffix}", "instance_id", "job_id", "expires_at")
        for spec in (tracking, jobs):
            await ddb.create_table(**spec.create_kwargs())
        yield World(settings, ddb, s3, rds, http, o2, tracking, jobs, f"t-{suffix}/", [])


async def _rotated_messages(
    world: World, engine: str, types: Sequence[str]
) -> list[LogFileMessage]:
    """One rotated file of each wanted log type, from the first instance that has them all."""
    pages = world.rds.get_paginator("describe_db_instances").paginate()
    instances = [i async for page in pages for i in page["DBInstances"]]
    for inst in instances:
        if inst["Engine"] != engine or inst["DBInstanceStatus"] != "available":
            continue
        listing = world.rds.get_paginator("describe_db_log_files").paginate(
            DBInstanceIdentifier=inst["DBInstanceIdentifier"]
        )
        files = [f async for page in listing for f in page.get("DescribeDBLogFiles", [])]
        chosen: dict[str, LogFileMessage] = {}
        # The generation carries the test's own suffix: event ids derive from it, and the
        # OpenObserve emulator is shared by the session, so each test counts its own copies.
        # A PostgreSQL name is unique (its time is in it): every file but the newest is complete.
        newest = max((f["LogFileName"] for f in files if "postgresql.log" in f["LogFileName"]),
                     default="")  # fmt: skip
        for f in files:
            log_type = log_type_of(engine, f["LogFileName"])
            gen = generation_of(f["LogFileName"], f["LastWritten"], f["Size"])
            complete = gen.rotated_name or (
                log_type is LogType.POSTGRESQL and f["LogFileName"] != newest
            )
            if log_type is None or str(log_type) not in types or not complete:
                continue
            if f["Size"] > 0 and str(log_type) not in chosen:
                chosen[str(log_type)] = LogFileMessage(
                    account=ACCOUNT, region=world.settings.aws.aws_region,
                    cluster_id=inst["DBClusterIdentifier"],
                    instance_id=inst["DBInstanceIdentifier"], resource_id=inst["DbiResourceId"],
                    engine=engine, engine_version=inst["EngineVersion"], log_type=log_type,
                    log_file_name=f["LogFileName"], generation=f"{gen.key}#{world.prefix}", size=f["Size"],
                    last_written=f["LastWritten"], rotated=True,
                )  # fmt: skip
        if set(chosen) == set(types):
            return list(chosen.values())
    raise AssertionError(f"no {engine} instance has rotated files of every type {types}")


def _expected_ids(msg: LogFileMessage, data: bytes) -> list[str]:
    parser = parser_for(str(msg.log_type))
    events = parser.feed(data) + parser.flush()
    return [event_id(msg.resource_id, msg.generation, e.start) for e in events]


async def _archived(world: World, msg: LogFileMessage) -> bytes:
    key = archive_key(
        world.prefix, msg.engine, msg.cluster_id, msg.instance_id, str(msg.log_type),
        msg.log_file_name, 0, 0, _day(msg), "zst",
    )  # fmt: skip
    prefix = key.rsplit(".", 2)[0].rsplit(".", 1)[0] + "."
    ranges = await read_archived_file(world.s3, world.settings.s3.s3_bucket, prefix)
    assert ranges, f"nothing archived under {prefix}"
    assert ranges[0][0] == 0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges)), "gap or overlap"
    return b"".join(chunk for _, _, chunk in ranges)


def _day(msg: LogFileMessage) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(msg.last_written / 1000, UTC)


@pytest.mark.parametrize(
    ("engine", "types"),
    [("aurora-mysql", ("error", "slowquery")), ("aurora-postgresql", ("postgresql",))],
)
async def test_a_rotated_file_lands_in_s3_byte_for_byte_and_in_openobserve_once(
    world: World, engine: str, types: tuple[str, ...]
) -> None:
    worker = world.worker("p1")
    for msg in await _rotated_messages(world, engine, types):
        truth = world.truth(msg.instance_id, msg.log_file_name)
        result = await worker.handle(msg)
        assert result.outcome == "complete"
        assert result.complete_file_calls == 1  # one call for the whole file
        assert result.shipped_offset == result.archived_offset == len(truth)
        assert await _archived(world, msg) == truth
        copies = world.o2_copies(world.settings.openobserve.streams()[str(msg.log_type)])
        expected = _expected_ids(msg, truth)
        assert expected and all(copies.get(e) == 1 for e in expected), msg.log_file_name
        again = await worker.handle(msg)  # a duplicate announcement is a no-op
        assert again.outcome == "complete" and again.events == 0
        assert all(copies.get(e) == 1 for e in expected)
        row = await CheckpointStore(world.ddb, world.tracking, "x", 1).load(
            FileKey(msg.resource_id, msg.generation)
        )
        assert row.lease_owner is None and row.pending is None


class CrashAfterSend:
    """The real client, but the process "dies" right after its first batch was delivered."""

    def __init__(self, o2: OpenObserveClient) -> None:
        self.o2 = o2
        self.crashed = False

    async def ship(self, stream: str, events: Any) -> ShipResult:
        result = await self.o2.ship(stream, events)
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("killed between send and checkpoint")
        return result

    async def which_stored(self, *args: Any, **kwargs: Any) -> Any:
        return await self.o2.which_stored(*args, **kwargs)


async def test_a_crash_between_send_and_checkpoint_is_recovered_without_a_duplicate(
    world: World,
) -> None:
    (msg,) = await _rotated_messages(world, "aurora-mysql", ("slowquery",))
    truth = world.truth(msg.instance_id, msg.log_file_name)
    crashing = world.worker("p1", sink=CrashAfterSend(world.o2))
    with pytest.raises(RuntimeError, match="killed"):
        await crashing.handle(msg)
    key = FileKey(msg.resource_id, msg.generation)
    left = await CheckpointStore(world.ddb, world.tracking, "x", 1).load(key)
    assert left.pending is not None and left.shipped_offset == 0  # sent, not checkpointed
    assert left.lease_owner is None  # the failing worker gave its lease back
    result = await world.worker("p2").handle(msg)
    assert result.outcome == "complete" and result.shipped_offset == len(truth)
    copies = world.o2_copies(world.settings.openobserve.streams()["slowquery"])
    expected = _expected_ids(msg, truth)
    assert all(copies.get(e) == 1 for e in expected)
    assert await _archived(world, msg) == truth
    assert LogType(msg.log_type) is LogType.SLOWQUERY


def _o2_faults(world: World, method: str, body: dict[str, Any] | None = None) -> None:
    url = f"{world.settings.openobserve.openobserve_url}/_admin/faults"
    httpx.request(method, url, json=body, timeout=30).raise_for_status()


async def test_verify_finds_what_openobserve_acknowledged_but_lost_and_reships_it(
    world: World,
) -> None:
    (msg,) = await _rotated_messages(world, "aurora-mysql", ("slowquery",))
    truth = world.truth(msg.instance_id, msg.log_file_name)
    stream = world.settings.openobserve.streams()["slowquery"]
    _o2_faults(world, "POST", {"hidden_loss_rate": 0.3})
    try:
        assert (await world.worker("p1").handle(msg)).outcome == "complete"
    finally:
        _o2_faults(world, "DELETE")
    expected = _expected_ids(msg, truth)
    lost = [e for e in expected if world.o2_copies(stream).get(e, 0) == 0]
    assert lost, "the fault lost nothing: the test proves nothing"
    mine = load_settings(tracking_table=world.tracking.name, jobs_table=world.jobs.name)
    report = await verify(mine, since_sec=3600)
    assert (report.missing, report.reshipped, report.unknown) == (len(lost), len(lost), 0)
    assert report.ok and report.not_archived == 0 and report.events_checked >= len(expected)
    copies = world.o2_copies(stream)
    assert all(copies.get(e) == 1 for e in expected)
    again = await verify(mine, since_sec=3600)
    assert again.missing == 0 and again.ok
