"""The per-file flow on the real local world: the RDS emulator (realistic quirks), moto's S3 and
DynamoDB, the OpenObserve emulator. The judges are the emulators' ground truths: S3 holds each
rotated file byte for byte, OpenObserve each of its events exactly once — also after a crash
between sending a range and checkpointing it."""

from __future__ import annotations

from typing import Any

import pytest

from common.log_types import LogType
from common.settings import load_settings
from processor.checkpoint import CheckpointStore, FileKey
from processor.sinks.openobserve import OpenObserveClient, ShipResult
from processor.verify import verify
from tests.processor.conftest import World, archived, expected_ids, rotated_messages


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


async def test_verify_finds_what_openobserve_acknowledged_but_lost_and_reships_it(
    world: World,
) -> None:
    (msg,) = await rotated_messages(world, "aurora-mysql", ("slowquery",))
    truth = world.truth(msg.instance_id, msg.log_file_name)
    stream = world.settings.openobserve.streams()["slowquery"]
    world.o2_faults("POST", {"hidden_loss_rate": 0.3})
    try:
        assert (await world.worker("p1").handle(msg)).outcome == "complete"
    finally:
        world.o2_faults("DELETE")
    expected = expected_ids(msg, truth)
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
