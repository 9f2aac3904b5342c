"""`aurora-processor verify` never ships again what OpenObserve holds (regressions found by the
chaos suite)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from common.aws import endpoint_for
from common.log_types import LogType
from common.settings import load_settings
from processor.verify import verify
from tests.processor.conftest import World, available_mysql, expected_ids, file_message

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
