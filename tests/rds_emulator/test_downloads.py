"""Reading files back: the marker loop and the complete download rebuild the ground truth byte for
byte; tail mode, empty files, rotation under a marker, and SigV4 on the REST download."""

from __future__ import annotations

import gzip
from typing import Any

import aiohttp
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.rds_emulator.conftest import (
    KEY,
    REGION,
    SECRET,
    TRUNCATED,
    Busy,
    RdsServer,
    read_with_markers,
)

MYSQL_FILES = [
    "slowquery/mysql-slowquery.log",
    "general/mysql-general.log",
    "error/mysql-error-running.log",
]


@pytest.mark.parametrize("name", MYSQL_FILES)
@pytest.mark.parametrize("lines", [None, 333])
async def test_marker_loop_rebuilds_active_files(
    rds: RdsServer, busy: Busy, client: Any, name: str, lines: int | None
) -> None:
    got = await read_with_markers(client, busy.mysql, name, lines)
    truth = rds.truth(busy.mysql, name)
    assert len(truth) > 50_000
    assert got == truth


async def test_marker_loop_rebuilds_rotated_audit_and_postgres(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    files = (await client.describe_db_log_files(DBInstanceIdentifier=busy.mysql))[
        "DescribeDBLogFiles"
    ]
    audit = [f["LogFileName"] for f in files if f["LogFileName"].startswith("audit/")]
    assert len(audit) >= 2
    for name in audit[:4]:
        assert await read_with_markers(client, busy.mysql, name) == rds.truth(busy.mysql, name)
    pg_files = (await client.describe_db_log_files(DBInstanceIdentifier=busy.pg))[
        "DescribeDBLogFiles"
    ]
    pg = [f["LogFileName"] for f in pg_files]
    assert all(n.startswith("error/postgresql.log.") for n in pg) and len(pg) >= 2
    for name in pg:
        assert await read_with_markers(client, busy.pg, name) == rds.truth(busy.pg, name)


async def test_large_pages_are_truncated_at_one_mib(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    files = (await client.describe_db_log_files(DBInstanceIdentifier=busy.pg))["DescribeDBLogFiles"]
    big = max(files, key=lambda f: f["Size"])
    assert big["Size"] > 1_100_000
    page = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.pg, LogFileName=big["LogFileName"], Marker="0",
        NumberOfLines=10000,
    )  # fmt: skip
    data = page["LogFileData"]
    assert data.endswith(TRUNCATED)
    assert len(data[: -len(TRUNCATED)].encode()) <= 1024 * 1024
    assert page["AdditionalDataPending"] is True
    assert page["Marker"].endswith(f":{len(data[: -len(TRUNCATED)].encode())}")


async def test_paginator_concatenates_to_the_file(rds: RdsServer, busy: Busy, client: Any) -> None:
    name = "error/mysql-error-running.log"
    pages = client.get_paginator("download_db_log_file_portion").paginate(
        DBInstanceIdentifier=busy.mysql, LogFileName=name,
        PaginationConfig={"StartingToken": "0", "PageSize": 200},
    )  # fmt: skip
    got = "".join([p.get("LogFileData", "") async for p in pages])
    assert got.encode() == rds.truth(busy.mysql, name)


async def test_tail_mode_returns_the_last_lines(rds: RdsServer, busy: Busy, client: Any) -> None:
    name = "general/mysql-general.log"
    truth = rds.truth(busy.mysql, name)
    page = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.mysql, LogFileName=name, NumberOfLines=5
    )
    assert page["LogFileData"].encode() == b"\n".join(truth.split(b"\n")[-6:])
    assert page["AdditionalDataPending"] is False
    assert page["Marker"].endswith(f":{len(truth)}")


async def test_empty_file_has_no_log_file_data(busy: Busy, client: Any) -> None:
    page = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.mysql, LogFileName="error/mysql-error.log", Marker="0"
    )
    assert "LogFileData" not in page
    assert page["AdditionalDataPending"] is False


async def _signed_get(url: str, secret: str = SECRET, presign: bool = False) -> tuple[int, bytes]:
    creds = Credentials(KEY, secret)
    req = AWSRequest(method="GET", url=url)
    if presign:
        SigV4QueryAuth(creds, "rds", REGION, expires=3600).add_auth(req)
    else:
        SigV4Auth(creds, "rds", REGION).add_auth(req)
    headers = {k: v for k, v in req.headers.items() if k.lower() != "host"}
    async with aiohttp.ClientSession() as s, s.get(req.url, headers=headers) as resp:
        return resp.status, await resp.read()


def _complete_url(rds: RdsServer, instance: str, name: str) -> str:
    return f"{rds.url}/v19/downloadCompleteLogFile/{instance}/{name}"


@pytest.mark.parametrize("presign", [False, True])
async def test_complete_download_equals_the_file(rds: RdsServer, busy: Busy, presign: bool) -> None:
    audit = next(f["name"] for f in rds.truth_files(busy.mysql) if f["log_type"] == "audit")
    for name in ("slowquery/mysql-slowquery.log", audit):
        status, body = await _signed_get(_complete_url(rds, busy.mysql, name), presign=presign)
        assert status == 200
        assert body == rds.truth(busy.mysql, name)


async def test_complete_download_rejects_bad_signatures(rds: RdsServer, busy: Busy) -> None:
    url = _complete_url(rds, busy.mysql, "slowquery/mysql-slowquery.log")
    status, _ = await _signed_get(url, secret="wrong-secret")
    assert status == 403
    async with aiohttp.ClientSession() as s, s.get(url) as resp:
        assert resp.status == 403
        assert b"<Code>SignatureDoesNotMatch</Code>" in await resp.read()
    status, body = await _signed_get(_complete_url(rds, "no-such-db", "x"))
    assert status == 404 and b"DBInstanceNotFound" in body


async def test_gzip_fault_serves_text_by_portion_and_gzip_complete(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    rds.faults(gzip_old_postgres={"enabled": True, "min_age_sec": 0})
    files = (await client.describe_db_log_files(DBInstanceIdentifier=busy.pg))["DescribeDBLogFiles"]
    gz = [f for f in files if f["LogFileName"].endswith(".gz")]
    assert gz
    one = gz[0]
    text = await read_with_markers(client, busy.pg, one["LogFileName"])
    assert len(text) > one["Size"]
    status, body = await _signed_get(_complete_url(rds, busy.pg, one["LogFileName"]))
    assert status == 200 and len(body) == one["Size"]
    assert gzip.decompress(body) == text == rds.truth(busy.pg, one["LogFileName"][:-3])
