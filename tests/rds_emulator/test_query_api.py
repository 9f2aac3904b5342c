"""The query protocol through real aiobotocore clients: pagination, filters, and every error
parsed by botocore into the right code."""

from __future__ import annotations

from typing import Any

import botocore.parsers
import httpx
import pytest
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from tests.rds_emulator.conftest import KEY, REGION, SECRET, Busy, RdsServer, client_config


async def test_describe_instances_pages_through_the_fleet(rds: RdsServer, client: Any) -> None:
    pages = client.get_paginator("describe_db_instances").paginate(
        PaginationConfig={"PageSize": 20}
    )
    ids, count = [], 0
    async for page in pages:
        count += 1
        ids += [i["DBInstanceIdentifier"] for i in page["DBInstances"]]
    fleet = [i["instance_id"] for i in rds.admin("GET", "fleet")["instances"]]
    assert ids == sorted(fleet)
    assert count == -(-len(fleet) // 20)


async def test_describe_instances_filters(rds: RdsServer, client: Any) -> None:
    resp = await client.describe_db_instances(
        Filters=[{"Name": "engine", "Values": ["aurora-postgresql"]}]
    )
    engines = {i["Engine"] for i in resp["DBInstances"]}
    assert engines == {"aurora-postgresql"}
    one = resp["DBInstances"][0]
    assert one["TagList"] and one["EngineVersion"] and one["DbiResourceId"].startswith("db-")
    by_cluster = await client.describe_db_instances(
        Filters=[{"Name": "db-cluster-id", "Values": [one["DBClusterIdentifier"]]}]
    )
    assert {i["DBClusterIdentifier"] for i in by_cluster["DBInstances"]} == {
        one["DBClusterIdentifier"]
    }


async def test_describe_clusters_members_match_instances(rds: RdsServer, client: Any) -> None:
    clusters = []
    async for page in client.get_paginator("describe_db_clusters").paginate(
        PaginationConfig={"PageSize": 20}
    ):
        clusters += page["DBClusters"]
    members = {m["DBInstanceIdentifier"] for c in clusters for m in c["DBClusterMembers"]}
    assert members == {i["instance_id"] for i in rds.admin("GET", "fleet")["instances"]}
    for c in clusters:
        assert sum(m["IsClusterWriter"] for m in c["DBClusterMembers"]) == 1
        assert c["Engine"] in ("aurora-mysql", "aurora-postgresql")
        assert c["EnabledCloudwatchLogsExports"]


async def test_describe_log_files_pages_and_filters(busy: Busy, client: Any) -> None:
    whole = await client.describe_db_log_files(DBInstanceIdentifier=busy.mysql)
    names = [f["LogFileName"] for f in whole["DescribeDBLogFiles"]]
    assert names == sorted(names)
    assert "error/mysql-error-running.log" in names and "slowquery/mysql-slowquery.log" in names
    assert any(n.startswith("audit/audit.log.3.") for n in names)
    paged = []
    async for page in client.get_paginator("describe_db_log_files").paginate(
        DBInstanceIdentifier=busy.mysql, PaginationConfig={"PageSize": 3}
    ):
        assert len(page["DescribeDBLogFiles"]) <= 3
        paged += page["DescribeDBLogFiles"]
    assert paged == whole["DescribeDBLogFiles"]
    slow = await client.describe_db_log_files(
        DBInstanceIdentifier=busy.mysql, FilenameContains="slowquery"
    )
    assert {f["LogFileName"] for f in slow["DescribeDBLogFiles"]} == {
        n for n in names if "slowquery" in n
    }
    newest = max(f["LastWritten"] for f in whole["DescribeDBLogFiles"])
    recent = await client.describe_db_log_files(
        DBInstanceIdentifier=busy.mysql, FileLastWritten=newest
    )
    assert recent["DescribeDBLogFiles"]
    assert all(f["LastWritten"] >= newest for f in recent["DescribeDBLogFiles"])
    big = await client.describe_db_log_files(DBInstanceIdentifier=busy.mysql, FileSize=100_000)
    assert all(f["Size"] > 100_000 for f in big["DescribeDBLogFiles"])
    errors = [f for f in whole["DescribeDBLogFiles"] if f["LogFileName"].startswith("error/")]
    assert all(f["LastWritten"] % 300_000 == 0 for f in errors)


ERROR_CASES = [
    ("describe_db_log_files", {"DBInstanceIdentifier": "no-such-db"}, "DBInstanceNotFound", 404),
    (
        "download_db_log_file_portion",
        {"DBInstanceIdentifier": "no-such-db", "LogFileName": "x", "Marker": "0"},
        "DBInstanceNotFound",
        404,
    ),
    ("describe_db_clusters", {"DBClusterIdentifier": "nope"}, "DBClusterNotFoundFault", 404),
    ("describe_db_instances", {"DBInstanceIdentifier": "nope"}, "DBInstanceNotFound", 404),
    ("describe_db_instances", {"MaxRecords": 5}, "InvalidParameterValue", 400),
    ("describe_db_instances", {"Marker": "!!!"}, "InvalidParameterValue", 400),
    (
        "describe_db_instances",
        {"Filters": [{"Name": "colour", "Values": ["blue"]}]},
        "InvalidParameterValue",
        400,
    ),
]


@pytest.mark.parametrize(("method", "kwargs", "code", "status"), ERROR_CASES)
async def test_errors_are_parsed_by_botocore(
    client: Any, method: str, kwargs: dict[str, Any], code: str, status: int
) -> None:
    with pytest.raises(ClientError) as info:
        await getattr(client, method)(**kwargs)
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert info.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("name", "marker", "code"),
    [
        ("slowquery/mysql-slowquery.log.1999-01-01.1", "0", "DBLogFileNotFoundFault"),
        ("slowquery/mysql-slowquery.log", "not-a-marker", "InvalidParameterValue"),
        ("slowquery/mysql-slowquery.log", "12:-5", "InvalidParameterValue"),
    ],
)
async def test_portion_errors(busy: Busy, client: Any, name: str, marker: str, code: str) -> None:
    with pytest.raises(ClientError) as info:
        await client.download_db_log_file_portion(
            DBInstanceIdentifier=busy.mysql, LogFileName=name, Marker=marker
        )
    assert info.value.response["Error"]["Code"] == code


