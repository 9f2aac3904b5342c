"""The fleet: Aurora clusters and their instances, built deterministically from a seed."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from common.log_types import MYSQL_LOG_TYPES, POSTGRES_LOG_TYPES, LogType
from devstack.rds.config import Config
from devstack.rds.params import ParameterGroups, enabled_log_types

MYSQL_VERSIONS = (
    "8.0.mysql_aurora.3.04.1",
    "8.0.mysql_aurora.3.05.2",
    "8.0.mysql_aurora.3.06.0",
    "8.0.mysql_aurora.3.08.0",
    "5.7.mysql_aurora.2.11.2",
    "5.7.mysql_aurora.2.12.1",
)
POSTGRES_VERSIONS = ("13.12", "14.10", "15.4", "15.5", "16.1", "16.4")
APPS = (
    "orders",
    "billing",
    "catalog",
    "payments",
    "inventory",
    "users",
    "search",
    "ledger",
    "shipping",
    "reviews",
    "auth",
    "notify",
    "pricing",
    "reports",
    "cart",
    "loyalty",
)
ENVS = ("prod", "prod", "prod", "staging", "dev")
TEAMS = ("core", "commerce", "platform", "data", "growth")
CLASSES = ("db.r6g.large", "db.r6g.xlarge", "db.r6g.2xlarge", "db.r7g.large", "db.r7g.4xlarge")
AZS = ("us-east-1a", "us-east-1b", "us-east-1c")
SERVERLESS_FRACTION = 0.06  # Aurora Serverless v2 instances (class db.serverless) can pause


@dataclass
class Instance:
    instance_id: str
    cluster_id: str
    engine: str
    engine_version: str
    instance_class: str
    az: str
    created: float
    resource_id: str
    writer: bool
    promotion_tier: int
    tags: dict[str, str]
    activity: float
    status: str = "available"
    slow_extra: bool = False
    parameter_group: str = ""
    # What its parameter groups turn on (devstack.rds.params.enabled_log_types).
    enabled_log_types: tuple[LogType, ...] = ()
    # When set, a transient status ends at `until` in `then` (rebooting -> available).
    until: float = 0.0
    then: str = "available"
    paused: bool = False  # a Serverless v2 instance scaled to zero ACUs
    history_start: float = 0.0  # its logs begin then at the earliest (a Blue/Green green: created)
    deleted_at: float | None = None

    @property
    def writing(self) -> bool:
        """Whether its database runs and writes logs."""
        return self.status != "stopped" and not self.paused

    @property
    def log_types(self) -> tuple[LogType, ...]:
        return self.enabled_log_types or (
            MYSQL_LOG_TYPES if self.engine == "aurora-mysql" else POSTGRES_LOG_TYPES
        )

    @property
    def mysql_major(self) -> str:
        return self.engine_version.split(".mysql_aurora")[0]

    @property
    def server_version(self) -> str:
        """What mysqld reports about itself in log headers."""
        return "8.0.32" if self.mysql_major == "8.0" else "5.7.12"


@dataclass
class Cluster:
    cluster_id: str
    engine: str
    engine_version: str
    created: float
    resource_id: str
    tags: dict[str, str]
    members: list[str] = field(default_factory=list)
    status: str = "available"
    parameter_group: str = ""
    until: float = 0.0  # when set, a transient status (stopping, starting) ends in `then`
    then: str = "available"

    @property
    def log_exports(self) -> list[str]:
        if self.engine == "aurora-mysql":
            return ["audit", "error", "slowquery"]
        return ["postgresql"]


def _resource_id(prefix: str, seed: int, name: str) -> str:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).hexdigest().upper()
    return f"{prefix}-{digest[:26]}"


class Fleet:
    """Clusters and instances, ordered by identifier (the order Describe* pages through)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.clusters: dict[str, Cluster] = {}
        self.instances: dict[str, Instance] = {}
        self._rng = random.Random(f"fleet:{config.seed}")
        self.retired_resource_ids: set[str] = set()
        self.params = ParameterGroups(config.seed, everything=config.logging == "all")
        self._build(config.instances)

    def _build(self, count: int) -> None:
        rng = self._rng
        n = 0
        while len(self.instances) < count:
            n += 1
            engine = (
                "aurora-mysql"
                if rng.random() < self.config.mysql_fraction
                else ("aurora-postgresql")
            )
            short = "mysql" if engine == "aurora-mysql" else "pg"
            cluster_id = f"{rng.choice(APPS)}-{rng.choice(ENVS)}-{short}-{n:03d}"
            size = min(rng.choice((1, 2, 2, 3, 3, 4)), count - len(self.instances))
            self.add_cluster(cluster_id, engine, size)
        # Aurora stops whole clusters, never one instance of a cluster; a small fleet keeps at
        # least two thirds of its clusters running.
        ids = sorted(self.clusters)
        count = min(self.config.stopped, len(ids) // 3)
        step = max(1, len(ids) // max(1, count))
        for cid in ids[::step][:count]:
            self.clusters[cid].status = "stopped"
            for iid in self.clusters[cid].members:
                self.instances[iid].status = "stopped"
        for iid in self.config.busy:
            if iid in self.instances:
                self.instances[iid].activity = self.config.busy_activity

    def add_cluster(self, cluster_id: str, engine: str, size: int, version: str = "") -> Cluster:
        rng = self._rng
        if not version:
            version = rng.choice(MYSQL_VERSIONS if engine == "aurora-mysql" else POSTGRES_VERSIONS)
        created = self.config.start_time - rng.uniform(30, 900) * 86400
        env = cluster_id.split("-")[1] if cluster_id.count("-") >= 2 else "prod"
        tags = {
            "env": env,
            "team": rng.choice(TEAMS),
            "service": cluster_id.split("-")[0],
            "log-shipping": "enabled" if rng.random() < 0.9 else "disabled",
        }
        cluster = Cluster(
            cluster_id, engine, version, created, _resource_id("cluster", 0, cluster_id), tags
        )
        cluster.parameter_group = self.params.for_cluster(cluster_id, engine, version)
        self.clusters[cluster_id] = cluster
        for i in range(size):
            self.add_instance(cluster_id, f"{cluster_id}-instance-{i + 1}")
        return cluster

    def add_instance(
        self, cluster_id: str, instance_id: str, activity: float | None = None
    ) -> Instance:
        if instance_id in self.instances:
            raise ValueError(f"instance {instance_id} already exists")
        cluster = self.clusters[cluster_id]
        rng = random.Random(f"instance:{self.config.seed}:{instance_id}")
        if activity is None:
            busy = rng.random() < self.config.busy_fraction
            activity = 1.0 if busy else self.config.quiet_activity
        inst = Instance(
            instance_id=instance_id,
            cluster_id=cluster_id,
            engine=cluster.engine,
            engine_version=cluster.engine_version,
            instance_class=rng.choice(CLASSES),
            az=rng.choice(AZS),
            created=cluster.created + rng.uniform(0, 3600),
            resource_id=self._new_resource_id(instance_id),
            writer=not cluster.members,
            promotion_tier=0 if not cluster.members else rng.randint(1, 15),
            tags=dict(cluster.tags),
            activity=activity,
            slow_extra=rng.random() < 0.3,
        )
        if rng.random() < SERVERLESS_FRACTION:
            inst.instance_class = "db.serverless"
        inst.parameter_group = self.params.for_instance(
            instance_id, inst.engine, inst.engine_version
        )
        self.update_log_types(inst)
        cluster.members.append(instance_id)
        self.instances[instance_id] = inst
        return inst

    def _new_resource_id(self, instance_id: str) -> str:
        """Stable for a name, never reused: a name taken again gets a resource id of its own."""
        taken = {i.resource_id for i in self.instances.values()} | self.retired_resource_ids
        n = 0
        rid = _resource_id("db", self.config.seed, instance_id)
        while rid in taken:
            n += 1
            rid = _resource_id("db", self.config.seed, f"{instance_id}#{n}")
        return rid

    def update_log_types(self, inst: Instance) -> None:
        cluster = self.clusters[inst.cluster_id]
        own = self.params.get("instance", inst.parameter_group)
        shared = self.params.get("cluster", cluster.parameter_group)
        assert own is not None and shared is not None
        inst.enabled_log_types = enabled_log_types(own, shared)

    def remove_instance(self, instance_id: str) -> Instance:
        inst = self.instances.pop(instance_id)
        self.retired_resource_ids.add(inst.resource_id)
        cluster = self.clusters[inst.cluster_id]
        cluster.members.remove(instance_id)
        if not cluster.members:
            del self.clusters[cluster.cluster_id]
        elif inst.writer:
            new_writer = self.instances[cluster.members[0]]
            new_writer.writer = True
        return inst

    def refresh(self, now: float, instance_id: str | None = None) -> None:
        """End transient statuses whose time is up (of one instance and its cluster, or of all)."""
        if instance_id is not None:
            inst = self.instances.get(instance_id)
            insts = [inst] if inst is not None else []
            clusters = [self.clusters[inst.cluster_id]] if inst is not None else []
        else:
            insts = list(self.instances.values())
            clusters = list(self.clusters.values())
        things: list[Instance | Cluster] = [*insts, *clusters]
        for thing in things:
            if thing.until and now >= thing.until:
                thing.status, thing.until = thing.then, 0.0
