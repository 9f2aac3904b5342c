"""Round-2 behaviours of the emulator as a client that trusts the API sees them: tail mode over
1 MB (3), answers without AdditionalDataPending (3), the truncated page's marker one byte past
the cut (4), files the system does not follow and the staging error log (5), the number of
audit files (6), and the named fault profiles (10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.credentials import Credentials

from common.log_files import log_type_of
from devstack.rds.config import parse_args
from devstack.rds.faults import PROFILES
from devstack.rds.store import audit_file_count
from devstack.stack import _rds
from processor.download import stream_complete_file
from processor.download.portions import marker_offset
from tests.rds_emulator.conftest import (
    KEY,
    REGION,
    SECRET,
    TRUNCATED,
    Busy,
    RdsServer,
    listed_names,
    read_with_markers,
)

FOREIGN = {"external/mysql-external.log", "upgrade-prechecks.log", "iam-db-auth-error.log",
           "instance.log"}  # fmt: skip


async def _big_pg(client: Any, pg: str) -> tuple[str, int]:
    files = (await client.describe_db_log_files(DBInstanceIdentifier=pg))["DescribeDBLogFiles"]
    big = max(files, key=lambda f: f["Size"])
    assert big["Size"] > 1_100_000
    return str(big["LogFileName"]), int(big["Size"])


async def _complete(rds: RdsServer, instance: str, name: str) -> bytes:
    async with httpx.AsyncClient(timeout=60) as http:
        chunks = [c async for c in stream_complete_file(
            http, rds.url, Credentials(KEY, SECRET), REGION, instance, name)]  # fmt: skip
    return b"".join(chunks)


async def test_tail_mode_over_one_mb_answers_pending(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    name, _ = await _big_pg(client, busy.pg)
    truth = rds.truth(busy.pg, name)
    page = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.pg, LogFileName=name, NumberOfLines=10000
    )
    data = page["LogFileData"].encode()
    assert page["AdditionalDataPending"] is True
    assert len(data) <= 1024 * 1024 and data.endswith(b"\n")
    after = marker_offset(page["Marker"])
    assert after is not None
    start = after - len(data)
    assert truth[start:].count(b"\n") == 10000 and truth[start:after] == data
    rest = []
    while page["AdditionalDataPending"]:
        page = await client.download_db_log_file_portion(
            DBInstanceIdentifier=busy.pg, LogFileName=name, Marker=page["Marker"]
        )
        rest.append(page.get("LogFileData", "").encode())
    assert data + b"".join(rest) == truth[start:]


async def test_answers_without_additional_data_pending(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    rds.faults(pending_omitted={"enabled": True, "rate": 1.0})
    page = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.mysql, LogFileName="general/mysql-general.log", Marker="0",
        NumberOfLines=10,
    )  # fmt: skip
    assert "AdditionalDataPending" not in page and page["LogFileData"]
    async with httpx.AsyncClient(timeout=60) as http:
        raw = await http.post(rds.url + "/", data={
            "Action": "DownloadDBLogFilePortion", "Version": "2014-10-31", "Marker": "0",
            "DBInstanceIdentifier": busy.mysql, "LogFileName": "general/mysql-general.log"})  # fmt: skip
    assert raw.status_code == 200 and b"AdditionalDataPending" not in raw.content


@pytest.mark.parametrize("off_by_one", [False, True])
async def test_truncated_page_marker_can_be_one_byte_past_the_cut(
    rds: RdsServer, busy: Busy, client: Any, off_by_one: bool
) -> None:
    name, _ = await _big_pg(client, busy.pg)
    rds.faults(truncation_marker_off_by_one={"enabled": off_by_one, "rate": 1.0})
    page = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.pg, LogFileName=name, Marker="0", NumberOfLines=10000
    )
    cut = page["LogFileData"].encode()
    assert cut.endswith(TRUNCATED.encode())
    cut = cut[: -len(TRUNCATED)]
    assert marker_offset(page["Marker"]) == len(cut) + off_by_one
    # A client that follows that marker loses exactly the byte after the cut.
    nxt = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.pg, LogFileName=name, Marker=page["Marker"], NumberOfLines=1
    )
    truth = rds.truth(busy.pg, name)
    assert truth[len(cut) + off_by_one :].startswith(nxt["LogFileData"].encode())


async def test_files_the_system_does_not_follow_are_listed(rds: RdsServer, client: Any) -> None:
    seen: dict[str, str] = {}  # name: an instance that lists it
    engines: dict[str, set[str]] = {}
    fleet = {i["instance_id"]: i["engine"] for i in rds.admin("GET", "fleet")["instances"]}
    for instance in rds.instances():
        for name in await listed_names(client, instance):
            if log_type_of(fleet[instance], name) is None:
                seen.setdefault(name, instance)
                engines.setdefault(name, set()).add(fleet[instance])
    assert set(seen) >= FOREIGN | {"error/mysql-error.log"}
    assert engines["instance.log"] == engines["iam-db-auth-error.log"] == {
        "aurora-mysql", "aurora-postgresql"}  # fmt: skip
    for name in FOREIGN:
        instance = seen[name]
        truth = rds.truth(instance, name)
        assert truth and await read_with_markers(client, instance, name) == truth
        assert await _complete(rds, instance, name) == truth


async def test_staging_error_log_is_listed_with_bytes_and_downloads_empty(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    name = "error/mysql-error.log"
    rds.faults(error_log_staging_size={"enabled": True, "rate": 1.0})
    listed = await client.describe_db_log_files(DBInstanceIdentifier=busy.mysql,
                                                FilenameContains="mysql-error.log")  # fmt: skip
    sizes = {f["LogFileName"]: f["Size"] for f in listed["DescribeDBLogFiles"]}
    assert sizes[name] > 0
    page = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.mysql, LogFileName=name, Marker="0"
    )
    assert "LogFileData" not in page and page["AdditionalDataPending"] is False
    assert await _complete(rds, busy.mysql, name) == b"" == rds.truth(busy.mysql, name)
    rds.faults(error_log_staging_size={"enabled": False})
    listed = await client.describe_db_log_files(DBInstanceIdentifier=busy.mysql,
                                                FilenameContains="mysql-error.log")  # fmt: skip
    assert {f["LogFileName"]: f["Size"] for f in listed["DescribeDBLogFiles"]}[name] == 0


async def test_audit_file_count_follows_instance_size(rds: RdsServer, client: Any) -> None:
    classes = {
        i["DBInstanceIdentifier"]: i["DBInstanceClass"]
        for i in (await client.describe_db_instances())["DBInstances"]
    }
    counts = set()
    for instance in rds.instances("aurora-mysql"):
        audit = [n for n in await listed_names(client, instance) if n.startswith("audit/")]
        first_set = {n.split(".")[2] for n in audit if n.endswith(".0")}
        assert len(first_set) == audit_file_count(classes[instance]), (instance, audit)
        counts.add(len(first_set))
    assert len(counts) >= 2  # not always four


def test_named_profiles(rds: RdsServer) -> None:
    state = rds.admin("POST", "faults/profile", {"name": "realistic"})
    assert state["profile"] == "realistic"
    on = {n for n, f in state["faults"].items() if f["enabled"]}
    assert on == set(PROFILES["realistic"])
    assert all(0 < f["rate"] <= 0.5 for n, f in state["faults"].items() if n in on and "rate" in f)
    assert rds.admin("POST", "faults/reset")["overlap"]["enabled"] is False
    assert rds.admin("GET", "faults/profile")["profile"] == "happy"
    bad = httpx.post(f"{rds.url}/_admin/faults/profile", json={"name": "chaos"})
    assert bad.status_code == 400 and "unknown profile" in bad.json()["error"]


def test_the_stack_and_the_emulator_default_to_realistic() -> None:
    argv = _rds(1234, Path("/tmp/x"))
    assert argv[argv.index("--profile") + 1] == "realistic"
    assert parse_args([]).profile == "realistic"
    # DEVSTACK_RDS_ARGS="--profile happy" is appended after the stack's own arguments.
    assert parse_args([*argv[3:], "--profile", "happy"]).profile == "happy"
