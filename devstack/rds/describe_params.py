"""DescribeDBClusterParameters and DescribeDBParameters: a parameter group's parameters, by name,
in pages of MaxRecords (20-100, default 100) with an opaque Marker, as botocore's model says."""

from __future__ import annotations

from typing import Any

from devstack.rds.describe import paginate
from devstack.rds.errors import ApiError, invalid_parameter
from devstack.rds.params import Kind
from devstack.rds.protocol import Params
from devstack.rds.state import Emulator

SOURCES = ("user", "engine-default", "system")
_WHAT = {"cluster": "DBClusterParameterGroup", "instance": "DBParameterGroup"}


def parameter_group_not_found(kind: Kind, name: str) -> ApiError:
    return ApiError("DBParameterGroupNotFound", f"{_WHAT[kind]} not found: {name}", 404)


def _describe(emu: Emulator, p: Params, kind: Kind, name_param: str) -> dict[str, Any]:
    name = p.required(name_param)
    source = p.text("Source")
    if source is not None and source not in SOURCES:
        raise invalid_parameter(f"Invalid value {source!r} for Source. Valid: {', '.join(SOURCES)}")
    filters = p.filters()
    for key in filters:
        if key != "parameter-name":
            raise invalid_parameter(f"Unrecognized filter name: {key}")
    wanted = set(filters.get("parameter-name", []))
    group = emu.fleet.params.get(kind, name)
    if group is None:
        raise parameter_group_not_found(kind, name)
    params = [group.parameter(d) for d in group.defs() if not wanted or d.name in wanted]
    if source is not None:
        params = [x for x in params if x["Source"] == source]
    page, nxt = paginate(params, lambda x: str(x["ParameterName"]), p)
    result: dict[str, Any] = {"Parameters": page}
    if nxt:
        result["Marker"] = nxt
    return result


def describe_cluster_parameters(emu: Emulator, p: Params) -> dict[str, Any]:
    return _describe(emu, p, "cluster", "DBClusterParameterGroupName")


def describe_parameters(emu: Emulator, p: Params) -> dict[str, Any]:
    return _describe(emu, p, "instance", "DBParameterGroupName")
