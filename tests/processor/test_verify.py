"""`aurora-processor verify` never ships again what OpenObserve holds (regressions found by the
chaos suite)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.aws import endpoint_for
from common.log_types import LogType
from common.settings import load_settings
from common.tables import TableSpec
from discovery.tracking import TrackingStore
from processor.jobs import Job, JobsLog
from processor.verify import verify
from tests.processor.conftest import (
    World,
    active_message,
    available_mysql,
    clear_of_the_hour,
    expected_ids,
    file_message,
    one_rotated_file,
    rds_admin,
    shipped_once,
)

ENTRY = (
    "# Time: {t}\n# User@Host: app[app] @ [10.0.0.9] Id: 77\n"
    "# Query_time: 1.500000 Lock_time: 0.000100 Rows_sent: 1 Rows_examined: 100\n"
    "SET timestamp={ts};\nSELECT * FROM orders WHERE id = {n};\n"
)


async def _quietest(world: World, name: str) -> dict[str, Any]:
    """The instance whose live `name` is smallest: the file is read whole, so keep it short."""
    sizes: list[tuple[int, int, dict[str, Any]]] = []
    for n, inst in enumerate(await available_mysql(world)):
        listed = await world.rds.describe_db_log_files(
            DBInstanceIdentifier=inst["DBInstanceIdentifier"], FilenameContains=name
        )
        live = [f["Size"] for f in listed["DescribeDBLogFiles"] if f["LogFileName"] == name]
        if live:
            sizes.append((live[0], n, inst))
    assert sizes, f"no instance writes {name}"
    return min(sizes, key=lambda s: (s[0], s[1]))[2]


async def test_verify_finds_events_stamped_ahead_of_its_clock_and_ships_nothing_again(
    world: World,
) -> None:
    """Events two hours ahead of the verifier's clock (an RDS host's clock ahead of ours;
    OpenObserve takes up to 24 h in the future) are stored at their own time. Verify searched
    only up to its own now + 60 s, took them for lost, and shipped them a second time (found
    by tests/chaos, whose emulated clock runs ahead of the wall clock)."""
    name = "slowquery/mysql-slowquery.log"
    clear_of_the_hour()
    inst = await _quietest(world, name)
    iid = inst["DBInstanceIdentifier"]
    ahead = datetime.now(UTC) + timedelta(hours=2)
    text = "".join(
        ENTRY.format(t=ahead.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), ts=int(ahead.timestamp()), n=n)
        for n in range(20)
    )
    url = f"{endpoint_for('rds')}/_admin/fleet/instances/{iid}/append"
    (await world.http.post(url, json={"log_type": "slowquery", "text": text})).raise_for_status()
    listed = await world.rds.describe_db_log_files(DBInstanceIdentifier=iid, FilenameContains=name)
    live = next(f for f in listed["DescribeDBLogFiles"] if f["LogFileName"] == name)
    msg = file_message(  # read whole, as a rotated file is
        world,
        inst,
        LogType.SLOWQUERY,
        name,
        live["LastWritten"],
        live["Size"],
        rotated=True,
        tag=uuid.uuid4().hex[:6],
    )
    result = await world.worker("p1").handle(msg)
    assert result.outcome == "complete"
    stream = world.settings.openobserve.streams()["slowquery"]
    truth = world.truth(iid, name)[: result.shipped_offset]
    expected = expected_ids(msg, truth)
    assert all(world.o2_copies(stream).get(e) == 1 for e in expected)

    mine = load_settings(tracking_table=world.tracking.name, jobs_table=world.jobs.name)
    report = await verify(mine, since_sec=3600)
    assert (report.missing, report.reshipped, report.unknown) == (0, 0, 0), report
    copies = world.o2_copies(stream)
    assert [e for e in expected if copies.get(e) != 1] == []


async def test_verify_names_events_lost_for_good_when_the_file_vanished_before_rotation(
    world: World,
) -> None:
    """OpenObserve answers 200 and loses the events of a range shipped while the file was
    active; the instance is deleted before the file rotates, so no S3 copy will ever exist.
    Verify counted such ranges as `not_archived` and said `ok`: the loss went unreported (found
    by tests/chaos, seed 353157236). Now it counts the batch in OpenObserve against the job,
    names the range under `lost` and exits 3; while the file may still rotate it waits."""
    name = "error/mysql-error-running.log"
    inst = await _quietest(world, name)
    clear_of_the_hour()
    now = datetime.now(UTC)
    text = "".join(
        f"{(now + timedelta(microseconds=n)).strftime('%Y-%m-%dT%H:%M:%S.%fZ')} 0 [Warning] "
        f"[MY-010055] [Server] IP address '10.0.0.{n}' could not be resolved\n"
        for n in range(12)
    )
    url = f"{endpoint_for('rds')}/_admin/fleet/instances/{inst['DBInstanceIdentifier']}/append"
    (await world.http.post(url, json={"log_type": "error", "text": text})).raise_for_status()
    msg = await active_message(world, world.rds, inst, name)
    stream = world.settings.openobserve.streams()["error"]
    world.o2_faults("POST", {"hidden_loss_rate": 1.0, "seed": 7})
    try:
        result = await world.worker("p1").handle(msg)
    finally:
        world.o2_faults("DELETE")
    assert result.outcome == "caught_up" and result.shipped_offset > 0
    expected = expected_ids(msg, world.truth(msg.instance_id, name)[: result.shipped_offset])
    copies = world.o2_copies(stream)
    assert expected and all(copies.get(e, 0) == 0 for e in expected), "nothing was lost"
    mine = load_settings(tracking_table=world.tracking.name, jobs_table=world.jobs.name)

    waiting = await verify(mine, since_sec=3600)  # the file may rotate yet: S3 will repair it
    assert waiting.not_archived >= 1 and waiting.lost == [] and waiting.exit_code == 0, waiting

    tracking = TrackingStore(world.ddb, world.tracking.name)
    row = await tracking.get(msg.resource_id, msg.generation)
    assert row is not None
    await tracking.mark_vanished(msg.resource_id, row, 3600, "instance deleted")
    report = await verify(mine, since_sec=3600)
    assert report.exit_code == 3 and not report.ok and report.missing == 0, report
    assert {(r.instance_id, r.log_file_name) for r in report.lost} == {(msg.instance_id, name)}
    assert sum(r.lost for r in report.lost) == len(expected)
    assert report.lost[0].start == 0 and max(r.end for r in report.lost) == result.shipped_offset
    assert "vanished before rotation" in report.to_dict()["lost"][0]["why"]
    assert world.o2_copies(stream) == copies  # nothing to re-ship from: nothing was sent


class KilledAtFirstJob(JobsLog):
    """The real jobs table, but the process "dies" as it records its first job of `sink`."""

    def __init__(self, ddb: Any, spec: TableSpec, sink: str) -> None:
        super().__init__(ddb, spec)
        self._dying_at = sink

    async def record(self, job: Job) -> Job:
        if job.sink == self._dying_at:
            self._dying_at = ""
            raise RuntimeError(f"killed while recording the {job.sink} job")
        return await super().record(job)


def _covered(jobs: list[Job], sink: str) -> int:
    """How far from 0 the `sink` jobs cover the file without a hole."""
    at = 0
    for job in sorted((j for j in jobs if j.sink == sink), key=lambda j: j.start):
        if job.start > at:
            break
        at = max(at, job.end)
    return at


@pytest.mark.parametrize("sink", ["openobserve", "s3"])
async def test_no_range_is_checkpointed_before_its_job_is_recorded(world: World, sink: str) -> None:
    """The jobs are verify's ledger: a range shipped or archived without its job is a range
    verify never checks, so what OpenObserve lost in it stayed lost (tests/chaos, seed
    2294126050: 147 events of a rotated general log). The checkpoint was written first; a
    process killed between the two left the range checkpointed and unrecorded. Now the job comes
    first, and a kill at the job leaves the range to be done again."""
    msg = await one_rotated_file(world, "aurora-mysql", "slowquery")
    truth = world.truth(msg.instance_id, msg.log_file_name)
    dying = world.worker("p1")
    dying.deps = replace(dying.deps, jobs=KilledAtFirstJob(world.ddb, world.jobs, sink))
    with pytest.raises(RuntimeError, match="killed while recording"):
        await dying.handle(msg)
    result = await world.worker("p2", lease_sec=60).handle(msg)
    assert result.outcome == "complete" and result.shipped_offset == len(truth)
    jobs = await JobsLog(world.ddb, world.jobs).recent(0)
    mine = [j for j in jobs if j.generation == msg.generation]
    assert _covered(mine, "openobserve") == len(truth)
    assert _covered(mine, "s3") == len(truth)
    shipped_once(world, msg, truth)
    settings = load_settings(tracking_table=world.tracking.name, jobs_table=world.jobs.name)
    report = await verify(settings, since_sec=3600)
    assert report.not_archived == 0 and report.ok, report
    assert report.events_checked == len(expected_ids(msg, truth))


async def test_verify_finds_an_event_without_time_shipped_before_its_timed_neighbours(
    world: World,
) -> None:
    """An event with no time of its own (a line outside any entry, first in its file) is
    stored at the time it was shipped. Verify searched from the first timed event of its range:
    with an RDS clock ahead of ours that lies after the shipping, so the event looked absent
    and was shipped again (tests/chaos, seeds 293662361 and 280926263: `1 doubled`)."""
    fleet = rds_admin("GET", "fleet")["instances"]
    cid = next(i["cluster_id"] for i in fleet if i["engine"] == "aurora-mysql"
               and i["status"] == "available" and "error" in i["log_types"])  # fmt: skip
    iid = f"{cid}-t{uuid.uuid4().hex[:6]}"
    rds_admin("POST", "fleet/instances", {"cluster_id": cid, "instance_id": iid, "activity": 0})
    try:
        clear_of_the_hour()
        ahead = datetime.now(UTC) + timedelta(hours=2)
        text = "InnoDB: a line of a dump whose entry is in the previous file\n" + "".join(
            f"{(ahead + timedelta(seconds=n)).strftime('%Y-%m-%dT%H:%M:%S.%fZ')} 0 [Note] "
            f"[MY-010914] [Server] Aborted connection {n} to db: 'app' user: 'app'\n"
            for n in range(10)
        )
        rds_admin("POST", f"fleet/instances/{iid}/append", {"log_type": "error", "text": text})
        inst = (await world.rds.describe_db_instances(DBInstanceIdentifier=iid))["DBInstances"][0]
        name = "error/mysql-error-running.log"
        live = await active_message(world, world.rds, inst, name)
        msg = live.model_copy(update={"rotated": True})  # read whole, as a rotated file is
        result = await world.worker("p1").handle(msg)
        assert result.outcome == "complete" and result.events == 11
        truth = world.truth(iid, name)
        shipped_once(world, msg, truth)

        mine = load_settings(tracking_table=world.tracking.name, jobs_table=world.jobs.name)
        report = await verify(mine, since_sec=3600)
        assert (report.missing, report.reshipped, report.found_elsewhere) == (0, 0, 0), report
        shipped_once(world, msg, truth)
    finally:
        rds_admin("DELETE", f"fleet/instances/{iid}")


async def test_a_file_gone_before_anything_was_read_leaves_no_empty_report(world: World) -> None:
    """A followed file RDS no longer had when its portion read started was recorded as "never
    reached S3: bytes 0–0": an empty report, which verify would read as a vanished file."""
    pages = world.rds.get_paginator("describe_db_instances").paginate()
    instances = [i async for page in pages for i in page["DBInstances"]]
    inst = next(i for i in instances
                if i["Engine"] == "aurora-postgresql" and i["DBInstanceStatus"] == "available")  # fmt: skip
    name = "error/postgresql.log.2020-01-01-0000"  # listed once, gone by the read
    msg = file_message(
        world, inst, LogType.POSTGRESQL, name, 1_577_836_800_000, 4096, rotated=False
    )
    result = await world.worker("p1").handle(msg)
    assert result.outcome == "vanished" and result.shipped_offset == 0
    jobs = await JobsLog(world.ddb, world.jobs).recent(0)
    assert [j for j in jobs if j.generation == msg.generation] == []
