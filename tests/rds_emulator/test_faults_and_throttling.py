"""Throttling as botocore sees it, and every fault mode switched on and off at run time, with the
failure each one causes in a client that trusts the API."""

from __future__ import annotations

from typing import Any

import pytest
from aiobotocore.session import get_session
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.rds_emulator.conftest import (
    KEY,
    REGION,
    SECRET,
    TRUNCATED,
    Busy,
    RdsServer,
    client_config,
    read_with_markers,
)

SLOW = "slowquery/mysql-slowquery.log"


@pytest.mark.parametrize("code", ["Throttling", "ThrottlingException"])
async def test_throttling_after_the_burst(rds: RdsServer, client: Any, code: str) -> None:
    rds.admin("POST", "throttle", {"enabled": True, "burst": 5, "rate": 0.001, "code": code})
    rds.admin("POST", "stats/reset")
    for _ in range(5):
        await client.describe_db_clusters(MaxRecords=20)
    with pytest.raises(ClientError) as info:
        await client.describe_db_clusters(MaxRecords=20)
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["Error"]["Message"] == "Rate exceeded"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    stats = rds.admin("GET", "stats")
    assert stats["throttled"] == {"DescribeDBClusters": 1}
    assert stats["calls"]["DescribeDBClusters"] == 6


async def test_throttling_per_operation(rds: RdsServer, client: Any) -> None:
    rds.admin(
        "POST", "throttle",
        {"enabled": True, "burst": 1000, "rate": 10,
         "operations": {"DescribeDBInstances": {"burst": 2, "rate": 0.001}}},
    )  # fmt: skip
    for _ in range(2):
        await client.describe_db_instances(MaxRecords=20)
    with pytest.raises(ClientError) as info:
        await client.describe_db_instances(MaxRecords=20)
    assert info.value.response["Error"]["Code"] == "Throttling"
    for _ in range(5):
        await client.describe_db_clusters(MaxRecords=20)


async def test_legacy_retries_see_throttling_as_retryable(rds: RdsServer, client: Any) -> None:
    rds.admin("POST", "throttle", {"enabled": True, "burst": 0, "rate": 0.001})
    rds.admin("POST", "stats/reset")
    async with get_session().create_client(
        "rds", region_name=REGION, endpoint_url=rds.url, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=client_config(retries={"total_max_attempts": 3, "mode": "legacy"}),
    ) as c:  # fmt: skip
        with pytest.raises(ClientError) as info:
            await c.describe_db_clusters(MaxRecords=20)
    assert info.value.response["Error"]["Code"] == "Throttling"
    assert rds.admin("GET", "stats")["throttled"]["DescribeDBClusters"] == 3


async def test_latency_fault(rds: RdsServer, busy: Busy) -> None:
    rds.faults(latency={"enabled": True, "ms": 5000, "operations": ["DescribeDBClusters"]})
    async with get_session().create_client(
        "rds", region_name=REGION, endpoint_url=rds.url, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, config=client_config(read_timeout=0.5),
    ) as c:  # fmt: skip
        await c.describe_db_instances(MaxRecords=20)
        with pytest.raises(ReadTimeoutError):
            await c.describe_db_clusters(MaxRecords=20)
        rds.faults(latency={"enabled": False})
        await c.describe_db_clusters(MaxRecords=20)


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalFailure"), (503, "ServiceUnavailable")]
)
async def test_server_error_fault(rds: RdsServer, client: Any, status: int, code: str) -> None:
    rds.faults(server_error={"enabled": True, "status": status, "rate": 1.0})
    with pytest.raises(ClientError) as info:
        await client.describe_db_clusters(MaxRecords=20)
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    rds.faults(server_error={"enabled": False})
    await client.describe_db_clusters(MaxRecords=20)


