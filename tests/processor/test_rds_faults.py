"""Every fault of the RDS emulator (devstack/rds/faults.py), one at a time, under the processor's
FileWorker: a rotated file read with the complete download and with portions only, and an active
file followed with portions. The judges are the emulator's ground truth (S3 byte for byte) and
OpenObserve (each event once). Every log type's rotated file lands the same way (item D).

What each fault is meant to break, and where it is tested:

| fault | where it bites | tested here as |
| --- | --- | --- |
| latency | every call | all three reads |
| server_error | 5xx on portions, or on the REST download | retried as the consumer does |
| pending_false_after_truncation | a truncated page says the end | reads of pages over 1 MiB |
| pending_false_early | the end said too early | portion reads |
| pending_omitted | no AdditionalDataPending | portion reads |
| empty_page | empty pages with data pending | portion reads |
| overlap | bytes served twice | portion reads |
| truncation_marker_off_by_one | a truncated page's marker one byte on | reads of pages over 1 MiB |
| binary_data | portions refuse a file | rotated: the REST download reads on; active: left to rotation |
| size_mismatch | the listed Size is wrong | messages carry the listed Size |
| gzip_old_postgres | an old PostgreSQL file is `.gz` | the REST download's gzip bytes read as text |
| error_log_staging_size | `error/mysql-error.log` listed with bytes | never announced (no log type) |
| echo_marker_after_rotation, not_found_during_rotation | the hour's rotation | test_active_rotation.py |

The reader alone meets each quirk at high rates on big files in
tests/rds_emulator/test_portion_client.py; here the whole per-file flow does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from common.log_files import log_type_of
from common.messages import LogFileMessage
from tests.processor.conftest import (
    World,
    active_message,
    archived,
    clear_of_the_hour,
    rds_admin,
    rotated_messages,
    shipped_once,
    survive,
)

SLOW = "slowquery/mysql-slowquery.log"
ENTRY = (
    "# Time: {t}\n# User@Host: app[app] @ [10.0.0.9] Id: 77\n"
    "# Query_time: 1.500000 Lock_time: 0.000100 Rows_sent: 1 Rows_examined: 100\n"
    "SET timestamp={ts};\nSELECT * FROM orders WHERE id = 42 /* {pad} */;\n"
)

# fault -> its settings, and which reads it applies to.
ALL = ("rotated", "rotated_portions", "active")
DOWNLOADS = ["DownloadDBLogFilePortion", "DownloadCompleteDBLogFile"]
PORTIONS = ("rotated_portions", "active")
FAULTS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "latency": ({"ms": 15.0, "jitter_ms": 10.0}, ALL),
    "server_error": ({"rate": 0.3, "status": 503, "operations": DOWNLOADS}, ALL),
    "pending_false_after_truncation": ({}, PORTIONS),
    "pending_false_early": ({"rate": 0.5}, PORTIONS),
    "pending_omitted": ({"rate": 0.5}, PORTIONS),
    "empty_page": ({"rate": 0.3}, PORTIONS),
    "overlap": ({"rate": 1.0, "bytes": 3500}, PORTIONS),
    "truncation_marker_off_by_one": ({"rate": 1.0}, PORTIONS),
    "size_mismatch": ({"rate": 1.0, "delta": 241}, ALL),
}


@pytest.fixture
def faults() -> Iterator[Any]:
    """Set faults on the session's emulator from `happy`; its faults as they were afterwards."""
    before = rds_admin("GET", "faults")

    def set_(**changes: dict[str, Any]) -> None:
        rds_admin("POST", "faults/reset")
        rds_admin("POST", "faults", changes)

    try:
        yield set_
    finally:
        rds_admin("POST", "faults/reset")
        rds_admin("POST", "faults", before)


def _new_slow_logging_instance(suffix: str) -> str:
    """A new instance in a MySQL cluster whose instances write the slow log (an instance's own
    parameter group may still turn it off: then the next cluster)."""
    clusters = sorted({i["cluster_id"] for i in rds_admin("GET", "fleet")["instances"]
                       if i["engine"] == "aurora-mysql" and i["status"] == "available"
                       and "slowquery" in i["log_types"]})  # fmt: skip
    for cid in clusters:
        iid = f"{cid}-{suffix}"
        made = rds_admin("POST", "fleet/instances",
                         {"cluster_id": cid, "instance_id": iid, "activity": 0.02})  # fmt: skip
        if "slowquery" in made["log_types"]:
            return iid
        rds_admin("DELETE", f"fleet/instances/{iid}")
    raise AssertionError("no MySQL cluster gives a new instance the slow log")


@pytest.fixture(scope="module")
def big_instance(stack_env: dict[str, str]) -> Iterator[str]:
    """A MySQL instance of this module's own whose live slow log is grown past 1 MiB (so pages
    of 10000 lines get cut at 1 MiB) with entries of these tests."""
    clear_of_the_hour()  # the live file must stay live, and big, through the module
    iid = _new_slow_logging_instance(uuid.uuid4().hex[:8])
    try:
        now = datetime.now(UTC)
        text = ENTRY.format(t=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), ts=int(now.timestamp()),
                            pad="x" * 2000)  # fmt: skip
        rds_admin("POST", f"fleet/instances/{iid}/append",
                  {"log_type": "slowquery", "text": text, "repeat": 520})  # fmt: skip
        yield iid
    finally:
        rds_admin("DELETE", f"fleet/instances/{iid}")


