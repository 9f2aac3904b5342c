"""The fleet: Aurora clusters and their instances, built deterministically from a seed."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from common.log_types import MYSQL_LOG_TYPES, POSTGRES_LOG_TYPES, LogType
from devstack.rds.config import Config

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
    reboot_until: float = 0.0
    slow_extra: bool = False

    @property
    def log_types(self) -> tuple[LogType, ...]:
        return MYSQL_LOG_TYPES if self.engine == "aurora-mysql" else POSTGRES_LOG_TYPES

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
        stopped = sorted(self.instances)[
            :: max(1, len(self.instances) // max(1, self.config.stopped))
        ]
        for iid in stopped[: self.config.stopped]:
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
            resource_id=_resource_id("db", self.config.seed, instance_id),
            writer=not cluster.members,
            promotion_tier=0 if not cluster.members else rng.randint(1, 15),
            tags=dict(cluster.tags),
            activity=activity,
            slow_extra=rng.random() < 0.3,
        )
        cluster.members.append(instance_id)
        self.instances[instance_id] = inst
        return inst

    def remove_instance(self, instance_id: str) -> Instance:
        inst = self.instances.pop(instance_id)
        cluster = self.clusters[inst.cluster_id]
        cluster.members.remove(instance_id)
        if not cluster.members:
            del self.clusters[cluster.cluster_id]
        elif inst.writer:
            new_writer = self.instances[cluster.members[0]]
            new_writer.writer = True
        return inst

    def refresh(self, now: float, instance_id: str | None = None) -> None:
        """Finish reboots whose time is up (of one instance, or of all)."""
        if instance_id is not None:
            insts = [self.instances[instance_id]] if instance_id in self.instances else []
        else:
            insts = list(self.instances.values())
        for inst in insts:
            if inst.status == "rebooting" and now >= inst.reboot_until:
                inst.status = "available"
