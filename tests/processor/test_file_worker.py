"""The per-file flow on the real local world: the RDS emulator (realistic quirks), moto's S3 and
DynamoDB, the OpenObserve emulator. The judges are the emulators' ground truths: S3 holds each
rotated file byte for byte, OpenObserve each of its events exactly once — also after a crash
between sending a range and checkpointing it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.credentials import Credentials
from prometheus_client import REGISTRY

from common.aws import endpoint_for
from common.log_types import LogType
from common.settings import load_settings
from processor.checkpoint import CheckpointStore, FileKey
from processor.commands import stats
from processor.sinks.openobserve import OpenObserveClient, ShipResult
from tests.processor.conftest import (
    World,
    archived,
    available_mysql,
    clear_of_the_hour,
    expected_ids,
    file_message,
    one_rotated_file,
    rotated_messages,
)


@pytest.mark.parametrize(
    ("engine", "types"),
    [("aurora-mysql", ("error", "slowquery")), ("aurora-postgresql", ("postgresql",))],
)
async def test_a_rotated_file_lands_in_s3_byte_for_byte_and_in_openobserve_once(
    world: World, engine: str, types: tuple[str, ...]
) -> None:
    worker = world.worker("p1")
    for msg in await rotated_messages(world, engine, types):
        truth = world.truth(msg.instance_id, msg.log_file_name)
        result = await worker.handle(msg)
        assert result.outcome == "complete"
        assert result.complete_file_calls == 1  # one call for the whole file
        assert result.shipped_offset == result.archived_offset == len(truth)
        assert await archived(world, msg) == truth
        copies = world.o2_copies(world.settings.openobserve.streams()[str(msg.log_type)])
        expected = expected_ids(msg, truth)
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
    (msg,) = await rotated_messages(world, "aurora-mysql", ("slowquery",))
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
    expected = expected_ids(msg, truth)
    assert all(copies.get(e) == 1 for e in expected)
    assert await archived(world, msg) == truth
    assert LogType(msg.log_type) is LogType.SLOWQUERY


ENTRY = (
    "# Time: {t}\n# User@Host: app[app] @ [10.0.0.9] Id: 77\n"
    "# Query_time: 1.500000 Lock_time: 0.000100 Rows_sent: 1 Rows_examined: 100\n"
    "SET timestamp={ts};\nSELECT * FROM orders WHERE id = 42;\n"
)


async def test_an_active_file_is_followed_as_it_grows_with_each_event_once(world: World) -> None:
    """Portion reads from the stored marker (the emulator's realistic quirks on), twice."""
    clear_of_the_hour()
    inst = (await available_mysql(world))[0]
    iid, name = inst["DBInstanceIdentifier"], "slowquery/mysql-slowquery.log"
    listed = await world.rds.describe_db_log_files(DBInstanceIdentifier=iid, FilenameContains=name)
    live = next(f for f in listed["DescribeDBLogFiles"] if f["LogFileName"] == name)
    msg = file_message(
        world, inst, LogType.SLOWQUERY, name, live["LastWritten"], live["Size"], rotated=False
    )
    worker = world.worker("p1")
    stream = world.settings.openobserve.streams()["slowquery"]
    shipped = []
    for round_ in range(2):
        now = datetime.now(UTC)
        text = ENTRY.format(t=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), ts=int(now.timestamp()))
        url = f"{endpoint_for('rds')}/_admin/fleet/instances/{iid}/append"
        body = {"log_type": "slowquery", "text": text, "repeat": 50}
        (await world.http.post(url, json=body, timeout=30)).raise_for_status()
        result = await worker.handle(msg)
        assert result.outcome == "caught_up", result
        assert result.archived_offset == 0  # nothing goes to S3 from an active file
        shipped.append(result.shipped_offset)
        truth = world.truth(iid, name)[: result.shipped_offset]
        copies = world.o2_copies(stream)
        expected = expected_ids(msg, truth)
        assert expected and all(copies.get(e) == 1 for e in expected), f"round {round_}"
    assert shipped[1] > shipped[0] > 0


