"""The admin API under `/_admin/` (JSON): health, accounting, faults, fleet, clock, throttling,
rates, and the ground truth of every file ever generated. Documented in README.md."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from common.log_types import LOG_TYPES
from devstack.rds.errors import ApiError
from devstack.rds.state import Emulator
from devstack.rds.store import InstanceLogs

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AdminError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, sort_keys=True))


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise AdminError(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise AdminError("body must be a JSON object")
    return body


def _guard(fn: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request)
        except AdminError as exc:
            return _json({"error": str(exc)}, exc.status)
        except ApiError as exc:
            return _json({"error": exc.message, "code": exc.code}, exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"error": f"{type(exc).__name__}: {exc}"}, 400)

    return wrapped


def _instance_json(emu: Emulator, iid: str) -> dict[str, Any]:
    i = emu.fleet.instances[iid]
    return {
        "instance_id": i.instance_id,
        "cluster_id": i.cluster_id,
        "resource_id": i.resource_id,
        "instance_class": i.instance_class,
        "paused": i.paused,
        "parameter_group": i.parameter_group,
        "engine": i.engine,
        "engine_version": i.engine_version,
        "status": i.status,
        "writer": i.writer,
        "activity": i.activity,
        "log_types": list(i.log_types),
    }


def add_routes(app: web.Application, emu: Emulator) -> None:
    r = app.router

    async def healthz(_: web.Request) -> web.Response:
        return _json({"status": "ok", "instances": len(emu.fleet.instances)})

    async def stats(_: web.Request) -> web.Response:
        return _json(emu.stats.snapshot())

    async def stats_reset(_: web.Request) -> web.Response:
        emu.stats.reset()
        return _json(emu.stats.snapshot())

    async def keys(_: web.Request) -> web.Response:
        return _json({"access_keys": sorted(emu.keys)})

    async def keys_add(request: web.Request) -> web.Response:
        body = await _body(request)
        key, secret = body.get("access_key"), body.get("secret_key")
        if not isinstance(key, str) or not key or not isinstance(secret, str) or not secret:
            raise AdminError("access_key and secret_key are required strings")
        emu.keys[key] = secret
        return await keys(request)

    async def faults(_: web.Request) -> web.Response:
        return _json(emu.faults.state())

    async def faults_set(request: web.Request) -> web.Response:
        emu.faults.configure(await _body(request))
        return _json(emu.faults.state())

    async def faults_reset(_: web.Request) -> web.Response:
        emu.faults.reset()
        return _json(emu.faults.state())

    async def profile(_: web.Request) -> web.Response:
        return _json({"profile": emu.faults.profile, "faults": emu.faults.state()})

    async def profile_set(request: web.Request) -> web.Response:
        emu.faults.apply_profile(str((await _body(request))["name"]))
        return await profile(request)

    async def fleet(_: web.Request) -> web.Response:
        emu.fleet.refresh(emu.now())
        return _json(
            {
                "clusters": {cid: c.members for cid, c in sorted(emu.fleet.clusters.items())},
                "instances": [_instance_json(emu, i) for i in sorted(emu.fleet.instances)],
            }
        )

    async def add_instance(request: web.Request) -> web.Response:
        body = await _body(request)
        cid = str(body["cluster_id"])
        if cid not in emu.fleet.clusters:
            engine = str(body.get("engine", "aurora-mysql"))
            if engine not in ("aurora-mysql", "aurora-postgresql"):
                raise AdminError(f"unknown engine {engine!r}")
            cluster = emu.fleet.add_cluster(cid, engine, 0, str(body.get("engine_version", "")))
        else:
            cluster = emu.fleet.clusters[cid]
        iid = str(body.get("instance_id") or f"{cid}-instance-{len(cluster.members) + 1}")
        if iid in emu.fleet.instances:
            raise AdminError(f"instance {iid} already exists", 409)
        activity = body.get("activity")
        emu.fleet.add_instance(cid, iid, None if activity is None else float(activity))
        return _json(_instance_json(emu, iid), 201)

    async def remove_instance(request: web.Request) -> web.Response:
        iid = request.match_info["instance"]
        if iid not in emu.fleet.instances:
            raise AdminError(f"no instance {iid}", 404)
        async with emu.logs(iid) as (_, now):
            emu.store.forget(iid, now)
        emu.fleet.remove_instance(iid)
        return _json({"removed": iid})

    async def reboot(request: web.Request) -> web.Response:
        iid = request.match_info["instance"]
        if iid not in emu.fleet.instances:
            raise AdminError(f"no instance {iid}", 404)
        body = await _body(request)
        async with emu.logs(iid) as (logs, now):
            logs.reboot(now)
            inst = emu.fleet.instances[iid]
            inst.status, inst.then = "rebooting", "available"
            inst.until = now + float(body.get("seconds", 30.0))
        return _json(_instance_json(emu, iid))

    async def append(request: web.Request) -> web.Response:
        iid = request.match_info["instance"]
        if iid not in emu.fleet.instances:
            raise AdminError(f"no instance {iid}", 404)
        body = await _body(request)
        data = str(body["text"]).encode() * int(body.get("repeat", 1))
        async with emu.logs(iid) as (logs, now):
            f = logs.append(str(body["log_type"]), data, now)
        return _json({"name": f.name, "listed_name": f.listed_name, "size": f.size})

    async def activity(request: web.Request) -> web.Response:
        body = await _body(request)
        ids = body.get("instances") or [request.match_info.get("instance")]
        level = float(body.get("activity", emu.config.busy_activity))
        for iid in ids:
            if iid not in emu.fleet.instances:
                raise AdminError(f"no instance {iid}", 404)
        for iid in ids:
            # Catch up first so the new level only applies from now on (an instance nobody has
            # looked at yet gets it for its whole history).
            if emu.store.peek(iid) is None:
                emu.fleet.instances[iid].activity = level
                continue
            async with emu.logs(iid):
                emu.fleet.instances[iid].activity = level
        return _json([_instance_json(emu, i) for i in ids])

    async def clock(_: web.Request) -> web.Response:
        return _json({"now": emu.now(), "speed": emu.clock.speed, "start": emu.config.start_time})

    async def clock_set(request: web.Request) -> web.Response:
        body = await _body(request)
        if "advance_sec" in body:
            emu.clock.advance(float(body["advance_sec"]))
        if "speed" in body:
            emu.clock.set_speed(float(body["speed"]))
        return await clock(request)

    async def throttle(_: web.Request) -> web.Response:
        return _json(emu.throttle.state())

    async def throttle_set(request: web.Request) -> web.Response:
        emu.throttle.configure(await _body(request))
        return _json(emu.throttle.state())

    async def rates(_: web.Request) -> web.Response:
        return _json({"rates": emu.config.rates, "scale": emu.config.rate_scale})

    async def rates_set(request: web.Request) -> web.Response:
        body = await _body(request)
        for key, value in body.items():
            if key != "scale" and key not in LOG_TYPES:
                raise AdminError(f"unknown log type {key!r}")
            if float(value) < 0:
                raise AdminError(f"{key} must be >= 0")
        for key, value in body.items():
            if key == "scale":
                emu.config.rate_scale = float(value)
            else:
                emu.config.rates[key] = float(value)
        return await rates(request)

    async def truth_index(_: web.Request) -> web.Response:
        live = [(i, None) for i in emu.fleet.instances.values()]
        gone = [(logs.inst, logs.inst.deleted_at) for logs in emu.store.removed()]
        resources = [
            {"resource_id": i.resource_id, "instance_id": i.instance_id, "exists": at is None,
             "deleted_at": at, "log_types": list(i.log_types)}
            for i, at in live + gone
        ]  # fmt: skip
        return _json({"instances": emu.store.known(), "resources": resources})

    async def truth_files(request: web.Request) -> web.Response:
        iid = request.match_info["instance"]
        logs = await _truth(emu, iid)
        now = emu.now()
        return _json(
            {
                "instance_id": iid,
                "resource_id": logs.inst.resource_id,
                "exists": logs.inst.deleted_at is None and iid in emu.fleet.instances,
                "deleted_at": logs.inst.deleted_at,
                "files": [
                    {
                        "name": f.name,
                        "listed_name": f.listed_name,
                        "log_type": f.log_type,
                        "size": f.size,
                        "last_written": f.last_written_ms,
                        "created": f.created,
                        "closed_at": f.closed_at,
                        "expires_at": f.expires_at,
                        "state": "open"
                        if f.is_open
                        else ("rotated" if f.listed(now) else "expired"),
                    }
                    for f in logs.all_files()
                ],
            }
        )

    async def truth_bytes(request: web.Request) -> web.StreamResponse:
        iid, name = request.match_info["instance"], request.match_info["name"]
        logs = await _truth(emu, iid)
        for f in logs.all_files():
            if f.name == name or f.listed_name == name:
                path = emu.gzip_copy(f) if request.query.get("gzip") == "1" else f.path
                return web.FileResponse(path, headers={"Content-Type": "application/octet-stream"})
        raise AdminError(f"instance {iid} never had a file {name}", 404)

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "healthz", healthz),
        ("GET", "stats", stats),
        ("POST", "stats/reset", stats_reset),
        ("GET", "keys", keys),
        ("POST", "keys", keys_add),
        ("GET", "faults", faults),
        ("POST", "faults", faults_set),
        ("POST", "faults/reset", faults_reset),
        ("GET", "faults/profile", profile),
        ("POST", "faults/profile", profile_set),
        ("GET", "fleet", fleet),
        ("POST", "fleet/instances", add_instance),
        ("DELETE", "fleet/instances/{instance}", remove_instance),
        ("POST", "fleet/instances/{instance}/reboot", reboot),
        ("POST", "fleet/instances/{instance}/activity", activity),
        ("POST", "fleet/instances/{instance}/append", append),
        ("POST", "fleet/activity", activity),
        ("GET", "clock", clock),
        ("POST", "clock", clock_set),
        ("GET", "throttle", throttle),
        ("POST", "throttle", throttle_set),
        ("GET", "rates", rates),
        ("POST", "rates", rates_set),
        ("GET", "ground-truth", truth_index),
        ("GET", "ground-truth/{instance}", truth_files),
        ("GET", "ground-truth/{instance}/{name:.+}", truth_bytes),
    ]
    for method, path, fn in routes:
        r.add_route(method, f"/_admin/{path}", _guard(fn))


async def _truth(emu: Emulator, iid: str) -> InstanceLogs:
    if iid in emu.fleet.instances:
        async with emu.logs(iid) as (logs, _):
            return logs
    gone = emu.store.ground_truth(iid, emu.now())
    if gone is None:
        raise AdminError(f"instance {iid} never existed", 404)
    return gone
