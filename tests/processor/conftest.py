"""The processor's local world for its tests: fresh tracking and jobs tables, a private S3 prefix
and generation suffix (the OpenObserve emulator is shared by the session), the emulators' ground
truths, and rotated files of the emulated fleet as `LogFileMessage`s."""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from common.aws import AwsClients, endpoint_for
from common.log_files import (
    family_of,
    generation_of,
    is_active_name,
    log_type_of,
    succession_key,
    text_name,
)
from common.log_types import LogType
from common.messages import LogFileMessage
from common.settings import Settings
from common.tables import TableSpec
from common.valkey import ValkeyGuard
from processor.accounts import RdsAccess, RdsAccessProvider, RdsAccounts
from processor.checkpoint import CheckpointStore
from processor.documents import event_id
from processor.file_worker import FileResult, FileWorker, WorkerConfig, WorkerDeps
from processor.jobs import JobsLog
from processor.parsers import parser_for
from processor.sinks.openobserve import OpenObserveClient
from processor.sinks.s3_archive import read_archived_file
from processor.sinks.s3_keys import archive_key

ACCOUNT = "123456789012"
LAG = 1.0  # OPENOBSERVE_VISIBILITY_LAG_SEC of the tests' clients


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
    accounts: RdsAccounts  # the processor's RDS access per (account, region), its own bucket

    def worker(
        self,
        owner: str,
        sink: Any = None,
        lease_sec: float = 60,
        credentials: Callable[[], Awaitable[Any]] | None = None,
        complete_download: bool = True,
        rds: RdsAccessProvider | None = None,
    ) -> FileWorker:
        s = self.settings
        store = CheckpointStore(self.ddb, self.tracking, owner, lease_sec)
        access = rds or self.accounts
        if credentials is not None:
            access = _SignedWith(access, credentials)

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
                visibility_lag_sec=LAG,
                complete_download=complete_download,
            ),
            WorkerDeps(
                store=store,
                jobs=JobsLog(self.ddb, self.jobs),
                sink=sink or self.o2,
                streams=s.openobserve.streams(),
                s3=self.s3,
                rds=access,
                http=self.http,
                dead_letter=dead_letter,
            ),
        )

    def truth(self, instance_id: str, name: str) -> bytes:
        url = endpoint_for("rds")
        resp = httpx.get(f"{url}/_admin/ground-truth/{instance_id}/{name}", timeout=60)
        resp.raise_for_status()
        return resp.content

    def true_sizes(self, instance_id: str) -> dict[str, int]:
        """Every file's real size by name (the ground truth's index, whatever the listing says)."""
        url = endpoint_for("rds")
        resp = httpx.get(f"{url}/_admin/ground-truth/{instance_id}", timeout=60)
        resp.raise_for_status()
        return {f["name"]: int(f["size"]) for f in resp.json()["files"]}

    def o2_faults(self, method: str, body: dict[str, Any] | None = None) -> None:
        """Set (POST) or clear (DELETE) the OpenObserve emulator's faults."""
        url = f"{self.settings.openobserve.openobserve_url}/_admin/faults"
        httpx.request(method, url, json=body, timeout=30).raise_for_status()

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


@dataclass
class _SignedWith:
    """The accounts' access, but the REST download signed with other credentials."""

    accounts: RdsAccessProvider
    credentials: Callable[[], Awaitable[Any]]

    async def access(self, account: str, region: str) -> RdsAccess:
        return replace(await self.accounts.access(account, region), credentials=self.credentials)


def own_settings(settings: Settings, suffix: str, **rds: Any) -> Settings:
    """The session's settings with a Valkey key prefix of the test's own (its RDS bucket is not
    another test's) and `rds` settings changed."""
    mine = copy.copy(settings)
    mine.valkey = settings.valkey.model_copy(update={"valkey_key_prefix": f"t-{suffix}:"})
    mine.rds = settings.rds.model_copy(update=rds)
    return mine