async def test_pending_false_after_truncation_stops_a_trusting_loop(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    files = (await client.describe_db_log_files(DBInstanceIdentifier=busy.pg))["DescribeDBLogFiles"]
    name = max(files, key=lambda f: f["Size"])["LogFileName"]
    truth = rds.truth(busy.pg, name)
    rds.faults(pending_false_after_truncation={"enabled": True})
    page = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.pg, LogFileName=name, Marker="0", NumberOfLines=10000
    )
    assert page["LogFileData"].endswith(TRUNCATED)
    assert page["AdditionalDataPending"] is False
    got = await read_with_markers(client, busy.pg, name)
    assert len(got) < len(truth) and truth.startswith(got)
    rds.faults(pending_false_after_truncation={"enabled": False})
    assert await read_with_markers(client, busy.pg, name) == truth


async def test_overlap_fault_duplicates_bytes_at_page_boundaries(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    truth = rds.truth(busy.mysql, SLOW)
    rds.faults(overlap={"enabled": True, "bytes": 3500})
    got = await read_with_markers(client, busy.mysql, SLOW, lines=2000)
    assert len(got) > len(truth)
    assert (len(got) - len(truth)) % 3500 == 0
    rds.faults(overlap={"enabled": False})
    assert await read_with_markers(client, busy.mysql, SLOW, lines=2000) == truth


async def test_not_found_during_rotation_fault(rds: RdsServer, busy: Busy, client: Any) -> None:
    rds.faults(not_found_during_rotation={"enabled": True, "window_sec": 3600})
    with pytest.raises(ClientError) as info:
        await client.download_db_log_file_portion(
            DBInstanceIdentifier=busy.mysql, LogFileName=SLOW, Marker="0"
        )
    assert info.value.response["Error"]["Code"] == "DBLogFileNotFoundFault"
    listed = await client.describe_db_log_files(DBInstanceIdentifier=busy.mysql)
    assert SLOW not in {f["LogFileName"] for f in listed["DescribeDBLogFiles"]}
    rds.faults(not_found_during_rotation={"enabled": False})
    await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.mysql, LogFileName=SLOW, Marker="0"
    )


async def test_binary_data_fault(rds: RdsServer, busy: Busy, client: Any) -> None:
    rds.faults(binary_data={"enabled": True, "instance": busy.mysql, "file_contains": "general/",
                            "offset_start": 0, "offset_end": 1000})  # fmt: skip
    with pytest.raises(ClientError) as info:
        await client.download_db_log_file_portion(
            DBInstanceIdentifier=busy.mysql, LogFileName="general/mysql-general.log", Marker="0"
        )
    assert info.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "binary data" in info.value.response["Error"]["Message"]
    tail = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.mysql, LogFileName="general/mysql-general.log", NumberOfLines=1
    )
    segment = tail["Marker"].split(":")[0]
    page = await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.mysql, LogFileName="general/mysql-general.log",
        Marker=f"{segment}:1000", NumberOfLines=10,
    )  # fmt: skip
    assert page["LogFileData"]
    await client.download_db_log_file_portion(
        DBInstanceIdentifier=busy.mysql, LogFileName=SLOW, Marker="0", NumberOfLines=10
    )


async def test_size_mismatch_fault(rds: RdsServer, busy: Busy, client: Any) -> None:
    rds.faults(size_mismatch={"enabled": True, "delta": 241, "log_types": ["slowquery"]})
    files = (await client.describe_db_log_files(DBInstanceIdentifier=busy.mysql))[
        "DescribeDBLogFiles"
    ]
    sizes = {f["LogFileName"]: f["Size"] for f in files}
    assert sizes[SLOW] == len(rds.truth(busy.mysql, SLOW)) + 241
    general = "general/mysql-general.log"
    assert sizes[general] == len(rds.truth(busy.mysql, general))


def test_fault_admin_rejects_unknown_names(rds: RdsServer) -> None:
    import httpx

    resp = httpx.post(f"{rds.url}/_admin/faults", json={"meteor_strike": {"enabled": True}})
    assert resp.status_code == 400 and "unknown fault" in resp.json()["error"]
    resp = httpx.post(f"{rds.url}/_admin/faults", json={"overlap": {"colour": 1}})
    assert resp.status_code == 400
    state = rds.admin("GET", "faults")
    assert not any(f["enabled"] for f in state.values())
