"""The AWS CLI as an independent client, and the admin API: fleet changes, reboots, ground truth."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from processor.download import stream_complete_file
from tests.rds_emulator.conftest import KEY, REGION, SECRET, Busy, RdsServer, listed_names

AWS = str(Path(sys.executable).parent / "aws")


async def aws(rds: RdsServer, *args: str) -> str:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    proc = await asyncio.create_subprocess_exec(
        AWS, "--endpoint-url", rds.url, "rds", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_cli_lists_the_same_files(rds: RdsServer, busy: Busy, client: Any) -> None:
    out = json.loads(await aws(rds, "describe-db-log-files", "--db-instance-identifier", busy.mysql,
                               "--page-size", "4", "--output", "json"))  # fmt: skip
    mine = await client.describe_db_log_files(DBInstanceIdentifier=busy.mysql)
    assert out["DescribeDBLogFiles"] == mine["DescribeDBLogFiles"]


async def test_cli_downloads_a_file_from_marker_zero(rds: RdsServer, busy: Busy) -> None:
    name = "error/mysql-error-running.log"
    out = await aws(rds, "download-db-log-file-portion", "--db-instance-identifier", busy.mysql,
                    "--log-file-name", name, "--starting-token", "0", "--output", "text")  # fmt: skip
    truth = rds.truth(busy.mysql, name).decode()
    # The CLI's text output ends each page with a newline of its own.
    assert out.rstrip("\n") == truth.rstrip("\n")
    assert len(out) >= len(truth)


async def test_cli_pages_every_file_like_the_complete_download(
    rds: RdsServer, busy: Busy, quiet: str, client: Any
) -> None:
    """The happy profile (the autouse fixture's): the AWS CLI pages every listed file of a MySQL
    and a PostgreSQL instance to the end and agrees byte for byte with `/v19/` downloads."""
    assert rds.admin("GET", "faults/profile")["profile"] == "happy"
    creds = Credentials(KEY, SECRET)
    checked = 0
    async with httpx.AsyncClient(timeout=60) as http:
        for instance in (quiet, busy.pg):
            for name in await listed_names(client, instance):
                # The CLI prints nothing at all for a file without data (no LogFileData).
                out = json.loads(await aws(rds, "download-db-log-file-portion",
                                           "--db-instance-identifier", instance,
                                           "--log-file-name", name, "--starting-token", "0",
                                           "--page-size", "2000", "--output", "json")
                                 or "{}")  # fmt: skip
                chunks = [c async for c in stream_complete_file(
                    http, rds.url, creds, REGION, instance, name)]  # fmt: skip
                assert out.get("LogFileData", "").encode() == b"".join(chunks), name
                checked += 1
    assert checked >= 8


async def test_cli_sees_error_codes(rds: RdsServer) -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
           "AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1"}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        AWS, "--endpoint-url", rds.url, "rds", "describe-db-log-files",
        "--db-instance-identifier", "ghost", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode != 0
    assert "(DBInstanceNotFound)" in err.decode()


async def test_add_reboot_remove_instance(rds: RdsServer, client: Any) -> None:
    added = rds.admin("POST", "fleet/instances",
                      {"cluster_id": "newapp-prod-mysql-900", "engine": "aurora-mysql",
                       "instance_id": "newapp-prod-mysql-900-instance-1", "activity": 1.0})  # fmt: skip
    iid = added["instance_id"]
    found = await client.describe_db_instances(DBInstanceIdentifier=iid)
    assert found["DBInstances"][0]["DBClusterIdentifier"] == "newapp-prod-mysql-900"
    cluster = await client.describe_db_clusters(DBClusterIdentifier="newapp-prod-mysql-900")
    assert cluster["DBClusters"][0]["DBClusterMembers"][0]["IsClusterWriter"] is True

    rds.admin("POST", f"fleet/instances/{iid}/reboot", {"seconds": 30})
    status = (await client.describe_db_instances(DBInstanceIdentifier=iid))["DBInstances"][0]
    assert status["DBInstanceStatus"] == "rebooting"
    rds.admin("POST", "clock", {"advance_sec": 600})
    status = (await client.describe_db_instances(DBInstanceIdentifier=iid))["DBInstances"][0]
    assert status["DBInstanceStatus"] == "available"
    errors = b"".join(
        rds.truth(iid, f["name"]) for f in rds.truth_files(iid) if f["log_type"] == "error"
    )
    assert b"ready for connections" in errors and b"Shutdown complete" in errors

    before = {f["name"]: rds.truth(iid, f["name"]) for f in rds.truth_files(iid)}
    rds.admin("DELETE", f"fleet/instances/{iid}")
    with pytest.raises(ClientError) as info:
        await client.describe_db_log_files(DBInstanceIdentifier=iid)
    assert info.value.response["Error"]["Code"] == "DBInstanceNotFound"
    with pytest.raises(ClientError):
        await client.describe_db_clusters(DBClusterIdentifier="newapp-prod-mysql-900")
    assert {f["name"]: rds.truth(iid, f["name"]) for f in rds.truth_files(iid)} == before
    assert iid in rds.admin("GET", "ground-truth")["instances"]


def test_stats_count_calls_and_bytes(rds: RdsServer, busy: Busy) -> None:
    rds.admin("POST", "stats/reset")
    import httpx

    form = {"Action": "DownloadDBLogFilePortion", "Version": "2014-10-31",
            "DBInstanceIdentifier": busy.mysql, "LogFileName": "general/mysql-general.log",
            "Marker": "0", "NumberOfLines": "50"}  # fmt: skip
    resp = httpx.post(rds.url + "/", data=form)
    assert resp.status_code == 200
    stats = rds.admin("GET", "stats")
    assert stats["calls"] == {"DownloadDBLogFilePortion": 1}
    assert stats["callers"] == {"DownloadDBLogFilePortion": {"anonymous@us-east-1": 1}}
    served = stats["bytes"]["DownloadDBLogFilePortion"]
    assert served == len(b"\n".join(rds.truth(busy.mysql, "general/mysql-general.log")
                                    .split(b"\n")[:50])) + 1  # fmt: skip


def test_admin_rejects_bad_requests(rds: RdsServer) -> None:
    import httpx

    assert httpx.post(f"{rds.url}/_admin/clock", json={"advance_sec": -5}).status_code == 400
    assert httpx.post(f"{rds.url}/_admin/rates", json={"nope": 1}).status_code == 400
    assert httpx.post(f"{rds.url}/_admin/throttle", json={"code": "Slow"}).status_code == 400
    assert httpx.get(f"{rds.url}/_admin/ground-truth/ghost").status_code == 404
    assert httpx.delete(f"{rds.url}/_admin/fleet/instances/ghost").status_code == 404
    bad = httpx.post(f"{rds.url}/_admin/faults", content=b"{not json")
    assert bad.status_code == 400
