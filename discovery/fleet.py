"""The fleet as discovery follows it: clusters and instances listed with a few paginated calls
(100 per page) through the read-through cache, filtered by engine, status and opt-out tag.

Why a few paginated calls: the seed design's DescribeDBInstances per instance spent 316 of the
account's 12 requests/s per cycle. Only the fields discovery uses are cached (small entries).

`DISCOVERY_SEED_STYLE` (the benchmarks' baseline) does it the seed's way: the clusters' pages
name the instances, and each instance is described by its own DescribeDBInstances call
(`db-instance-id` filter), every cycle; the cache it gets never hits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import structlog

from common.cache import DescribeCache
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
        "members": [m["DBInstanceIdentifier"] for m in c.get("DBClusterMembers", [])],
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
        cache: DescribeCache,
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
        return self._compact_all(operation, items, compact)

    def _compact_all(self, operation: str, items: list[Any], compact: Any) -> list[dict[str, Any]]:
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

    async def _describe_each(self, clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The seed's way: one DescribeDBInstances per cluster member (a member gone since the
        clusters' listing answers an empty list and is left out)."""
        sem = asyncio.Semaphore(self._settings.discovery_concurrency)

        async def one(instance_id: str) -> list[dict[str, Any]]:
            async with sem:
                page = await self._api.call(
                    "DescribeDBInstances",
                    Filters=[{"Name": "db-instance-id", "Values": [instance_id]}],
                )
            items = page.get("DBInstances")
            if not isinstance(items, list):
                raise RdsMalformed("DescribeDBInstances", "answer without a DBInstances list")
            return self._compact_all("DescribeDBInstances", items, _compact_instance)

        members = sorted({m for c in clusters for m in c["members"]})
        found = await asyncio.gather(*(one(i) for i in members))
        return [i for batch in found for i in batch]

    async def current(self) -> Fleet:
        clusters: list[dict[str, Any]] = await self._cache.get(
            "DescribeDBClusters",
            self._ttl,
            lambda: self._load("DescribeDBClusters", "DBClusters", _compact_cluster),
        )
        if not isinstance(clusters, list):
            raise RdsMalformed("DescribeDBClusters", "cached listing is not a list")
        if self._settings.discovery_seed_style:
            instances = await self._describe_each(clusters)
        else:
            instances = await self._cache.get(
                "DescribeDBInstances",
                self._ttl,
                lambda: self._load("DescribeDBInstances", "DBInstances", _compact_instance),
            )
        if not isinstance(instances, list):
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
