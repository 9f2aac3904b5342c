"""Admin routes for identity and lifecycle (rename, Blue/Green, scale-in, pause, cluster stop and
start, transient states) and for parameter groups. Documented in README.md."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from devstack.rds import lifecycle as lc
from devstack.rds.admin import AdminError, Handler, _body, _guard, _json
from devstack.rds.fleet import Cluster, Instance
from devstack.rds.params import Kind
from devstack.rds.state import Emulator


def instance_json(inst: Instance) -> dict[str, Any]:
    return {
        "instance_id": inst.instance_id,
        "cluster_id": inst.cluster_id,
        "resource_id": inst.resource_id,
        "instance_class": inst.instance_class,
        "status": inst.status,
        "paused": inst.paused,
        "writer": inst.writer,
        "parameter_group": inst.parameter_group,
        "log_types": list(inst.log_types),
    }


def cluster_json(emu: Emulator, c: Cluster) -> dict[str, Any]:
    return {
        "cluster_id": c.cluster_id,
        "resource_id": c.resource_id,
        "status": c.status,
        "parameter_group": c.parameter_group,
        "members": [instance_json(emu.fleet.instances[m]) for m in c.members],
    }


def _lifecycle_errors(fn: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request)
        except lc.LifecycleError as exc:
            return _json({"error": str(exc), "code": exc.code}, exc.status)

    return wrapped


def _seconds(body: dict[str, Any], default: float) -> float:
    value = float(body.get("seconds", default))
    if value < 0:
        raise AdminError("seconds must be >= 0")
    return value


def add_routes(app: web.Application, emu: Emulator) -> None:
    async def rename(request: web.Request) -> web.Response:
        body = await _body(request)
        new = str(body.get("new_instance_id") or "")
        if not new:
            raise AdminError("body needs new_instance_id")
        inst = await lc.rename_instance(emu, request.match_info["instance"], new)
        return _json(instance_json(inst))

    async def blue_green_create(request: web.Request) -> web.Response:
        body = await _body(request)
        bg = await lc.create_blue_green(
            emu, request.match_info["cluster"], str(body.get("engine_version", ""))
        )
        return _json(_deployment(bg), 201)

    async def blue_green_list(_: web.Request) -> web.Response:
        return _json([_deployment(bg) for bg in emu.lifecycle.deployments.values()])

    async def switchover(request: web.Request) -> web.Response:
        bg = await lc.switchover(emu, request.match_info["deployment"])
        return _json(_deployment(bg))

    async def scale_in(request: web.Request) -> web.Response:
        inst = await lc.scale_in(emu, request.match_info["instance"])
        return _json({**instance_json(inst), "deleted_at": inst.deleted_at})

    async def pause(request: web.Request) -> web.Response:
        inst = await lc.pause(emu, request.match_info["instance"], True)
        return _json(instance_json(inst))

    async def resume(request: web.Request) -> web.Response:
        inst = await lc.pause(emu, request.match_info["instance"], False)
        return _json(instance_json(inst))

    async def cluster_stop(request: web.Request) -> web.Response:
        seconds = _seconds(await _body(request), 0.0)
        c = await lc.set_cluster_running(emu, request.match_info["cluster"], False, seconds)
        return _json(cluster_json(emu, c))

    async def cluster_start(request: web.Request) -> web.Response:
        seconds = _seconds(await _body(request), 0.0)
        c = await lc.set_cluster_running(emu, request.match_info["cluster"], True, seconds)
        return _json(cluster_json(emu, c))

    async def instance_stop(request: web.Request) -> web.Response:
        inst = lc.find_instance(emu, request.match_info["instance"])
        # What StopDBInstance answers for a member of an Aurora cluster.
        raise lc.LifecycleError(
            f"{inst.engine} DB instances are not eligible for stopping and starting.",
            "InvalidParameterCombination",
            400,
        )

    async def instance_status(request: web.Request) -> web.Response:
        body = await _body(request)
        inst = await lc.set_instance_status(
            emu, request.match_info["instance"], str(body.get("status", "")), _seconds(body, 60.0)
        )
        return _json(instance_json(inst))

    async def settings(_: web.Request) -> web.Response:
        return _json({"stopped_error": emu.lifecycle.stopped_error})

    async def settings_set(request: web.Request) -> web.Response:
        body = await _body(request)
        code = str(body.get("stopped_error", emu.lifecycle.stopped_error))
        if code not in lc.STOPPED_ERRORS:
            raise AdminError(f"stopped_error must be one of {list(lc.STOPPED_ERRORS)}")
        emu.lifecycle.stopped_error = code
        return await settings(request)

    async def groups(_: web.Request) -> web.Response:
        return _json(
            {
                kind: {name: g.values for name, g in sorted(by_name.items())}
                for kind, by_name in emu.fleet.params.groups.items()
            }
        )

    async def group_set(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in ("cluster", "instance"):
            raise AdminError("kind is cluster or instance", 404)
        group = emu.fleet.params.get(_kind(kind), request.match_info["name"])
        if group is None:
            raise AdminError(f"no {kind} parameter group {request.match_info['name']}", 404)
        changes = (await _body(request)).get("parameters")
        if not isinstance(changes, dict):
            raise AdminError('body needs {"parameters": {name: value or null}}')
        known = {d.name for d in group.defs()}
        unknown = set(changes) - known
        if unknown:
            raise AdminError(f"{group.name} has no parameters {sorted(unknown)}")
        for name, value in changes.items():
            if value is None:
                group.values.pop(name, None)
            else:
                group.values[name] = str(value)
        await _apply_logging(emu)
        return _json({"name": group.name, "kind": kind, "values": group.values})

    routes: list[tuple[str, str, Handler]] = [
        ("POST", "fleet/instances/{instance}/rename", rename),
        ("POST", "fleet/instances/{instance}/scale-in", scale_in),
        ("POST", "fleet/instances/{instance}/pause", pause),
        ("POST", "fleet/instances/{instance}/resume", resume),
        ("POST", "fleet/instances/{instance}/stop", instance_stop),
        ("POST", "fleet/instances/{instance}/status", instance_status),
        ("POST", "fleet/clusters/{cluster}/stop", cluster_stop),
        ("POST", "fleet/clusters/{cluster}/start", cluster_start),
        ("POST", "fleet/clusters/{cluster}/blue-green", blue_green_create),
        ("GET", "blue-green", blue_green_list),
        ("POST", "blue-green/{deployment}/switchover", switchover),
        ("GET", "lifecycle", settings),
        ("POST", "lifecycle", settings_set),
        ("GET", "parameter-groups", groups),
        ("POST", "parameter-groups/{kind}/{name}", group_set),
    ]
    for method, path, fn in routes:
        app.router.add_route(method, f"/_admin/{path}", _guard(_lifecycle_errors(fn)))


def _kind(text: str) -> Kind:
    return "cluster" if text == "cluster" else "instance"


def _deployment(bg: lc.BlueGreen) -> dict[str, Any]:
    return {
        "deployment_id": bg.deployment_id,
        "blue_cluster": bg.blue,
        "green_cluster": bg.green,
        "pairs": [{"blue": b, "green": g} for b, g in bg.pairs],
        "status": bg.status,
        "renamed": bg.renamed,
    }


async def _apply_logging(emu: Emulator) -> None:
    """After a parameter change: each instance's log types, applied from now on where its files
    already exist (a type turned off stops being written, one turned on starts now)."""
    for iid, inst in list(emu.fleet.instances.items()):
        before = inst.log_types
        emu.fleet.update_log_types(inst)
        if inst.log_types != before and emu.store.peek(iid) is not None:
            async with emu.logs(iid) as (logs, now):
                logs.set_enabled(tuple(inst.log_types), now)
