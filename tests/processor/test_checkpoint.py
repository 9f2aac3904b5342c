"""The checkpoint store against moto's DynamoDB: lease, fencing, intent, cursors, foreign writes."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from common.aws import AwsClients
from common.settings import Settings
from common.tables import TableSpec
from processor.checkpoint import (
    CheckpointConflict,
    CheckpointStore,
    FileKey,
    Intent,
    LeaseHeld,
    LeaseLost,
)
from processor.checkpoint.codec import to_attr

KEY = FileKey("db-ABCDEFGHIJKLMNOPQRSTUVWXYZ", "slowquery/mysql-slowquery.log@2026-11-25.09")


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def table(settings: Settings) -> AsyncIterator[tuple[Any, TableSpec]]:
    spec = TableSpec("tracking-" + uuid.uuid4().hex[:8], "resource_id", "generation", "expires_at")
    async with AwsClients(settings.aws).client("dynamodb") as ddb:
        await ddb.create_table(**spec.create_kwargs())
        try:
            yield ddb, spec
        finally:
            await ddb.delete_table(TableName=spec.name)


def _store(table: tuple[Any, TableSpec], owner: str, clock: Clock, **kw: Any) -> CheckpointStore:
    ddb, spec = table
    return CheckpointStore(ddb, spec, owner, lease_sec=30, clock=clock, **kw)


def _intent(start: int, end: int, **kw: Any) -> Intent:
    return Intent(batch_id=f"b-{start}", start=start, end=end, events=end - start, **kw)


async def test_a_new_file_starts_at_zero_and_the_lease_is_exclusive(table: Any) -> None:
    clock = Clock()
    a, b = _store(table, "a", clock), _store(table, "b", clock)
    cp = await a.acquire(KEY, instance_id="orders-1", log_file_name="slowquery/mysql-slowquery.log")
    assert (cp.version, cp.shipped_offset, cp.archived_offset, cp.lease_owner) == (1, 0, 0, "a")
    assert cp.attributes["instance_id"] == "orders-1"
    with pytest.raises(LeaseHeld) as held:
        await b.acquire(KEY)
    assert held.value.owner == "a"
    again = await a.acquire(KEY)  # our own lease: taken again, not refused
    assert again.version == 2


async def test_a_range_is_recorded_before_it_ships_and_committed_with_its_marker_and_state(
    table: Any,
) -> None:
    clock = Clock()
    a = _store(table, "a", clock)
    cp = await a.acquire(KEY)
    cp = await a.begin_range(
        cp, _intent(0, 4096, marker="9:4096", marker_offset=4000, parser_state={"db": "shop"})
    )
    seen = await a.load(KEY)
    assert seen.pending is not None and seen.pending.batch_id == "b-0"
    assert seen.shipped_offset == 0  # nothing is shipped until the range is finished
    cp = await a.finish_range(cp)
    seen = await a.load(KEY)
    assert (seen.shipped_offset, seen.marker, seen.marker_offset) == (4096, "9:4096", 4000)
    assert seen.pending is None
    assert seen.parser_state == {"db": "shop"}
    assert seen == cp
    with pytest.raises(ValueError, match="starts at 0"):
        await a.begin_range(cp, _intent(0, 10))


async def test_the_archive_cursor_moves_on_its_own(table: Any) -> None:
    clock = Clock()
    a = _store(table, "a", clock)
    cp = await a.acquire(KEY)
    cp = await a.archived(cp, 10_000)
    assert (cp.archived_offset, cp.shipped_offset) == (10_000, 0)
    with pytest.raises(ValueError, match="cannot go back"):
        await a.archived(cp, 5)


async def test_an_expired_lease_is_taken_over_and_the_old_owner_is_fenced(table: Any) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = _store(table, "a", clock_a), _store(table, "b", clock_b)
    cp_a = await a.acquire(KEY)
    cp_a = await a.begin_range(cp_a, _intent(0, 100))
    clock_b.now += 31  # a went quiet for longer than its lease
    cp_b = await b.acquire(KEY)
    assert cp_b.lease_owner == "b" and cp_b.pending == cp_a.pending  # b sees a's intent
    with pytest.raises(LeaseLost) as lost:
        await a.finish_range(cp_a)  # a wakes up: its checkpoint write must fail
    assert lost.value.owner == "b"
    assert (await b.load(KEY)).shipped_offset == 0
    cp_b = await b.finish_range(cp_b)  # b recovered the batch and finishes it
    assert cp_b.shipped_offset == 100


async def test_a_foreign_write_that_bumps_the_version_does_not_cost_the_lease(table: Any) -> None:
    conflicts: list[int] = []
    clock = Clock()
    a = _store(table, "a", clock, on_conflict=lambda: conflicts.append(1))
    cp = await a.acquire(KEY)
    cp = await a.begin_range(cp, _intent(0, 100))
    ddb, spec = table
    # Discovery announces a bigger size and bumps the version, as docs/design.md §3 allows it to.
    await ddb.update_item(
        TableName=spec.name,
        Key={"resource_id": {"S": KEY.resource_id}, "generation": {"S": KEY.generation}},
        UpdateExpression="SET published_size = :p, version = version + :one",
        ExpressionAttributeValues={":p": to_attr(5000), ":one": to_attr(1)},
    )
    cp = await a.finish_range(cp)
    assert cp.shipped_offset == 100 and conflicts == [1]
    assert cp.attributes["published_size"] == 5000  # the foreign attribute survived


async def test_cursors_moved_under_our_lease_is_a_conflict_not_a_silent_overwrite(
    table: Any,
) -> None:
    clock = Clock()
    a = _store(table, "a", clock)
    stale = await a.acquire(KEY)
    current = await a.begin_range(stale, _intent(0, 100))
    await a.finish_range(current)
    with pytest.raises(CheckpointConflict, match="cursors moved"):
        await a.archived(stale, 50)  # written from an old copy of the row


async def test_release_lets_another_processor_in_at_once(table: Any) -> None:
    clock = Clock()
    a, b = _store(table, "a", clock), _store(table, "b", clock)
    cp = await a.acquire(KEY)
    await a.release(cp, processor_status="caught_up")
    cp_b = await b.acquire(KEY)
    assert cp_b.lease_owner == "b" and cp_b.status == "caught_up"


async def test_interleaved_owners_never_commit_a_range_twice_or_move_backwards(table: Any) -> None:
    """Random interleavings of two processors that keep losing and retaking the lease."""
    rng = random.Random(7)
    clock = Clock()
    stores = {name: _store(table, name, clock) for name in ("a", "b")}
    held: dict[str, Any] = {}
    committed: list[tuple[int, int]] = []
    for _ in range(60):
        name = rng.choice(["a", "b"])
        store = stores[name]
        step = rng.random()
        try:
            if name not in held or step < 0.2:
                if step < 0.1:
                    clock.now += 31  # leases expire
                held[name] = await store.acquire(KEY)
            elif held[name].pending is None:
                cp = held[name]
                held[name] = await store.begin_range(
                    cp, _intent(cp.shipped_offset, cp.shipped_offset + rng.randint(1, 50))
                )
            else:
                intent = held[name].pending
                held[name] = await store.finish_range(held[name])
                committed.append((intent.start, intent.end))
        except (LeaseHeld, LeaseLost):
            held.pop(name, None)
    final = await stores["a"].load(KEY)
    assert committed, "the interleaving committed nothing: the test proves nothing"
    # Ranges tile [0, shipped_offset) exactly once, in order.
    assert [s for s, _ in committed] == [0] + [e for _, e in committed[:-1]]
    assert committed[-1][1] == final.shipped_offset