@pytest.fixture
async def world(settings: Settings, guard: ValkeyGuard) -> AsyncIterator[World]:
    aws = AwsClients(settings.aws)
    async with AsyncExitStack() as stack:
        ddb = await stack.enter_async_context(aws.client("dynamodb"))
        s3 = await stack.enter_async_context(aws.client("s3"))
        rds = await stack.enter_async_context(aws.client("rds"))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=120))
        # The emulator shows a record at once: a short lag keeps recovery's wait short.
        fast = settings.openobserve.model_copy(update={"openobserve_visibility_lag_sec": LAG})
        o2 = await stack.enter_async_context(OpenObserveClient(fast))
        suffix = uuid.uuid4().hex[:8]
        tracking = TableSpec(f"tracking-{suffix}", "resource_id", "generation", "expires_at")
        jobs = TableSpec(f"jobs-{suffix}", "instance_id", "job_id", "expires_at")
        for spec in (tracking, jobs):
            await ddb.create_table(**spec.create_kwargs())
        accounts = RdsAccounts(own_settings(settings, suffix), aws, guard)
        stack.push_async_callback(accounts.close)
        yield World(settings, ddb, s3, rds, http, o2, tracking, jobs, f"t-{suffix}/", [], accounts)


async def _rotated_by_instance(
    world: World, engine: str, types: Sequence[str], largest: int | None = None, smallest: int = 1
) -> AsyncIterator[dict[str, LogFileMessage]]:
    """Per available instance of `engine`: one complete rotated file of each of `types` with
    `smallest` to `largest` bytes, as messages. (Sizes filter the choice itself: an instance's
    first file that is too small must not hide its others.)"""
    pages = world.rds.get_paginator("describe_db_instances").paginate()
    instances = [i async for page in pages for i in page["DBInstances"]]
    for inst in instances:
        if inst["Engine"] != engine or inst["DBInstanceStatus"] != "available":
            continue
        files = []
        # Each log type's name holds the type (`slowquery/…`, `error/postgresql.log…`): a
        # filtered listing is a fraction of an instance's hundreds of files.
        for wanted in types:
            listing = world.rds.get_paginator("describe_db_log_files").paginate(
                DBInstanceIdentifier=inst["DBInstanceIdentifier"], FilenameContains=wanted
            )
            files += [f async for page in listing for f in page.get("DescribeDBLogFiles", [])]
        chosen: dict[str, LogFileMessage] = {}
        true_sizes: dict[str, int] | None = None  # asked once, at the instance's first candidate
        # The generation carries the test's own suffix: event ids derive from it, and the
        # OpenObserve emulator is shared by the session, so each test counts its own copies.
        # A PostgreSQL or audit name is unique (its time is in it): every member of a family but
        # its newest is complete.
        newest: dict[str, tuple[int, str]] = {}
        for f in files:
            if not is_active_name(f["LogFileName"]):
                family = family_of(f["LogFileName"])
                key = succession_key(f["LogFileName"])
                newest[family] = max(newest.get(family, key), key)
        for f in files:
            log_type = log_type_of(engine, f["LogFileName"])
            gen = generation_of(f["LogFileName"], f["LastWritten"], f["Size"])
            name = f["LogFileName"]
            complete = gen.rotated_name or (
                not is_active_name(name) and succession_key(name) < newest[family_of(name)]
            )
            if log_type is None or str(log_type) not in types or not complete:
                continue
            if (
                max(smallest, 1) <= f["Size"] <= (largest or f["Size"])
                and str(log_type) not in chosen
            ):
                if true_sizes is None:
                    true_sizes = world.true_sizes(inst["DBInstanceIdentifier"])
                if not true_sizes.get(name.removesuffix(".gz")):
                    # Empty, whatever the listing says: the size_mismatch fault adds bytes to
                    # every Size, so a new instance's empty rotated file looked like data.
                    continue
                chosen[str(log_type)] = LogFileMessage(
                    account=ACCOUNT, region=world.settings.aws.aws_region,
                    cluster_id=inst["DBClusterIdentifier"],
                    instance_id=inst["DBInstanceIdentifier"], resource_id=inst["DbiResourceId"],
                    engine=engine, engine_version=inst["EngineVersion"], log_type=log_type,
                    log_file_name=f["LogFileName"], generation=f"{gen.key}#{world.prefix}",
                    size=f["Size"], last_written=f["LastWritten"], rotated=True,
                )  # fmt: skip
        yield chosen


