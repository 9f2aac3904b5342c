"""Parameter groups: DescribeDBClusterParameters / DescribeDBParameters page as botocore's model
says, share the request budget, and decide which log files exist (realistic fleet)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from common.log_files import log_type_of
from tests.rds_emulator.conftest import RdsServer, rds_client, running_emulator
from tests.rds_emulator.test_cli_and_admin import aws

DEFAULTS = {"log_output": "FILE"}  # engine defaults the logging rule reads; the rest are off


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RdsServer]:
    root = tmp_path_factory.mktemp("rds-params")
    with running_emulator(root, "--instances", "60", "--logging", "realistic") as server:
        yield server


@pytest.fixture
async def api(fleet: RdsServer) -> AsyncIterator[Any]:
    fleet.admin("POST", "throttle", {"enabled": False})
    async with rds_client(fleet) as c:
        yield c


async def _all(client: Any, op: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async for page in client.get_paginator(op).paginate(**kwargs):
        out += page[key]
    return out


async def _values(client: Any, op: str, user: bool = False, **kwargs: Any) -> dict[str, str]:
    params = await _all(client, op, "Parameters", **kwargs)
    return {
        p["ParameterName"]: p["ParameterValue"]
        for p in params
        if "ParameterValue" in p and (not user or p["Source"] == "user")
    }


async def test_cli_pages_cluster_parameters_to_the_end(fleet: RdsServer, api: Any) -> None:
    cluster = next(
        c
        for c in await _all(api, "describe_db_clusters", "DBClusters")
        if c["Engine"] == "aurora-mysql"
    )
    group = cluster["DBClusterParameterGroup"]
    fleet.admin("POST", "stats/reset")
    out = json.loads(
        await aws(
            fleet,
            "describe-db-cluster-parameters",
            "--db-cluster-parameter-group-name",
            group,
            "--page-size",
            "20",
            "--output",
            "json",
        )
    )
    names = [p["ParameterName"] for p in out["Parameters"]]
    calls = fleet.admin("GET", "stats")["calls"]["DescribeDBClusterParameters"]
    assert calls == -(-len(names) // 20) > 5  # every page asked for, 20 at a time
    assert names == sorted(set(names))
    mine = await _all(
        api, "describe_db_cluster_parameters", "Parameters", DBClusterParameterGroupName=group
    )
    assert out["Parameters"] == mine
    assert {
        "slow_query_log",
        "long_query_time",
        "log_output",
        "general_log",
        "server_audit_logging",
        "server_audit_events",
    } <= set(names)


async def test_db_parameters_marker_max_records_and_errors(fleet: RdsServer, api: Any) -> None:
    inst = next(
        i
        for i in await _all(api, "describe_db_instances", "DBInstances")
        if i["Engine"] == "aurora-postgresql"
    )
    group = inst["DBParameterGroups"][0]["DBParameterGroupName"]
    first = await api.describe_db_parameters(DBParameterGroupName=group, MaxRecords=20)
    assert len(first["Parameters"]) == 20 and first["Marker"]
    second = await api.describe_db_parameters(
        DBParameterGroupName=group, MaxRecords=20, Marker=first["Marker"]
    )
    assert second["Parameters"][0]["ParameterName"] > first["Parameters"][-1]["ParameterName"]
    whole = await api.describe_db_parameters(DBParameterGroupName=group)
    assert len(whole["Parameters"]) == 100  # the model's default MaxRecords
    for bad in (19, 101):
        with pytest.raises(ClientError) as info:
            await api.describe_db_parameters(DBParameterGroupName=group, MaxRecords=bad)
        assert info.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as info:
        await api.describe_db_cluster_parameters(DBClusterParameterGroupName="nope")
    assert info.value.response["Error"]["Code"] == "DBParameterGroupNotFound"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    one = await api.describe_db_parameters(
        DBParameterGroupName=group,
        Filters=[{"Name": "parameter-name", "Values": ["log_min_duration_statement"]}],
    )
    (param,) = one["Parameters"]
    assert param["DataType"] == "integer" and param["AllowedValues"] == "-1-2147483647"
    users = await _all(
        api,
        "describe_db_cluster_parameters",
        "Parameters",
        DBClusterParameterGroupName=f"{inst['DBClusterIdentifier']}-cluster-params",
        Source="user",
    )
    assert users and all(p["Source"] == "user" for p in users)


async def test_parameter_calls_share_the_request_budget(fleet: RdsServer, api: Any) -> None:
    group = (await api.describe_db_clusters(MaxRecords=20))["DBClusters"][0][
        "DBClusterParameterGroup"
    ]
    fleet.admin("POST", "throttle", {"enabled": True, "burst": 3, "rate": 0.001})
    try:
        await api.describe_db_instances(MaxRecords=20)
        await api.describe_db_cluster_parameters(DBClusterParameterGroupName=group)
        await api.describe_db_log_files(DBInstanceIdentifier=fleet.instances()[0])
        with pytest.raises(ClientError) as info:
            await api.describe_db_cluster_parameters(DBClusterParameterGroupName=group)
        assert info.value.response["Error"]["Code"] == "Throttling"
    finally:
        fleet.admin("POST", "throttle", {"enabled": False, "burst": 300, "rate": 12})


def _expected(engine: str, values: dict[str, str]) -> set[str]:
    if engine == "aurora-postgresql":
        return {"error"}  # PostgreSQL files live under error/
    v = {**DEFAULTS, **values}
    to_file = "FILE" in v["log_output"].split(",") and "NONE" not in v["log_output"]
    out = {"error"}
    if v.get("slow_query_log") == "1" and to_file:
        out.add("slowquery")
    if v.get("general_log") == "1" and to_file:
        out.add("general")
    if v.get("server_audit_logging") == "1":
        out.add("audit")
    return out


async def test_log_files_follow_the_logging_parameters(fleet: RdsServer, api: Any) -> None:
    clusters = {
        c["DBClusterIdentifier"]: c for c in await _all(api, "describe_db_clusters", "DBClusters")
    }
    seen: dict[str, set[str]] = {}
    lmds: list[str] = []
    for inst in await _all(api, "describe_db_instances", "DBInstances"):
        if inst["DBInstanceStatus"] != "available":
            continue
        cluster = clusters[inst["DBClusterIdentifier"]]
        values = await _values(
            api,
            "describe_db_cluster_parameters",
            DBClusterParameterGroupName=cluster["DBClusterParameterGroup"],
        )
        own = inst["DBParameterGroups"][0]["DBParameterGroupName"]
        # Values set in the DB parameter group win over the cluster group's.
        values.update(
            await _values(api, "describe_db_parameters", user=True, DBParameterGroupName=own)
        )
        iid = inst["DBInstanceIdentifier"]
        files = await _all(
            api, "describe_db_log_files", "DescribeDBLogFiles", DBInstanceIdentifier=iid
        )
        # Files the system does not follow (external/, instance.log, …) are listed too.
        followed = [f for f in files if log_type_of(inst["Engine"], f["LogFileName"])]
        dirs = {f["LogFileName"].split("/")[0] for f in followed}
        truth = {f["log_type"] for f in fleet.truth_files(iid)} - {"unfollowed"}
        assert dirs == _expected(inst["Engine"], values), iid
        if inst["Engine"] == "aurora-mysql":
            assert truth == dirs, iid
            seen[iid] = dirs
        else:
            lmds.append(values.get("log_min_duration_statement", "-1"))
    neither = [i for i, d in seen.items() if not {"general", "audit"} & d]
    assert len(neither) > len(seen) / 2  # most MySQL instances: neither general nor audit
    assert any("slowquery" not in d for d in seen.values())
    assert any("audit" in d for d in seen.values())
    assert "-1" in lmds and len(set(lmds)) > 2


async def test_turning_the_general_log_on_adds_its_files(fleet: RdsServer, api: Any) -> None:
    inst = next(
        i
        for i in fleet.admin("GET", "fleet")["instances"]
        if i["engine"] == "aurora-mysql"
        and i["status"] == "available"
        and "slowquery" in i["log_types"]
        and "general" not in i["log_types"]
    )
    iid = inst["instance_id"]
    before = await api.describe_db_log_files(DBInstanceIdentifier=iid)
    assert not any(f["LogFileName"].startswith("general/") for f in before["DescribeDBLogFiles"])
    (desc,) = (await api.describe_db_clusters(DBClusterIdentifier=inst["cluster_id"]))["DBClusters"]
    group = desc["DBClusterParameterGroup"]
    t0 = fleet.admin("GET", "clock")["now"]
    changed = fleet.admin(
        "POST", f"parameter-groups/cluster/{group}", {"parameters": {"general_log": "1"}}
    )
    assert changed["values"]["general_log"] == "1"
    fleet.admin("POST", "clock", {"advance_sec": 600})
    after = await api.describe_db_log_files(DBInstanceIdentifier=iid)
    general = [f for f in after["DescribeDBLogFiles"] if f["LogFileName"].startswith("general/")]
    assert general and general[0]["Size"] > 0
    # Written from the change on: no history before it.
    created = [f["created"] for f in fleet.truth_files(iid) if f["log_type"] == "general"]
    assert created and min(created) >= t0
    with pytest.raises(httpx.HTTPStatusError) as bad:
        fleet.admin(
            "POST", f"parameter-groups/cluster/{group}", {"parameters": {"no_such_parameter": "1"}}
        )
    assert bad.value.response.status_code == 400
