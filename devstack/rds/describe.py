"""DescribeDBInstances and DescribeDBClusters: the fleet as the RDS API shows it."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from devstack.rds.errors import cluster_not_found, instance_not_found, invalid_parameter
from devstack.rds.fleet import Cluster, Instance
from devstack.rds.protocol import Params
from devstack.rds.state import Emulator

T = TypeVar("T")
PORTS = {"aurora-mysql": 3306, "aurora-postgresql": 5432}


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _host(emu: Emulator, name: str, region: str, kind: str = "") -> str:
    return f"{name}.{kind}c{emu.config.seed % 997:03d}xk2z4w1.{region}.rds.amazonaws.com"


def instance_shape(emu: Emulator, i: Instance, region: str) -> dict[str, Any]:
    return {
        "DBInstanceIdentifier": i.instance_id,
        "DBInstanceClass": i.instance_class,
        "Engine": i.engine,
        "DBInstanceStatus": i.status,
        "MasterUsername": "admin" if i.engine == "aurora-mysql" else "postgres",
        "Endpoint": {
            "Address": _host(emu, i.instance_id, region),
            "Port": PORTS[i.engine],
            "HostedZoneId": "Z2R2ITUGPM61AM",
        },
        "InstanceCreateTime": i.created,
        "PreferredBackupWindow": "03:00-03:30",
        "BackupRetentionPeriod": 7,
        "AvailabilityZone": i.az,
        "PreferredMaintenanceWindow": "sun:05:00-sun:05:30",
        "MultiAZ": False,
        "EngineVersion": i.engine_version,
        "AutoMinorVersionUpgrade": True,
        "LicenseModel": "general-public-license"
        if i.engine == "aurora-mysql"
        else "postgresql-license",
        "DBParameterGroups": [
            {"DBParameterGroupName": i.parameter_group, "ParameterApplyStatus": "in-sync"}
        ],
        "PubliclyAccessible": False,
        "StorageType": "aurora",
        "DbInstancePort": 0,
        "DBClusterIdentifier": i.cluster_id,
        "StorageEncrypted": True,
        "DbiResourceId": i.resource_id,
        "CACertificateIdentifier": "rds-ca-rsa2048-g1",
        "CopyTagsToSnapshot": False,
        "MonitoringInterval": 0,
        "PromotionTier": i.promotion_tier,
        "DBInstanceArn": f"arn:aws:rds:{region}:{emu.config.account_id}:db:{i.instance_id}",
        "IAMDatabaseAuthenticationEnabled": False,
        "PerformanceInsightsEnabled": False,
        "DeletionProtection": False,
        "TagList": _tags(i.tags),
    }


def cluster_shape(emu: Emulator, c: Cluster, region: str) -> dict[str, Any]:
    instances = emu.fleet.instances
    return {
        "AllocatedStorage": 1,
        "AvailabilityZones": [f"{region}a", f"{region}b", f"{region}c"],
        "BackupRetentionPeriod": 7,
        "DatabaseName": c.cluster_id.split("-")[0],
        "DBClusterIdentifier": c.cluster_id,
        "DBClusterParameterGroup": c.parameter_group,
        "Status": c.status,
        "Endpoint": _host(emu, c.cluster_id, region, "cluster-"),
        "ReaderEndpoint": _host(emu, c.cluster_id, region, "cluster-ro-"),
        "MultiAZ": len(c.members) > 1,
        "Engine": c.engine,
        "EngineVersion": c.engine_version,
        "Port": PORTS[c.engine],
        "MasterUsername": "admin" if c.engine == "aurora-mysql" else "postgres",
        "DBClusterMembers": [
            {
                "DBInstanceIdentifier": m,
                "IsClusterWriter": instances[m].writer,
                "DBClusterParameterGroupStatus": "in-sync",
                "PromotionTier": instances[m].promotion_tier,
            }
            for m in c.members
        ],
        "HostedZoneId": "Z2R2ITUGPM61AM",
        "StorageEncrypted": True,
        "DbClusterResourceId": c.resource_id,
        "DBClusterArn": f"arn:aws:rds:{region}:{emu.config.account_id}:cluster:{c.cluster_id}",
        "IAMDatabaseAuthenticationEnabled": False,
        "ClusterCreateTime": c.created,
        "EnabledCloudwatchLogsExports": c.log_exports,
        "EngineMode": "provisioned",
        "DeletionProtection": False,
        "HttpEndpointEnabled": False,
        "CopyTagsToSnapshot": False,
        "CrossAccountClone": False,
        "TagList": _tags(c.tags),
    }


def paginate(items: Sequence[T], key: Callable[[T], str], p: Params) -> tuple[list[T], str | None]:
    limit = p.integer("MaxRecords", lo=20, hi=100) or 100
    marker = p.text("Marker")
    after = ""
    if marker:
        try:
            after = base64.b64decode(marker.encode(), altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise invalid_parameter(f"Invalid marker: {marker}") from None
    rest = [x for x in items if key(x) > after]
    page = rest[:limit]
    nxt = base64.urlsafe_b64encode(key(page[-1]).encode()).decode() if len(rest) > limit else None
    return page, nxt


def _matches(filters: dict[str, list[str]], values: dict[str, str]) -> bool:
    for name, wanted in filters.items():
        have = values[name]
        if not any(w == have or w.endswith(":" + have) for w in wanted):
            return False
    return True


def describe_instances(emu: Emulator, p: Params, region: str) -> dict[str, Any]:
    filters = p.filters()
    _check_filter_names(filters, {"db-cluster-id", "db-instance-id", "engine", "dbi-resource-id"})
    emu.fleet.refresh(emu.now())
    wanted = p.text("DBInstanceIdentifier")
    if wanted is not None and wanted not in emu.fleet.instances:
        raise instance_not_found(wanted)
    insts = [
        i
        for _, i in sorted(emu.fleet.instances.items())
        if (wanted is None or i.instance_id == wanted)
        and _matches(
            filters,
            {
                "db-cluster-id": i.cluster_id,
                "db-instance-id": i.instance_id,
                "engine": i.engine,
                "dbi-resource-id": i.resource_id,
            },
        )
    ]
    page, nxt = paginate(insts, lambda i: i.instance_id, p)
    return _with_marker({"DBInstances": [instance_shape(emu, i, region) for i in page]}, nxt)


def _check_filter_names(filters: Mapping[str, Any], known: set[str]) -> None:
    for name in filters:
        if name not in known:
            raise invalid_parameter(f"Unrecognized filter name: {name}")


def _with_marker(result: dict[str, Any], marker: str | None) -> dict[str, Any]:
    if marker:
        result["Marker"] = marker
    return result


def describe_clusters(emu: Emulator, p: Params, region: str) -> dict[str, Any]:
    filters = p.filters()
    _check_filter_names(filters, {"db-cluster-id", "engine", "db-cluster-resource-id"})
    emu.fleet.refresh(emu.now())
    wanted = p.text("DBClusterIdentifier")
    if wanted is not None and wanted not in emu.fleet.clusters:
        raise cluster_not_found(wanted)
    clusters = [
        c
        for _, c in sorted(emu.fleet.clusters.items())
        if (wanted is None or c.cluster_id == wanted)
        and _matches(
            filters,
            {
                "db-cluster-id": c.cluster_id,
                "engine": c.engine,
                "db-cluster-resource-id": c.resource_id,
            },
        )
    ]
    page, nxt = paginate(clusters, lambda c: c.cluster_id, p)
    return _with_marker({"DBClusters": [cluster_shape(emu, c, region) for c in page]}, nxt)