async def test_the_work_shows_in_the_processor_metrics(world: World) -> None:
    (msg,) = await rotated_messages(world, "aurora-mysql", ("slowquery",))

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    names = (
        ("aurora_processor_bytes_downloaded_total", {"api": "complete", "log_type": "slowquery"}),
        ("aurora_processor_ranges_total", {"log_type": "slowquery", "outcome": "ok"}),
        ("aurora_processor_s3_requests_total", {"operation": "put_object"}),
        ("aurora_processor_s3_bytes_total", {"log_type": "slowquery"}),
    )
    before = [sample(n, **labels) for n, labels in names]
    await world.worker("p1").handle(msg)
    after = [sample(n, **labels) for n, labels in names]
    assert all(a > b for a, b in zip(after, before, strict=True)), list(
        zip(names, before, after, strict=False)
    )


async def test_a_refused_complete_download_falls_back_to_portions_with_the_same_bytes(
    world: World,
) -> None:
    """The REST endpoint answers 403 (here: a signature it rejects, as for a role without
    rds:DownloadCompleteDBLogFile); the same file comes from portion calls instead."""
    (msg,) = await rotated_messages(world, "aurora-postgresql", ("postgresql",))
    truth = world.truth(msg.instance_id, msg.log_file_name)

    async def wrong_key() -> Credentials:
        return Credentials("testing", "not-the-secret")

    result = await world.worker("p1", credentials=wrong_key).handle(msg)
    assert (result.outcome, result.portion_fallback) == ("complete", True)
    assert result.shipped_offset == result.archived_offset == len(truth)
    assert await archived(world, msg) == truth
    copies = world.o2_copies(world.settings.openobserve.streams()["postgresql"])
    assert all(copies.get(e) == 1 for e in expected_ids(msg, truth))


async def test_portions_only_reads_a_rotated_file_without_the_complete_endpoint(
    world: World,
) -> None:
    """PROCESSOR_COMPLETE_DOWNLOAD=false (the benchmarks' seed-style baseline): no REST call at
    all, the same bytes from portion calls, and it is not counted as a fallback."""
    (msg,) = await rotated_messages(world, "aurora-postgresql", ("postgresql",))
    truth = world.truth(msg.instance_id, msg.log_file_name)
    result = await world.worker("p1", complete_download=False).handle(msg)
    assert (result.outcome, result.complete_file_calls, result.portion_fallback) == (
        "complete",
        0,
        False,
    )
    assert await archived(world, msg) == truth


async def test_stats_reports_the_jobs_and_files_of_the_tables(world: World) -> None:
    (msg,) = await rotated_messages(world, "aurora-mysql", ("error",))
    await world.worker("p1").handle(msg)
    mine = load_settings(tracking_table=world.tracking.name, jobs_table=world.jobs.name)
    report = await stats(mine, since_sec=3600)
    assert report["files_tracked"] == 1 and report["files_in_progress"] == []
    jobs = report["jobs"]
    truth = world.truth(msg.instance_id, msg.log_file_name)
    assert jobs["bytes_shipped"] == jobs["bytes_archived"] == len(truth)
    assert jobs["by_outcome"].get("ok", 0) >= 2 and report["recent_failures"] == []


async def test_a_lease_left_by_a_dead_processor_is_waited_out_a_renewed_one_is_not(
    world: World,
) -> None:
    """Regression: after a crash the message came back to the group's next processor while the
    dead one's lease still ran; it was given up at once (`held_elsewhere`) and the file waited
    an hour for discovery to announce it again. Now a lease is waited out once: a dead holder
    never renews it, so the file is taken and finished; a live holder renews it and keeps it."""
    msg = await one_rotated_file(world, "aurora-postgresql", "postgresql")
    key = FileKey(msg.resource_id, msg.generation)
    holder = CheckpointStore(world.ddb, world.tracking, "alive", lease_sec=1)
    held = await holder.acquire(key)

    async def renewing() -> None:
        cp = held
        while True:
            await asyncio.sleep(0.25)  # the holder's own pace, not a wait for the test
            cp = await holder.renew(cp)

    keeper = asyncio.create_task(renewing())
    try:
        assert (await world.worker("p2").handle(msg)).outcome == "held_elsewhere"
    finally:
        keeper.cancel()
    # The holder dies (stops renewing, never releases): its lease is waited out and taken.
    result = await world.worker("p2").handle(msg)
    assert result.outcome == "complete"
    truth = world.truth(msg.instance_id, msg.log_file_name)
    assert await archived(world, msg) == truth
