"""The HTTP application: the query API on `POST /`, the complete download, and `/_admin/`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import structlog
from aiohttp import web
from prometheus_client import Counter

from devstack.rds import admin, admin_fleet
from devstack.rds.describe import describe_clusters, describe_instances
from devstack.rds.describe_params import describe_cluster_parameters, describe_parameters
from devstack.rds.errors import ApiError
from devstack.rds.logapi import check_ready, describe_log_files, download_portion, find_view
from devstack.rds.protocol import Params, render, render_error, render_portion
from devstack.rds.sigv4 import SignatureError, caller, verify
from devstack.rds.state import Emulator

log = structlog.get_logger("devstack.rds")
EMULATOR = web.AppKey("emulator", Emulator)
INTERNAL_ERRORS = Counter(
    "aurora_rds_emulator_internal_errors_total",
    "Unexpected failures inside the RDS emulator",
    ["operation"],
)
OPERATIONS = (
    "DescribeDBLogFiles",
    "DownloadDBLogFilePortion",
    "DescribeDBInstances",
    "DescribeDBClusters",
    "DescribeDBClusterParameters",
    "DescribeDBParameters",
)
COMPLETE = "DownloadCompleteDBLogFile"
# The newest RDS User Guide ("Reading log file contents using REST"): API versions before
# 2014-10-31, including the `/v13/` path of the complete download, stop working after this date.
RETIRED_PATHS = {"v13": datetime(2027, 3, 1, tzinfo=UTC).timestamp()}


def _xml(body: bytes, rid: str, status: int = 200) -> web.Response:
    return web.Response(
        body=body, status=status, content_type="text/xml", headers={"x-amzn-RequestId": rid}
    )


def _error(err: ApiError, rid: str) -> web.Response:
    return _xml(render_error(err, rid), rid, err.status)


def _internal_error(emu: Emulator, operation: str, rid: str) -> web.Response:
    """A bug of ours: logged with its traceback, counted, answered as AWS would (500)."""
    INTERNAL_ERRORS.labels(operation).inc()
    emu.stats.error(operation, "InternalFailure")
    log.exception("rds_emulator_internal_error", operation=operation, request_id=rid)
    return _error(ApiError("InternalFailure", "An internal error has occurred.", 500, False), rid)


async def _before(emu: Emulator, operation: str, region: str) -> None:
    """What happens to every call before its work: latency, throttling, injected 5xx."""
    faults = emu.faults
    if faults.applies("latency", operation):
        ms = float(faults.param("latency", "ms"))
        ms += emu.fault_rng.uniform(0, float(faults.param("latency", "jitter_ms")))
        await asyncio.sleep(ms / 1000)
    if not emu.throttle.allow(emu.config.account_id, region, operation):
        emu.stats.throttle(operation)
        raise ApiError(emu.throttle.code, "Rate exceeded", 400)
    if faults.applies("server_error", operation) and emu.fault_rng.random() < float(
        faults.param("server_error", "rate")
    ):
        status = int(faults.param("server_error", "status"))
        if status == 503:
            raise ApiError("ServiceUnavailable", "Service is unavailable.", 503, sender=False)
        raise ApiError("InternalFailure", "An internal error has occurred.", status, False)


async def handle_query(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    rid = str(uuid.uuid4())
    raw: dict[str, str] = dict(request.query)
    if request.method == "POST":
        form = await request.post()
        raw.update({k: v for k, v in form.items() if isinstance(v, str)})
    action = raw.get("Action", "")
    if not action:
        return _error(
            ApiError("MissingAction", "The request must contain the parameter Action"), rid
        )
    emu.stats.call(action)
    try:
        if action not in OPERATIONS:
            raise ApiError(
                "InvalidAction", f"The action {action} is not valid for this web service."
            )
        who = caller(request.headers)
        region = who.region
        emu.stats.caller(action, who.access_key, region)
        await _before(emu, action, region)
        p = Params(raw)
        if action == "DownloadDBLogFilePortion":
            por = await download_portion(emu, p)
            emu.stats.served(action, len(por.data or b""))
            return _xml(render_portion(por.data, por.marker, por.pending, rid), rid)
        if action == "DescribeDBLogFiles":
            result = await describe_log_files(emu, p)
        elif action == "DescribeDBInstances":
            result = describe_instances(emu, p, region)
        elif action == "DescribeDBClusterParameters":
            result = describe_cluster_parameters(emu, p)
        elif action == "DescribeDBParameters":
            result = describe_parameters(emu, p)
        else:
            result = describe_clusters(emu, p, region)
        body = render(action, result, rid)
        emu.stats.served(action, len(body))
        return _xml(body, rid)
    except ApiError as err:
        emu.stats.error(action, err.code)
        return _error(err, rid)
    except Exception:  # noqa: BLE001 - logged with traceback and counted there
        return _internal_error(emu, action, rid)


async def handle_download(request: web.Request) -> web.StreamResponse:
    """`GET /v19/downloadCompleteLogFile/{instance}/{file}`: the whole file, SigV4 checked.
    `/v13/` answers the same until the emulated clock reaches its retirement (2027-03-01), and
    then what a retired API version answers."""
    emu = request.app[EMULATOR]
    rid = str(uuid.uuid4())
    instance_id = request.match_info["instance"]
    name = request.match_info["name"]
    version = request.match_info["version"]
    emu.stats.call(COMPLETE)
    try:
        if version in RETIRED_PATHS and emu.now() >= RETIRED_PATHS[version]:
            raise ApiError(
                "NoSuchVersion",
                f"The requested version ({version}) of service AmazonRDS does not exist",
                400,
            )
        secrets: Mapping[str, str] = emu.keys
        try:
            who = verify(
                request.method,
                request.raw_path.split("?", 1)[0],
                request.rel_url.raw_query_string,
                request.headers,
                b"",
                secrets,
            )
        except SignatureError as exc:
            raise ApiError("SignatureDoesNotMatch", str(exc), 403) from None
        emu.stats.caller(COMPLETE, who.access_key, who.region)
        await _before(emu, COMPLETE, who.region)
        async with emu.logs(instance_id) as (logs, now):
            check_ready(emu, logs.inst)
            view = find_view(emu, logs, name, now)
            path = emu.gzip_copy(view.file) if view.gz else view.file.path
            size = path.stat().st_size
        emu.stats.served(COMPLETE, size)
        content_type = "application/octet-stream" if view.gz else "text/plain; charset=utf-8"
        return web.FileResponse(
            path,
            chunk_size=1 << 20,
            headers={"Content-Type": content_type, "x-amzn-RequestId": rid},
        )
    except ApiError as err:
        emu.stats.error(COMPLETE, err.code)
        return _error(err, rid)
    except Exception:  # noqa: BLE001 - logged with traceback and counted there
        return _internal_error(emu, COMPLETE, rid)


def build_app(emu: Emulator) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[EMULATOR] = emu
    app.router.add_route("POST", "/", handle_query)
    app.router.add_route("GET", "/", handle_query)
    app.router.add_get(
        r"/{version:v19|v13}/downloadCompleteLogFile/{instance}/{name:.+}", handle_download
    )
    admin.add_routes(app, emu)
    admin_fleet.add_routes(app, emu)
    return app
