"""An active name announced in one hour and read in the next: the hour turned in between, so
the name holds a new file (regression found by the chaos suite)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from common.aws import endpoint_for
from common.log_types import LogType
from tests.processor.conftest import World, available_mysql, expected_ids, file_message

ENTRY = (
    "# Time: {t}\n# User@Host: app[app] @ [10.0.0.9] Id: 77\n"
    "# Query_time: 1.500000 Lock_time: 0.000100 Rows_sent: 1 Rows_examined: 100\n"
    "SET timestamp={ts};\nSELECT * FROM orders WHERE id = 42;\n"
)


async def test_bytes_of_the_next_hour_are_never_shipped_under_the_previous_generation(
    world: World,
) -> None:
    """Discovery listed `slowquery/mysql-slowquery.log` at 14:59 (generation `…@14`); the
    processor reads it after 15:00, when the name is the 15:00 file. Those bytes were shipped
    under generation 14 — the 14:00 file's own bytes at those offsets were then skipped when its
    rotated name was read (lost), and shipped again under generation 15 (twice in all)."""
    inst = (await available_mysql(world))[0]
    iid, name = inst["DBInstanceIdentifier"], "slowquery/mysql-slowquery.log"
    now = datetime.now(UTC)
    text = ENTRY.format(t=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), ts=int(now.timestamp()))
    url = f"{endpoint_for('rds')}/_admin/fleet/instances/{iid}/append"
    body = {"log_type": "slowquery", "text": text, "repeat": 20}
    (await world.http.post(url, json=body, timeout=30)).raise_for_status()
    # As listed a minute before this hour began.
    listed_at = now.replace(minute=0, second=0, microsecond=0) - timedelta(minutes=1)
    last_written = int(listed_at.timestamp() * 1000)
    msg = file_message(
        world, inst, LogType.SLOWQUERY, name, last_written, 1000, rotated=False,
        tag=uuid.uuid4().hex[:6],
    )  # fmt: skip
    result = await world.worker("p1").handle(msg)
    assert (result.outcome, result.shipped_offset, result.events) == ("segment_end", 0, 0)
    stream = world.settings.openobserve.streams()["slowquery"]
    copies = world.o2_copies(stream)
    live = world.truth(iid, name)
    assert [e for e in expected_ids(msg, live) if e in copies] == []
