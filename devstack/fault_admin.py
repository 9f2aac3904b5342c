"""`/_admin/faults` of every fault-injecting server (the OpenObserve emulator, the S3 fault
proxy): one request shape, so a test speaks one fault language to all of them.

`GET` reads the switches, `POST`/`PUT` apply a partial update (400 with the reason on a bad
field or value), `DELETE` clears them.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web
from pydantic import BaseModel, ValidationError


class FaultSwitches(Protocol):
    """What a server's fault state offers (`current` is a pydantic model of the switches)."""

    @property
    def current(self) -> BaseModel: ...

    def update(self, changes: dict[str, Any]) -> BaseModel: ...

    def clear(self) -> BaseModel: ...


def fault_routes(faults: FaultSwitches) -> list[web.RouteDef]:
    async def get_faults(_request: web.Request) -> web.Response:
        return web.json_response(faults.current.model_dump())

    async def set_faults(request: web.Request) -> web.Response:
        changes = await json_object(request)
        try:
            current = faults.update(changes)
        except ValidationError as exc:
            return web.json_response({"code": 400, "message": str(exc)}, status=400)
        return web.json_response(current.model_dump())

    async def clear_faults(_request: web.Request) -> web.Response:
        return web.json_response(faults.clear().model_dump())

    return [
        web.get("/_admin/faults", get_faults),
        web.post("/_admin/faults", set_faults),
        web.put("/_admin/faults", set_faults),
        web.delete("/_admin/faults", clear_faults),
    ]


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body ({} when empty); 400 for anything else."""
    if not request.can_read_body:
        return {}
    try:
        value = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"body is not JSON: {exc}") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return value