async def rotated_messages(world: World, engine: str, types: Sequence[str]) -> list[LogFileMessage]:
    """One rotated file of each wanted log type, from the first instance that has them all."""
    async for chosen in _rotated_by_instance(world, engine, types):
        if set(chosen) == set(types):
            return list(chosen.values())
    raise AssertionError(f"no {engine} instance has rotated files of every type {types}")


def expected_ids(msg: LogFileMessage, data: bytes) -> list[str]:
    parser = parser_for(str(msg.log_type))
    events = parser.feed(data) + parser.flush()
    return [event_id(msg.resource_id, msg.generation, e.start) for e in events]


async def archived(world: World, msg: LogFileMessage) -> bytes:
    key = archive_key(
        world.prefix, msg.engine, msg.cluster_id, msg.instance_id, str(msg.log_type),
        text_name(msg.log_file_name), 0, 0, day(msg), "zst",
    )  # fmt: skip
    prefix = key.rsplit(".", 2)[0].rsplit(".", 1)[0] + "."
    ranges = await read_archived_file(world.s3, world.settings.s3.s3_bucket, prefix)
    assert ranges, f"nothing archived under {prefix}"
    assert ranges[0][0] == 0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges)), "gap or overlap"
    return b"".join(chunk for _, _, chunk in ranges)


def day(msg: LogFileMessage) -> datetime:
    return datetime.fromtimestamp(msg.last_written / 1000, UTC)


async def available_mysql(world: World) -> list[dict[str, Any]]:
    """The emulated fleet's available aurora-mysql instances, as DescribeDBInstances lists them."""
    pages = world.rds.get_paginator("describe_db_instances").paginate()
    instances = [i async for page in pages for i in page["DBInstances"]]
    return [
        i
        for i in instances
        if i["Engine"] == "aurora-mysql" and i["DBInstanceStatus"] == "available"
    ]


def file_message(
    world: World,
    inst: dict[str, Any],
    log_type: LogType,
    name: str,
    last_written: int,
    size: int,
    rotated: bool,
    tag: str = "",
) -> LogFileMessage:
    """The message discovery would publish for `name` as listed (`tag` keeps the generation,
    hence the event ids, the test's own)."""
    gen = generation_of(name, last_written, size)
    return LogFileMessage(
        account=ACCOUNT, region=world.settings.aws.aws_region,
        cluster_id=inst["DBClusterIdentifier"], instance_id=inst["DBInstanceIdentifier"],
        resource_id=inst["DbiResourceId"], engine=inst["Engine"],
        engine_version=inst["EngineVersion"], log_type=log_type, log_file_name=name,
        generation=f"{gen.key}#{world.prefix}{tag}", size=size, last_written=last_written,
        rotated=rotated,
    )  # fmt: skip


_LISTED: dict[tuple[object, ...], tuple[list[LogFileMessage], str]] = {}


async def small_rotated_files(
    world: World,
    engine: str,
    types: Sequence[str],
    count: int,
    smallest: int = 1,
    largest: int = 256 * 1024,
) -> list[LogFileMessage]:
    """`count` rotated files of `types`, each of `smallest` to `largest` bytes, from as many
    instances as it takes, as messages of this world (fewer when the fleet has fewer).

    Listed once per session (a listing costs tenths of a second per instance); each world gets
    the files under generations of its own, so their event ids are its own."""
    key = (engine, tuple(types), count, smallest, largest)
    if key not in _LISTED:
        found: list[LogFileMessage] = []
        async for chosen in _rotated_by_instance(world, engine, types, largest, smallest):
            found += list(chosen.values())
            if len(found) >= count:
                break
        _LISTED[key] = (found[:count], world.prefix)
    listed, prefix = _LISTED[key]
    return [
        m.model_copy(update={"generation": m.generation.removesuffix(prefix) + world.prefix})
        for m in listed
    ]


