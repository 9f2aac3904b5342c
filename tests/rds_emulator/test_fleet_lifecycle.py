"""Identity and lifecycle: rename, Blue/Green switchover, scale-in, Serverless v2 pause, cluster
stop/start and transient states, seen through the RDS API and the ground truth."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.rds_emulator.conftest import KEY, REGION, SECRET, RdsServer, rds_client, running_emulator


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RdsServer]:
    with running_emulator(tmp_path_factory.mktemp("rds-lifecycle"), "--instances", "60") as s:
        yield s


@pytest.fixture
async def api(world: RdsServer) -> AsyncIterator[Any]:
    async with rds_client(world) as c:
        yield c


def _fleet(world: RdsServer) -> list[dict[str, Any]]:
    instances: list[dict[str, Any]] = world.admin("GET", "fleet")["instances"]
    return instances


def _cluster_with(world: RdsServer, members: int, engine: str, skip: set[str]) -> list[str]:
    """Members of an available cluster of at least `members` instances, none used elsewhere."""
    clusters: dict[str, list[dict[str, Any]]] = {}
    for i in _fleet(world):
        clusters.setdefault(i["cluster_id"], []).append(i)
    for cid, insts in sorted(clusters.items()):
        if (
            cid not in skip
            and len(insts) >= members
            and insts[0]["engine"] == engine
            and all(i["status"] == "available" and not i["paused"] for i in insts)
        ):
            skip.add(cid)
            return [i["instance_id"] for i in insts]
    raise AssertionError(f"no {engine} cluster of {members} instances left")


USED: set[str] = set()


def _error(world: RdsServer, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    with pytest.raises(httpx.HTTPStatusError) as info:
        world.admin(method, path, body)
    return info.value.response


async def _describe(api: Any, iid: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.describe_db_instances(DBInstanceIdentifier=iid))[
        "DBInstances"
    ][0]
    return found


async def _names(api: Any, iid: str) -> list[str]:
    files = await api.describe_db_log_files(DBInstanceIdentifier=iid)
    return [f["LogFileName"] for f in files["DescribeDBLogFiles"]]


async def _code(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        await call
    resp = info.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


async def _signed_get(url: str) -> tuple[int, bytes]:
    req = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(KEY, SECRET), "rds", REGION).add_auth(req)
    headers = {k: v for k, v in req.headers.items() if k.lower() != "host"}
    async with aiohttp.ClientSession() as s, s.get(req.url, headers=headers) as resp:
        return resp.status, await resp.read()


async def test_rename_keeps_resource_id_files_and_history(world: RdsServer, api: Any) -> None:
    old = _cluster_with(world, 2, "aurora-mysql", USED)[1]
    before = await _describe(api, old)
    names = await _names(api, old)
    slow = world.truth(old, "slowquery/mysql-slowquery.log")
    new = f"{old}-renamed"
    world.admin("POST", f"fleet/instances/{old}/rename", {"new_instance_id": new})
    assert await _code(api.describe_db_instances(DBInstanceIdentifier=old)) == (
        "DBInstanceNotFound",
        404,
    )
    after = await _describe(api, new)
    assert after["DbiResourceId"] == before["DbiResourceId"]
    assert after["DBClusterIdentifier"] == before["DBClusterIdentifier"]
    (cluster,) = (await api.describe_db_clusters(DBClusterIdentifier=after["DBClusterIdentifier"]))[
        "DBClusters"
    ]
    members = [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"]]
    assert new in members and old not in members
    assert await _names(api, new) == names
    page = await api.download_db_log_file_portion(
        DBInstanceIdentifier=new,
        LogFileName="slowquery/mysql-slowquery.log",
        Marker="0",
        NumberOfLines=10**6,
    )
    assert page["LogFileData"].encode().startswith(slow[: len(slow) // 2])
    truth = world.admin("GET", f"ground-truth/{new}")
    assert truth["resource_id"] == before["DbiResourceId"] and truth["exists"]
    assert _error(world, "GET", f"ground-truth/{old}").status_code == 404
    taken = _error(world, "POST", f"fleet/instances/{new}/rename", {"new_instance_id": members[0]})
    assert taken.status_code == 409


async def test_blue_green_switchover(world: RdsServer, api: Any) -> None:
    blue = _cluster_with(world, 2, "aurora-mysql", USED)
    cid = (await _describe(api, blue[0]))["DBClusterIdentifier"]
    blue_ids = {i: (await _describe(api, i))["DbiResourceId"] for i in blue}
    created = world.admin("GET", "clock")["now"]
    dep = world.admin("POST", f"fleet/clusters/{cid}/blue-green")
    greens = [p["green"] for p in dep["pairs"]]
    assert [p["blue"] for p in dep["pairs"]] == blue
    assert all(g.startswith(f"{b}-green-") for b, g in zip(blue, greens, strict=True))
    green_ids = {g: (await _describe(api, g))["DbiResourceId"] for g in greens}
    assert not set(green_ids.values()) & set(blue_ids.values())
    world.admin("POST", "clock", {"advance_sec": 900})  # the green environment writes its logs
    done = world.admin("POST", f"blue-green/{dep['deployment_id']}/switchover")
    assert done["status"] == "SWITCHOVER_COMPLETED"
    (new_cluster,) = (await api.describe_db_clusters(DBClusterIdentifier=cid))["DBClusters"]
    (old_cluster,) = (await api.describe_db_clusters(DBClusterIdentifier=f"{cid}-old1"))[
        "DBClusters"
    ]
    assert [m["DBInstanceIdentifier"] for m in new_cluster["DBClusterMembers"]] == blue
    assert [m["DBInstanceIdentifier"] for m in old_cluster["DBClusterMembers"]] == [
        f"{b}-old1" for b in blue
    ]
    for b, g in zip(blue, greens, strict=True):
        now_b = await _describe(api, b)
        assert now_b["DbiResourceId"] == green_ids[g]  # the name passed to the green resource
        assert (await _describe(api, f"{b}-old1"))["DbiResourceId"] == blue_ids[b]
        assert await _code(api.describe_db_instances(DBInstanceIdentifier=g)) == (
            "DBInstanceNotFound",
            404,
        )
        # The new owner of the name has files of the same names, with its own content.
        name = "slowquery/mysql-slowquery.log"
        assert name in await _names(api, b) and name in await _names(api, f"{b}-old1")
        mine, theirs = world.truth(b, name), world.truth(f"{b}-old1", name)
        assert mine and theirs and mine != theirs
        files = world.admin("GET", f"ground-truth/{b}")
        assert files["resource_id"] == green_ids[g]
        assert min(f["created"] for f in files["files"]) >= created  # no history before it
    resources = {r["resource_id"]: r for r in world.admin("GET", "ground-truth")["resources"]}
    for b in blue:
        assert resources[blue_ids[b]]["instance_id"] == f"{b}-old1"


async def test_scale_in_a_reader(world: RdsServer, api: Any) -> None:
    writer, reader, *_ = _cluster_with(world, 2, "aurora-postgresql", USED)
    assert await _names(api, reader)
    refused = _error(world, "POST", f"fleet/instances/{writer}/scale-in")
    assert refused.status_code == 409 and refused.json()["code"] == "InvalidDBClusterStateFault"
    gone = world.admin("POST", f"fleet/instances/{reader}/scale-in")
    cid = gone["cluster_id"]
    (cluster,) = (await api.describe_db_clusters(DBClusterIdentifier=cid))["DBClusters"]
    assert reader not in [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"]]
    assert await _code(api.describe_db_log_files(DBInstanceIdentifier=reader)) == (
        "DBInstanceNotFound",
        404,
    )
    truth = world.admin("GET", f"ground-truth/{reader}")
    assert not truth["exists"] and truth["deleted_at"] and truth["files"]
    resources = {r["resource_id"]: r for r in world.admin("GET", "ground-truth")["resources"]}
    assert resources[gone["resource_id"]]["exists"] is False


async def test_paused_serverless_instance_is_not_ready(world: RdsServer, api: Any) -> None:
    iid = next(
        i["instance_id"]
        for i in _fleet(world)
        if i["instance_class"] == "db.serverless" and i["status"] == "available"
    )
    name = (await _names(api, iid))[0]
    world.admin("POST", f"fleet/instances/{iid}/pause")
    assert (await _describe(api, iid))["DBInstanceStatus"] == "available"
    assert await _code(api.describe_db_log_files(DBInstanceIdentifier=iid)) == (
        "DBInstanceNotReady",
        400,
    )
    assert await _code(
        api.download_db_log_file_portion(DBInstanceIdentifier=iid, LogFileName=name, Marker="0")
    ) == ("DBInstanceNotReady", 400)
    status, body = await _signed_get(f"{world.url}/v13/downloadCompleteLogFile/{iid}/{name}")
    assert status == 400 and b"DBInstanceNotReady" in body
    world.admin("POST", f"fleet/instances/{iid}/resume")
    assert name in await _names(api, iid)
    other = next(
        i["instance_id"]
        for i in _fleet(world)
        if i["instance_class"] != "db.serverless" and i["status"] == "available"
    )
    assert _error(world, "POST", f"fleet/instances/{other}/pause").status_code == 409


async def test_clusters_stop_and_start_whole(world: RdsServer, api: Any) -> None:
    members = _cluster_with(world, 2, "aurora-mysql", USED)
    cid = (await _describe(api, members[0]))["DBClusterIdentifier"]
    refused = _error(world, "POST", f"fleet/instances/{members[0]}/stop")
    assert refused.status_code == 400 and refused.json()["code"] == "InvalidParameterCombination"
    world.admin("POST", f"fleet/clusters/{cid}/stop", {"seconds": 60})
    (cluster,) = (await api.describe_db_clusters(DBClusterIdentifier=cid))["DBClusters"]
    assert cluster["Status"] == "stopping"
    assert {(await _describe(api, m))["DBInstanceStatus"] for m in members} == {"stopping"}
    world.admin("POST", "clock", {"advance_sec": 61})
    (cluster,) = (await api.describe_db_clusters(DBClusterIdentifier=cid))["DBClusters"]
    assert cluster["Status"] == "stopped"
    for m in members:
        assert (await _describe(api, m))["DBInstanceStatus"] == "stopped"
        assert await _code(api.describe_db_log_files(DBInstanceIdentifier=m)) == (
            "InvalidDBInstanceState",
            400,
        )
    sizes = {f["name"]: f["size"] for f in world.truth_files(members[0])}
    world.admin("POST", "clock", {"advance_sec": 600})
    assert {f["name"]: f["size"] for f in world.truth_files(members[0])} == sizes  # nothing written
    world.admin("POST", "lifecycle", {"stopped_error": "DBInstanceNotReady"})
    try:
        assert await _code(api.describe_db_log_files(DBInstanceIdentifier=members[1])) == (
            "DBInstanceNotReady",
            400,
        )
    finally:
        world.admin("POST", "lifecycle", {"stopped_error": "InvalidDBInstanceState"})
    assert _error(world, "POST", f"fleet/clusters/{cid}/stop").status_code == 409
    world.admin("POST", f"fleet/clusters/{cid}/start")
    for m in members:
        assert (await _describe(api, m))["DBInstanceStatus"] == "available"
        assert "error/mysql-error-running.log" in await _names(api, m)


@pytest.mark.parametrize("status", ["modifying", "backing-up", "rebooting"])
async def test_transient_states_keep_serving_logs(world: RdsServer, api: Any, status: str) -> None:
    iid = _cluster_with(world, 1, "aurora-postgresql", USED)[0]
    world.admin("POST", f"fleet/instances/{iid}/status", {"status": status, "seconds": 30})
    assert (await _describe(api, iid))["DBInstanceStatus"] == status
    name = (await _names(api, iid))[0]
    page = await api.download_db_log_file_portion(
        DBInstanceIdentifier=iid, LogFileName=name, Marker="0"
    )
    assert "Marker" in page
    world.admin("POST", "clock", {"advance_sec": 31})
    assert (await _describe(api, iid))["DBInstanceStatus"] == "available"
    assert (
        _error(world, "POST", f"fleet/instances/{iid}/status", {"status": "stopped"}).status_code
        == 400
    )


async def test_switchover_refused_whole_when_a_pair_was_renamed(world: RdsServer, api: Any) -> None:
    blue = _cluster_with(world, 1, "aurora-postgresql", USED)[0]
    cid = (await _describe(api, blue))["DBClusterIdentifier"]
    dep = world.admin("POST", f"fleet/clusters/{cid}/blue-green")
    green = dep["pairs"][0]["green"]
    world.admin("POST", f"fleet/instances/{green}/rename", {"new_instance_id": f"{green}-x"})
    refused = _error(world, "POST", f"blue-green/{dep['deployment_id']}/switchover")
    assert refused.status_code == 409
    assert refused.json()["code"] == "InvalidBlueGreenDeploymentStateFault"
    assert (await _describe(api, blue))["DBClusterIdentifier"] == cid  # nothing moved
    world.admin("POST", f"fleet/clusters/{cid}/stop")
    stopped = _error(world, "POST", f"fleet/clusters/{cid}/blue-green")
    assert stopped.json()["code"] == "InvalidDBClusterStateFault"
