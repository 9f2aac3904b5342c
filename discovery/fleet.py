"""The fleet as discovery follows it: clusters and instances listed with a few paginated calls
(100 per page) through the read-through cache, filtered by engine, status and opt-out tag.

Why a few paginated calls: the seed design's DescribeDBInstances per instance spent 316 of the
account's 12 requests/s per cycle. Only the fields discovery uses are cached (small entries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog

from common.cache import ReadThroughCache
from common.rds import RdsApi, RdsMalformed
from common.settings import DiscoverySettings

log = structlog.get_logger(__name__)

# Statuses in which an instance's log files can be listed; any other is skipped quietly.
READY_STATUSES = frozenset(
    {
        "available",
        "backing-up",
        "modifying",
        "configuring-log-exports",
        "configuring-enhanced-monitoring",
        "configuring-iam-database-auth",
        "maintenance",
        "storage-optimization",
        "upgrading",
        "rebooting",
        "renaming",
    }
)
CLUSTER_STOPPED = frozenset(
    {"stopped", "stopping", "starting", "deleting", "inaccessible-encryption-credentials"}
)


@dataclass(frozen=True)
class Instance:
    account: str
    region: str
    instance_id: str
    resource_id: str
    cluster_id: str
    engine: str
    engine_version: str
    status: str
    instance_class: str
    writer: bool
    tags: dict[str, str] = field(hash=False)
    cluster_parameter_group: str
    parameter_groups: tuple[str, ...]


@dataclass
class Fleet:
    """This cycle's listing: instances to follow and what was left out, by reason."""

    instances: list[Instance]
    skipped: dict[str, list[str]]  # reason -> instance ids
    clusters: int
    resource_ids: set[str]  # every listed instance, followed or not


def _tags(items: Any) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in items or []}


def _compact_cluster(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c["DBClusterIdentifier"],
        "status": c.get("Status", ""),
        "engine": c.get("Engine", ""),
        "pg": c.get("DBClusterParameterGroup", ""),
        "tags": _tags(c.get("TagList")),
        "writers": [
            m["DBInstanceIdentifier"]
            for m in c.get("DBClusterMembers", [])
            if m.get("IsClusterWriter")
        ],
    }


def _compact_instance(i: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": i["DBInstanceIdentifier"],
        "rid": i["DbiResourceId"],
        "arn": i.get("DBInstanceArn", ""),
        "cluster": i.get("DBClusterIdentifier", ""),
        "engine": i["Engine"],
        "version": i.get("EngineVersion", ""),
        "status": i.get("DBInstanceStatus", ""),
        "class": i.get("DBInstanceClass", ""),
        "pgs": [g["DBParameterGroupName"] for g in i.get("DBParameterGroups", []) or []],
        "tags": _tags(i.get("TagList")),
    }


class FleetLister:
    def __init__(
        self,
        api: RdsApi,
        cache: ReadThroughCache,
        engines: frozenset[str],
        settings: DiscoverySettings,
        region: str,
        ttl_sec: float,
    ) -> None:
        self._api = api
        self._cache = cache
        self._engines = sorted(engines)
        self._settings = settings
        self._region = region
        self._ttl = ttl_sec
        self._malformed_logged: set[str] = set()

    async def _load(self, operation: str, key: str, compact: Any) -> list[dict[str, Any]]:
        filters = [{"Name": "engine", "Values": self._engines}]
        items = await self._api.pages(operation, key, MaxRecords=100, Filters=filters)
        out = []
        for item in items:
            try:
                out.append(compact(item))
            except (KeyError, TypeError) as exc:
                ident = str(item.get("DBInstanceIdentifier") or item.get("DBClusterIdentifier"))
                if ident not in self._malformed_logged:
                    self._malformed_logged.add(ident)
                    log.error(
                        "rds_answer_malformed", operation=operation, item=ident, missing=str(exc)
                    )
        return out

    async def current(self) -> Fleet:
        clusters: list[dict[str, Any]] = await self._cache.get(
            "DescribeDBClusters",
            self._ttl,
            lambda: self._load("DescribeDBClusters", "DBClusters", _compact_cluster),
        )
        instances: list[dict[str, Any]] = await self._cache.get(
            "DescribeDBInstances",
            self._ttl,
            lambda: self._load("DescribeDBInstances", "DBInstances", _compact_instance),
        )
        if not isinstance(clusters, list) or not isinstance(instances, list):
            raise RdsMalformed("DescribeDBInstances", "cached listing is not a list")
        return self._select(clusters, instances)

    def _opted_out(self, tags: dict[str, str]) -> bool:
        s = self._settings
        return tags.get(s.discovery_opt_out_tag, "").lower() == s.discovery_opt_out_value.lower()

    def _select(self, clusters: list[dict[str, Any]], instances: list[dict[str, Any]]) -> Fleet:
        by_cluster = {c["id"]: c for c in clusters}
        chosen: list[Instance] = []
        skipped: dict[str, list[str]] = {}
        engines = set(self._engines)
        for i in instances:
            cluster = by_cluster.get(i["cluster"], {})
            reason = None
            if i["engine"] not in engines:
                reason = "engine"
            elif self._opted_out(i["tags"]) or self._opted_out(cluster.get("tags", {})):
                reason = "opted_out"
            elif cluster.get("status") in CLUSTER_STOPPED or i["status"] not in READY_STATUSES:
                reason = "not_ready"
            if reason:
                skipped.setdefault(reason, []).append(i["id"])
                continue
            arn_parts = str(i.get("arn", "")).split(":")
            account = arn_parts[4] if len(arn_parts) > 5 and arn_parts[4] else "unknown"
            chosen.append(
                Instance(
                    account=account,
                    region=self._region,
                    instance_id=i["id"],
                    resource_id=i["rid"],
                    cluster_id=i["cluster"],
                    engine=i["engine"],
                    engine_version=i["version"],
                    status=i["status"],
                    instance_class=i["class"],
                    writer=i["id"] in cluster.get("writers", []),
                    tags=i["tags"],
                    cluster_parameter_group=cluster.get("pg", ""),
                    parameter_groups=tuple(i["pgs"]),
                )
            )
        return Fleet(chosen, skipped, len(clusters), {str(i["rid"]) for i in instances})