async def one_rotated_file(world: World, engine: str, log_type: str) -> LogFileMessage:
    """A rotated file of `log_type` with some events to ship (16 to 256 KiB)."""
    found = await small_rotated_files(world, engine, (log_type,), 1, smallest=16 * 1024)
    assert found, f"no rotated {log_type} file of 16-256 KiB"
    return found[0]


async def active_file(world: World, rotated: LogFileMessage, name: str) -> LogFileMessage:
    """The active file `name` of the instance of `rotated` (a message of this world), as
    discovery announces it: not rotated, in the generation it will keep when it rotates."""
    listed = await world.rds.describe_db_log_files(
        DBInstanceIdentifier=rotated.instance_id, FilenameContains=name
    )
    live = next(f for f in listed["DescribeDBLogFiles"] if f["LogFileName"] == name)
    gen = generation_of(name, live["LastWritten"], live["Size"])
    return rotated.model_copy(
        update={
            "log_file_name": name,
            "generation": f"{gen.key}#{world.prefix}",
            "size": live["Size"],
            "last_written": live["LastWritten"],
            "rotated": False,
        }
    )


def rds_admin(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """The RDS emulator's admin API (`faults`, `throttle`, `clock`, `fleet/...`)."""
    resp = httpx.request(method, f"{endpoint_for('rds')}/_admin/{path}", json=body, timeout=60)
    resp.raise_for_status()
    return resp.json()


HOUR = 3600


def clear_of_the_hour(before_sec: float = 600, after_sec: float = 300) -> None:
    """Keep the session emulator's hourly rotation away from a test that follows a live file.

    That emulator runs at the wall clock's speed, so its hourly rotation comes whenever the suite
    reaches the top of the hour. A test reading a live file then either finds it rotated mid-read,
    or finds it missing from the listing until the new hour's first write. (Seen in a fresh-clone
    run whose processor tests ran at 22:00.) When the emulated clock is within `before_sec` of
    the hour, or fewer than `after_sec` past it, this moves it to `after_sec` past the hour.
    The busy instances these tests pick have written their new files by then."""
    into = float(rds_admin("GET", "clock")["now"]) % HOUR
    if into < after_sec:
        rds_admin("POST", "clock", {"advance_sec": after_sec - into})
    elif HOUR - into < before_sec:
        rds_admin("POST", "clock", {"advance_sec": HOUR - into + after_sec})


async def active_message(world: World, rds: Any, inst: dict[str, Any], name: str) -> LogFileMessage:
    """The message discovery would send for the live file `name` of `inst` now (not rotated)."""
    iid = inst["DBInstanceIdentifier"]
    listed = await rds.describe_db_log_files(DBInstanceIdentifier=iid, FilenameContains=name)
    live = next(f for f in listed["DescribeDBLogFiles"] if f["LogFileName"] == name)
    log_type = log_type_of(inst["Engine"], name)
    assert log_type is not None
    return file_message(
        world, inst, log_type, name, live["LastWritten"], live["Size"], rotated=False
    )


async def survive(worker: FileWorker, msg: LogFileMessage, tries: int = 40) -> FileResult:
    """`worker.handle(msg)` retried on retriable errors, as the consumer retries a message."""
    for _ in range(tries - 1):
        try:
            return await worker.handle(msg)
        except Exception as exc:  # retriable ones are retried, as by the consumer
            if not getattr(exc, "retriable", True):
                raise
    return await worker.handle(msg)


def shipped_once(world: World, msg: LogFileMessage, data: bytes) -> None:
    """OpenObserve holds each event of `data` (the file's bytes from 0) exactly once."""
    copies = world.o2_copies(world.settings.openobserve.streams()[str(msg.log_type)])
    expected = expected_ids(msg, data)
    assert expected, f"{msg.log_file_name}: no events to check"
    wrong = {e: copies.get(e, 0) for e in expected if copies.get(e, 0) != 1}
    assert not wrong, f"{msg.log_file_name}: {len(wrong)} of {len(expected)} events not once"