async def test_cluster_id_is_not_an_instance(rds: RdsServer, client: Any) -> None:
    cluster = (await client.describe_db_clusters())["DBClusters"][0]["DBClusterIdentifier"]
    with pytest.raises(ClientError) as info:
        await client.describe_db_log_files(DBInstanceIdentifier=cluster)
    assert info.value.response["Error"]["Code"] == "DBInstanceNotFound"


async def test_stopped_instance_is_not_ready(rds: RdsServer, client: Any) -> None:
    stopped = rds.instances(status="stopped")[0]
    with pytest.raises(ClientError) as info:
        await client.describe_db_log_files(DBInstanceIdentifier=stopped)
    # Default answer for a stopped cluster's members (devstack/rds/README.md, Lifecycle).
    assert info.value.response["Error"]["Code"] == "InvalidDBInstanceState"


async def test_missing_parameter_without_client_side_validation(rds: RdsServer) -> None:
    async with get_session().create_client(
        "rds", region_name=REGION, endpoint_url=rds.url, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, config=client_config(parameter_validation=False),
    ) as c:  # fmt: skip
        with pytest.raises(ClientError) as info:
            await c.describe_db_log_files()
    assert info.value.response["Error"]["Code"] == "MissingParameter"
    assert "DBInstanceIdentifier" in info.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"Action": "LaunchRockets", "Version": "2014-10-31"}, "InvalidAction"),
        ({"Version": "2014-10-31"}, "MissingAction"),
        (
            {"Action": "DownloadDBLogFilePortion", "DBInstanceIdentifier": "x",
             "LogFileName": "y", "NumberOfLines": "ten"},
            "InvalidParameterValue",
        ),
    ],
)  # fmt: skip
def test_raw_bad_requests_get_aws_errors(rds: RdsServer, form: dict[str, str], code: str) -> None:
    resp = httpx.post(rds.url + "/", data=form)
    assert resp.status_code == 400
    parsed = botocore.parsers.QueryParser().parse(
        {"body": resp.content, "headers": dict(resp.headers), "status_code": 400}, None
    )
    assert parsed["Error"]["Code"] == code
