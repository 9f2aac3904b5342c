"""Identity and lifecycle of the fleet: renames, Blue/Green switchovers, scale-in, Serverless v2
pause, cluster stop/start and the transient instance states, with what the log APIs answer in each.

Names move, resource ids never do: a renamed instance keeps its `DbiResourceId`, its files and
their history; after a Blue/Green switchover the green instances carry the blue names (each with
its own resource id and its own files of the same names) and the blue ones become `…-old1`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Container
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from devstack.rds.errors import ApiError, instance_not_ready
from devstack.rds.fleet import Cluster, Instance

if TYPE_CHECKING:
    from devstack.rds.state import Emulator

# What a log read answers on a stopped (stopping, starting) instance. Not documented: the RDS API
# names InvalidDBInstanceState for calls an instance's state forbids (StopDBInstance on a stopped
# instance: "Instance X is not in available state."), and DBInstanceNotReady only for a paused
# Serverless v2 instance (botocore model, DBInstanceNotReadyFault). Switchable (admin `lifecycle`).
STOPPED_ERRORS = ("InvalidDBInstanceState", "DBInstanceNotReady")
NOT_RUNNING = ("stopped", "stopping", "starting")
# Transient per-instance statuses Aurora shows while the instance keeps serving its logs.
TRANSIENT = (
    "rebooting",
    "modifying",
    "backing-up",
    "configuring-log-exports",
    "maintenance",
    "upgrading",
    "renaming",
)


class LifecycleError(Exception):
    """An operation the instance's or cluster's state forbids: `code` as AWS names it."""

    def __init__(self, message: str, code: str = "InvalidDBInstanceState", status: int = 409):
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass
class BlueGreen:
    deployment_id: str
    blue: str  # cluster id
    green: str
    pairs: list[tuple[str, str]]  # (blue instance, green instance), as created
    status: str = "AVAILABLE"  # then SWITCHOVER_COMPLETED
    renamed: dict[str, str] = field(default_factory=dict)  # after switchover: old name -> new


@dataclass
class Lifecycle:
    stopped_error: str = STOPPED_ERRORS[0]
    deployments: dict[str, BlueGreen] = field(default_factory=dict)


def log_access_error(emu: Emulator, inst: Instance) -> ApiError | None:
    """What the log APIs answer for this instance now, if not its files."""
    if inst.paused:
        return instance_not_ready(inst.instance_id)
    if inst.status in NOT_RUNNING:
        code = emu.lifecycle.stopped_error
        if code == "DBInstanceNotReady":
            return instance_not_ready(inst.instance_id)
        return ApiError(code, f"Instance {inst.instance_id} is not in available state.", 400)
    return None


def find_instance(emu: Emulator, iid: str) -> Instance:
    inst = emu.fleet.instances.get(iid)
    if inst is None:
        raise LifecycleError(f"no instance {iid}", "DBInstanceNotFound", 404)
    return inst


def _cluster(emu: Emulator, cid: str) -> Cluster:
    cluster = emu.fleet.clusters.get(cid)
    if cluster is None:
        raise LifecycleError(f"no cluster {cid}", "DBClusterNotFoundFault", 404)
    return cluster


# -- names ----------------------------------------------------------------------------------------


async def rename_instance(emu: Emulator, old: str, new: str) -> Instance:
    """ModifyDBInstance NewDBInstanceIdentifier: same resource, files and history, new name."""
    inst = find_instance(emu, old)
    if new in emu.fleet.instances:
        raise LifecycleError(f"instance {new} already exists", "DBInstanceAlreadyExists", 409)
    async with emu.logs(old):  # caught up: the history up to now is the old name's
        fleet = emu.fleet
        fleet.instances[new] = fleet.instances.pop(old)
        inst.instance_id = new
        members = fleet.clusters[inst.cluster_id].members
        members[members.index(old)] = new
        emu.store.rename(old, new)
        emu.move_lock(old, new)
    return inst


def _rename_cluster(emu: Emulator, old: str, new: str) -> None:
    fleet = emu.fleet
    cluster = fleet.clusters.pop(old)
    cluster.cluster_id = new
    fleet.clusters[new] = cluster
    for iid in cluster.members:
        fleet.instances[iid].cluster_id = new


def _free_name(taken: Container[str], base: str) -> str:
    n = 1
    while f"{base}-old{n}" in taken:
        n += 1
    return f"{base}-old{n}"


async def create_blue_green(emu: Emulator, cluster_id: str, engine_version: str = "") -> BlueGreen:
    """The green environment: a copy of the cluster (same parameter groups, new resource ids),
    whose logs begin now."""
    blue = _cluster(emu, cluster_id)
    emu.fleet.refresh(emu.now())
    if blue.status != "available":
        raise LifecycleError(
            f"DbCluster {cluster_id} is {blue.status}; it must be available",
            "InvalidDBClusterStateFault",
        )
    state = emu.lifecycle
    n = len(state.deployments)
    digest = hashlib.sha256(f"{emu.config.seed}:{cluster_id}:{n}".encode()).hexdigest()
    suffix = digest[:6]
    fleet, now = emu.fleet, emu.now()
    green = fleet.add_cluster(
        f"{cluster_id}-green-{suffix}", blue.engine, 0, engine_version or blue.engine_version
    )
    green.parameter_group = blue.parameter_group
    green.tags = dict(blue.tags)
    pairs = []
    for bid in blue.members:
        b = fleet.instances[bid]
        g = fleet.add_instance(green.cluster_id, f"{bid}-green-{suffix}", b.activity)
        g.created = g.history_start = now
        g.instance_class, g.promotion_tier, g.writer = b.instance_class, b.promotion_tier, b.writer
        g.parameter_group, g.tags = b.parameter_group, dict(b.tags)
        fleet.update_log_types(g)
        pairs.append((bid, g.instance_id))
    bg = BlueGreen(f"bgd-{digest[6:20]}", cluster_id, green.cluster_id, pairs)
    state.deployments[bg.deployment_id] = bg
    return bg


async def switchover(emu: Emulator, deployment_id: str) -> BlueGreen:
    """Blue names pass to the green resources; the blue ones take `-old1` (or the next free)."""
    bg = emu.lifecycle.deployments.get(deployment_id)
    if bg is None:
        raise LifecycleError(
            f"no Blue/Green deployment {deployment_id}", "BlueGreenDeploymentNotFoundFault", 404
        )
    if bg.status != "AVAILABLE":
        raise LifecycleError(
            f"deployment {deployment_id} is {bg.status}", "InvalidBlueGreenDeploymentStateFault"
        )
    fleet = emu.fleet
    names = [bg.blue, bg.green, *(n for pair in bg.pairs for n in pair)]
    missing = [n for n in names if n not in fleet.clusters and n not in fleet.instances]
    if missing:  # renamed or deleted since the deployment was created: refuse before any change
        raise LifecycleError(
            f"deployment {deployment_id} lost {missing}", "InvalidBlueGreenDeploymentStateFault"
        )
    old_cluster = _free_name(fleet.clusters, bg.blue)
    _rename_cluster(emu, bg.blue, old_cluster)
    _rename_cluster(emu, bg.green, bg.blue)
    for blue, green in bg.pairs:
        old = _free_name(fleet.instances, blue)
        await rename_instance(emu, blue, old)
        await rename_instance(emu, green, blue)
        bg.renamed[blue] = old
        bg.renamed[green] = blue
    bg.renamed[bg.blue] = old_cluster
    bg.renamed[bg.green] = bg.blue
    bg.status = "SWITCHOVER_COMPLETED"
    return bg


# -- membership -----------------------------------------------------------------------------------


async def scale_in(emu: Emulator, iid: str) -> Instance:
    """Delete a reader: it leaves the cluster's members, its files are gone from the API (the
    ground truth keeps them, marked deleted)."""
    inst = find_instance(emu, iid)
    if inst.writer:
        raise LifecycleError(
            f"{iid} is the writer of {inst.cluster_id}; scale in a reader",
            "InvalidDBClusterStateFault",
        )
    async with emu.logs(iid) as (_, now):
        emu.store.forget(iid, now)
    inst.deleted_at = now
    emu.fleet.remove_instance(iid)
    return inst


# -- states ---------------------------------------------------------------------------------------


async def _set(emu: Emulator, inst: Instance, status: str, until: float, then: str) -> None:
    """Change a status after catching up, so the change applies from now on only."""
    async with emu.logs(inst.instance_id) as (logs, _):
        logs.rate_changed(emu.now())
        inst.status, inst.until, inst.then = status, until, then


async def pause(emu: Emulator, iid: str, paused: bool) -> Instance:
    """Serverless v2 auto-pause (0 ACUs) and resume; DescribeDBInstances still says available."""
    inst = find_instance(emu, iid)
    if inst.instance_class != "db.serverless":
        raise LifecycleError(
            f"{iid} is {inst.instance_class}: only Aurora Serverless v2 "
            "(db.serverless) instances pause",
            "InvalidDBInstanceState",
        )
    if inst.paused == paused:
        return inst
    async with emu.logs(iid) as (logs, now):
        logs.rate_changed(now)
        inst.paused = paused
        if not paused:
            logs.reboot(now)  # the engine starts again: its start-up lines
    return inst


async def set_cluster_running(emu: Emulator, cid: str, running: bool, seconds: float) -> Cluster:
    """StopDBCluster / StartDBCluster: every member at once, through stopping/starting."""
    cluster = _cluster(emu, cid)
    emu.fleet.refresh(emu.now())
    want = "available" if running else "stopped"
    ready = "stopped" if running else "available"
    if cluster.status != ready:
        raise LifecycleError(
            f"DbCluster {cid} is in {cluster.status} state; it must be {ready}",
            "InvalidDBClusterStateFault",
        )
    passing = "starting" if running else "stopping"
    now = emu.now()
    until = now + seconds if seconds > 0 else 0.0
    for iid in list(cluster.members):
        inst = emu.fleet.instances[iid]
        await _set(emu, inst, passing if until else want, until, want)
        if running:
            async with emu.logs(iid) as (logs, at):
                logs.reboot(at)
    cluster.status, cluster.until, cluster.then = (passing if until else want), until, want
    return cluster


async def set_instance_status(emu: Emulator, iid: str, status: str, seconds: float) -> Instance:
    """A transient per-instance status (rebooting, modifying, backing-up...) for `seconds`."""
    inst = find_instance(emu, iid)
    if status not in TRANSIENT:
        raise LifecycleError(
            f"status must be one of {', '.join(TRANSIENT)}; Aurora stops whole "
            "clusters (fleet/clusters/{id}/stop)",
            "InvalidParameterValue",
            400,
        )
    emu.fleet.refresh(emu.now(), iid)
    if inst.status != "available":
        raise LifecycleError(f"instance {iid} is {inst.status}")
    if status == "rebooting":
        async with emu.logs(iid) as (logs, now):
            logs.reboot(now)
    now = emu.now()
    inst.status, inst.until, inst.then = status, now + max(seconds, 0.001), "available"
    return inst
