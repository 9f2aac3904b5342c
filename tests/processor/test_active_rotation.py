"""An active file followed as it grows and across its hourly rotation (DESIGN §5): one checkpoint
per generation, the rest of the generation read from the rotated name from the same offset — no
gap, no overlap. On an RDS emulator of the test's own whose clock is frozen and stepped, in each
way RDS shows the hour's turn under a marker: the old segment's rest then Marker "0", the old
marker echoed with no data (`echo_marker_after_rotation`), and the live name missing for a while
(`not_found_during_rotation`). Also the audit log, which this emulator rotates small."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from common.aws import AwsClients
from common.log_files import generation_of
from common.valkey import ValkeyGuard
from devstack.procs import stop_group
from processor.accounts import RdsAccounts
from processor.file_worker import FileResult
from tests.processor.conftest import (
    World,
    active_message,
    archived,
    expected_ids,
    own_settings,
    rotated_messages,
    shipped_once,
)
from tests.rds_emulator.conftest import RdsServer, start_emulator

SLOW = "slowquery/mysql-slowquery.log"
ROTATED = f"{SLOW}.2026-11-23.09"


@dataclass
class Private:
    server: RdsServer
    world: World  # the session's world, with this emulator's RDS client and accounts

    def advance(self, seconds: float) -> None:
        self.server.admin("POST", "clock", {"advance_sec": seconds})


@pytest.fixture
async def private(
    world: World, guard: ValkeyGuard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Private]:
    server = start_emulator(
        tmp_path, "--instances", "4", "--start-time", "2026-11-23T09:40:00Z", "--profile",
        "happy", "--stopped", "0", "--no-throttle", "--audit-rotate-bytes", "150000",
    )  # fmt: skip
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", server.url)
        mysql = server.instances("aurora-mysql")[0]
        server.admin("POST", "fleet/activity", {"instances": [mysql], "activity": 0.3})
        aws = AwsClients(world.settings.aws)
        accounts = RdsAccounts(own_settings(world.settings, world.prefix.strip("/")), aws, guard)
        try:
            async with aws.client("rds") as rds:
                yield Private(server, replace(world, rds=rds, accounts=accounts))
        finally:
            await accounts.close()
    finally:
        stop_group(server.pid)


@pytest.mark.parametrize(
    "turn", ["marker_zero", "echo_marker_after_rotation", "not_found_during_rotation"]
)
async def test_an_active_file_is_followed_across_its_rotation_without_gap_or_overlap(
    private: Private, turn: str
) -> None:
    w, server = private.world, private.server
    turns = {"echo_marker_after_rotation": {}, "not_found_during_rotation": {"window_sec": 900}}
    if turn in turns:  # the live name is missing until 10:15
        server.faults(**{turn: {"enabled": True, **turns[turn]}})
    mysql = server.instances("aurora-mysql")[0]
    inst = (await w.rds.describe_db_instances(DBInstanceIdentifier=mysql))["DBInstances"][0]
    worker = w.worker("p1")
    results: list[FileResult] = []
    live = await active_message(w, w.rds, inst, SLOW)
    for _ in range(2):  # 09:40 and 09:55: the file grows, each read goes on from the marker
        results.append(await worker.handle(live))
        assert results[-1].outcome == "caught_up"
        assert results[-1].archived_offset == 0  # nothing goes to S3 from an active file
        private.advance(900)
    assert 0 < results[0].shipped_offset < results[1].shipped_offset
    # 10:10: the hour 09 was rotated at 10:00, with bytes written after the last read.
    results.append(await worker.handle(live))
    turned = {"marker_zero": "segment_end", "echo_marker_after_rotation": "caught_up",
              "not_found_during_rotation": "waiting_rotation"}  # fmt: skip
    assert results[-1].outcome == turned[turn]
    listed = await w.rds.describe_db_log_files(DBInstanceIdentifier=live.instance_id)
    rotated_file = next(f for f in listed["DescribeDBLogFiles"] if f["LogFileName"] == ROTATED)
    gen = generation_of(ROTATED, rotated_file["LastWritten"], rotated_file["Size"])
    assert f"{gen.key}#{w.prefix}" == live.generation  # one checkpoint for the generation
    rotated = live.model_copy(
        update={"log_file_name": ROTATED, "rotated": True, "size": rotated_file["Size"],
                "last_written": rotated_file["LastWritten"]}
    )  # fmt: skip
    results.append(await worker.handle(rotated))
    truth = server.truth(live.instance_id, ROTATED)
    final = results[-1]
    assert (final.outcome, final.complete_file_calls) == ("complete", 1)
    assert final.shipped_offset == final.archived_offset == len(truth)
    assert await archived(w, rotated) == truth
    shipped_once(w, rotated, truth)
    # No event twice, none split: every event shipped is one of the file's, once.
    assert sum(r.events for r in results) == len(expected_ids(rotated, truth))
    # The rest of the generation came from the rotated name, from where the live name stopped.
    assert (final.events == 0) is (turn == "marker_zero")
    assert not w.letters


async def test_a_rotated_audit_file_lands_byte_for_byte_and_once(private: Private) -> None:
    """Audit files are not followed while active (FOLLOW_ACTIVE); one no longer the newest of
    its set is complete and read whole."""
    private.advance(600)
    (msg,) = await rotated_messages(private.world, "aurora-mysql", ("audit",))
    truth = private.server.truth(msg.instance_id, msg.log_file_name)
    result = await private.world.worker("p1").handle(msg)
    assert (result.outcome, result.complete_file_calls) == ("complete", 1)
    assert result.shipped_offset == result.archived_offset == len(truth)
    assert await archived(private.world, msg) == truth
    shipped_once(private.world, msg, truth)


async def test_a_live_name_read_late_never_takes_the_next_hours_bytes(private: Private) -> None:
    """Regression: the announcement of hour 09's live file handled only at 10:10 (a backlog)
    read the live name from Marker "0" — the hour 10 file — under hour 09's checkpoint. Pages
    of another hour are not this generation's: the rest waits for the rotated name."""
    w, server = private.world, private.server
    mysql = server.instances("aurora-mysql")[0]
    inst = (await w.rds.describe_db_instances(DBInstanceIdentifier=mysql))["DBInstances"][0]
    live = await active_message(w, w.rds, inst, SLOW)
    private.advance(1800)
    late = await w.worker("p1").handle(live)
    assert (late.outcome, late.shipped_offset, late.events) == ("waiting_rotation", 0, 0)
    rotated = live.model_copy(update={"log_file_name": ROTATED, "rotated": True})
    result = await w.worker("p1").handle(rotated)
    truth = server.truth(live.instance_id, ROTATED)
    assert result.shipped_offset == result.archived_offset == len(truth)
    assert result.events == len(expected_ids(rotated, truth))
    shipped_once(w, rotated, truth)