@pytest.fixture
async def big_active(world: World, big_instance: str) -> LogFileMessage:
    """The big live slow log as this test's own generation (its events are this test's)."""
    found = await world.rds.describe_db_instances(DBInstanceIdentifier=big_instance)
    return await active_message(world, world.rds, found["DBInstances"][0], SLOW)


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_each_rds_fault_is_survived_by_the_file_worker(
    world: World, faults: Any, big_active: LogFileMessage, fault: str
) -> None:
    settings, reads = FAULTS[fault]
    faults(**{fault: {"enabled": True, **settings}})
    # The complete download on a MySQL file, portions only on a PostgreSQL one (whose pages
    # are the biggest of the rotated files).
    files = {
        "rotated": ("aurora-mysql", "slowquery", True),
        "rotated_portions": ("aurora-postgresql", "postgresql", False),
    }
    for read, (engine, log_type, complete) in files.items():
        if read not in reads:
            continue
        (msg,) = await rotated_messages(world, engine, (log_type,))
        truth = world.truth(msg.instance_id, msg.log_file_name)
        result = await survive(world.worker("p1", complete_download=complete), msg)
        assert result.outcome == "complete", (read, msg.log_file_name)
        assert result.shipped_offset == result.archived_offset == len(truth)
        assert result.complete_file_calls >= (1 if complete else 0)
        assert await archived(world, msg) == truth, (read, msg.log_file_name)
        shipped_once(world, msg, truth)
    if "active" in reads:
        msg = big_active
        result = await survive(world.worker("p1"), msg)
        assert result.outcome == "caught_up", result
        truth = world.truth(msg.instance_id, msg.log_file_name)
        # Everything but the last entry, which may still grow (its size is the generator's).
        assert len(truth) > 1 << 20 and result.shipped_offset == truth.rindex(b"# Time: ")
        shipped_once(world, msg, truth[: result.shipped_offset])


async def test_binary_data_rotated_reads_on_with_the_complete_download(
    world: World, faults: Any, big_active: LogFileMessage
) -> None:
    """Portions refuse every page after the first: a rotated file read with portions only gets
    the rest from the REST download (from where portions stopped); an active one is left to its
    rotation (its rotated file's complete download reads on from the checkpoint)."""
    (msg,) = await rotated_messages(world, "aurora-mysql", ("slowquery",))
    refuse = {"enabled": True, "file_contains": "slowquery", "offset_start": 1}
    faults(binary_data={**refuse, "instance": msg.instance_id})
    truth = world.truth(msg.instance_id, msg.log_file_name)
    result = await world.worker("p1", complete_download=False).handle(msg)
    assert (result.outcome, result.complete_file_calls) == ("complete", 1)
    assert result.shipped_offset == result.archived_offset == len(truth)
    assert await archived(world, msg) == truth
    shipped_once(world, msg, truth)

    active = big_active
    faults(binary_data={**refuse, "instance": active.instance_id})
    followed = await world.worker("p1").handle(active)
    live = world.truth(active.instance_id, active.log_file_name)
    assert followed.outcome == "waiting_rotation"
    assert 0 < followed.shipped_offset < len(live) - 100_000  # the first page only
    shipped_once(world, active, live[: followed.shipped_offset])


async def test_gzip_postgresql_files_are_read_as_their_text(world: World, faults: Any) -> None:
    """Aurora gzips old PostgreSQL files: listed as `….gz`, downloaded whole as gzip bytes (while
    portions serve the text). Offsets are text offsets, so the archive holds the text."""
    faults(gzip_old_postgres={"enabled": True, "min_age_sec": 0})
    (msg,) = await rotated_messages(world, "aurora-postgresql", ("postgresql",))
    assert msg.log_file_name.endswith(".gz")
    truth = world.truth(msg.instance_id, msg.log_file_name[:-3])
    for complete in (True, False):
        mine = msg.model_copy(update={"generation": f"{msg.generation}#{complete}"})
        result = await world.worker("p1", complete_download=complete).handle(mine)
        assert result.outcome == "complete"
        assert result.shipped_offset == result.archived_offset == len(truth)
        assert await archived(world, mine) == truth
        shipped_once(world, mine, truth)


def test_the_staging_error_log_is_never_announced() -> None:
    """`error_log_staging_size` lists `error/mysql-error.log` with bytes it never serves: it has
    no log type, so discovery never announces it and the processor never reads it."""
    assert log_type_of("aurora-mysql", "error/mysql-error.log") is None


async def test_a_rotated_general_log_lands_byte_for_byte_and_once(world: World) -> None:
    """The general log is not followed while active (FOLLOW_ACTIVE): its rotated file is read
    whole. Error, slowquery and postgresql: test_file_worker.py; audit (rotated at 100 MB on the
    session's emulator): test_active_rotation.py, on an emulator that rotates it small."""
    (msg,) = await rotated_messages(world, "aurora-mysql", ("general",))
    truth = world.truth(msg.instance_id, msg.log_file_name)
    result = await world.worker("p1").handle(msg)
    assert (result.outcome, result.complete_file_calls) == ("complete", 1)
    assert result.shipped_offset == result.archived_offset == len(truth)
    assert await archived(world, msg) == truth
    shipped_once(world, msg, truth)
