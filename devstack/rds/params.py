"""Parameter groups: which logs each instance writes, as its DB cluster and DB parameter groups say.

The fleet's logging is deterministic from the seed (one RNG per cluster, one per instance), shaped
like a real fleet: most MySQL clusters turn the slow log on and neither the general nor the audit
log; a few keep the default group (slow log off) or send the slow log to a TABLE; a few
PostgreSQL clusters keep `log_min_duration_statement=-1`. A log type that is off has no files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from common.log_types import LogType
from devstack.rds.param_catalog import CATALOG, ParamDef

Kind = Literal["cluster", "instance"]


def family(engine: str, version: str) -> str:
    """`aurora-mysql8.0`, `aurora-mysql5.7`, `aurora-postgresql15`."""
    if engine == "aurora-mysql":
        return f"aurora-mysql{version.split('.mysql_aurora')[0]}"
    return f"aurora-postgresql{version.split('.')[0]}"


@dataclass
class ParameterGroup:
    name: str
    kind: Kind
    engine: str
    family: str
    values: dict[str, str] = field(default_factory=dict)  # set by the user (Source "user")

    @property
    def is_default(self) -> bool:
        return self.name.startswith("default.")

    def defs(self) -> list[ParamDef]:
        other = "instance" if self.kind == "cluster" else "cluster"
        return [d for d in CATALOG[self.engine] if d.scope != other]

    def parameter(self, d: ParamDef) -> dict[str, object]:
        """One `Parameter` as DescribeDB(Cluster)Parameters answers it."""
        out: dict[str, object] = {"ParameterName": d.name}
        if d.name in self.values:
            out["ParameterValue"] = self.values[d.name]
            out["Source"] = "user"
        else:
            if d.default is not None:
                out["ParameterValue"] = d.default
            out["Source"] = "engine-default" if d.modifiable else "system"
        if d.description:
            out["Description"] = d.description
        out["ApplyType"] = d.apply_type
        out["DataType"] = d.data_type
        if d.allowed is not None:
            out["AllowedValues"] = d.allowed
        out["IsModifiable"] = d.modifiable
        out["ApplyMethod"] = "pending-reboot" if d.apply_type == "static" else "immediate"
        if self.kind == "cluster":
            out["SupportedEngineModes"] = ["provisioned"]
        return out


def _default(defs: list[ParamDef], name: str) -> str | None:
    for d in defs:
        if d.name == name:
            return d.default
    return None


def effective(name: str, instance: ParameterGroup, cluster: ParameterGroup) -> str | None:
    """The DB parameter group's value, else the cluster group's, else the engine default."""
    if name in instance.values:
        return instance.values[name]
    if name in cluster.values:
        return cluster.values[name]
    return _default(CATALOG[cluster.engine], name)


def enabled_log_types(instance: ParameterGroup, cluster: ParameterGroup) -> tuple[LogType, ...]:
    """The log types whose files exist: the error logs always; slow and general logs when on and
    `log_output` includes FILE (NONE wins); the audit log when `server_audit_logging` is on."""
    if cluster.engine != "aurora-mysql":
        return (LogType.POSTGRESQL,)

    def on(name: str) -> bool:
        return (effective(name, instance, cluster) or "0").strip().upper() in ("1", "ON")

    outputs = {
        o.strip().upper() for o in (effective("log_output", instance, cluster) or "").split(",")
    }
    to_file = "FILE" in outputs and "NONE" not in outputs
    types = [LogType.ERROR]
    if on("slow_query_log") and to_file:
        types.append(LogType.SLOWQUERY)
    if on("general_log") and to_file:
        types.append(LogType.GENERAL)
    if on("server_audit_logging"):
        types.append(LogType.AUDIT)
    return tuple(types)


ALL_MYSQL_LOGS = {
    "slow_query_log": "1",
    "long_query_time": "1",
    "log_output": "FILE",
    "general_log": "1",
    "server_audit_logging": "1",
    "server_audit_events": "CONNECT,QUERY",
}
AUDIT_EVENTS = ("CONNECT,QUERY", "CONNECT,QUERY_DCL,QUERY_DDL", "QUERY_DML,TABLE", "CONNECT")


class ParameterGroups:
    """Every group of the fleet by kind and name; defaults are made on first use."""

    def __init__(self, seed: int, everything: bool = False) -> None:
        self.seed = seed
        self.everything = everything  # `--logging all`: every MySQL log type on, no overrides
        self.groups: dict[Kind, dict[str, ParameterGroup]] = {"cluster": {}, "instance": {}}

    def get(self, kind: Kind, name: str) -> ParameterGroup | None:
        return self.groups[kind].get(name)

    def _group(self, kind: Kind, name: str, engine: str, fam: str) -> ParameterGroup:
        group = self.groups[kind].get(name)
        if group is None:
            group = self.groups[kind][name] = ParameterGroup(name, kind, engine, fam)
        return group

    def for_cluster(self, cluster_id: str, engine: str, version: str) -> str:
        """The cluster's DB cluster parameter group, chosen from the seed."""
        fam = family(engine, version)
        r = random.Random(f"params:{self.seed}:{cluster_id}")
        if r.random() < 0.08 and not self.everything:
            return self._group("cluster", f"default.{fam}", engine, fam).name
        group = self._group("cluster", f"{cluster_id}-cluster-params", engine, fam)
        if engine == "aurora-mysql" and self.everything:
            group.values.update(ALL_MYSQL_LOGS)
        elif engine == "aurora-mysql":
            k = r.random()
            group.values["slow_query_log"] = "0" if k < 0.04 else "1"
            group.values["long_query_time"] = r.choice(("0.5", "1", "1", "2", "5", "10"))
            group.values["log_output"] = "TABLE" if r.random() < 0.07 else "FILE"
            if r.random() < 0.12:
                group.values["general_log"] = "1"
            if r.random() < 0.18:
                group.values["server_audit_logging"] = "1"
                group.values["server_audit_events"] = r.choice(AUDIT_EVENTS)
                group.values["server_audit_excl_users"] = "rdsadmin"
        else:
            off = r.random() < 0.08
            group.values["log_min_duration_statement"] = (
                "-1" if off else r.choice(("100", "250", "500", "1000", "5000"))
            )
            group.values["log_statement"] = r.choice(("none", "none", "ddl", "mod"))
            if r.random() < 0.5:
                group.values["log_connections"] = "1"
                group.values["log_disconnections"] = "1"
        return group.name

    def for_instance(self, instance_id: str, engine: str, version: str) -> str:
        """The instance's DB parameter group: the default one, or now and then its own with an
        override of a logging parameter (an instance being debugged)."""
        fam = family(engine, version)
        r = random.Random(f"params:{self.seed}:{instance_id}")
        if r.random() >= 0.08 or self.everything:
            return self._group("instance", f"default.{fam}", engine, fam).name
        group = self._group("instance", f"{instance_id}-params", engine, fam)
        if engine == "aurora-mysql":
            key, value = r.choice(
                (("general_log", "1"), ("slow_query_log", "0"), ("long_query_time", "0.1"))
            )
        else:
            key, value = r.choice(
                (
                    ("log_min_duration_statement", "-1"),
                    ("log_min_duration_statement", "0"),
                    ("log_statement", "all"),
                )
            )
        group.values[key] = value
        return group.name
