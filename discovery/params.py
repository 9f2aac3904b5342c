"""What the fleet is not logging: log types its parameter groups switch off or make unreadable.

MySQL: `slow_query_log=0` (slow log off), `general_log=0`, `server_audit_logging=0`, and
`log_output=TABLE`/`NONE` (slow and general logs go to tables the RDS API cannot read);
PostgreSQL: `log_min_duration_statement=-1` (statement durations never logged). Values set on the
instance's parameter group win over the cluster's; a parameter absent from both has the engine
default (off, for the three optional MySQL logs; -1 for `log_min_duration_statement`), so only
user-set values are listed (`Source=user`: one page per group instead of two or three). A group's parameters are cached for an hour
(`CACHE_TTL_PARAMETERS_SEC`): at 12 requests/s for everyone, they are not worth more.
"""

from __future__ import annotations

from typing import Any

import structlog

from common.cache import DescribeCache
from common.log_types import LogType
from common.rds import RdsApi, RdsCallFailed, RdsNotFound
from discovery.fleet import Instance

log = structlog.get_logger(__name__)
_OFF = {"0", "off", "false"}
_MYSQL_DEFAULTS = {"slow_query_log": "0", "general_log": "0", "server_audit_logging": "0"}


def disabled_log_types(engine: str, params: dict[str, str]) -> dict[str, str]:
    """log type -> why it is off or unreadable, from the effective parameter values."""
    out: dict[str, str] = {}
    if "postgres" in engine:
        if params.get("log_min_duration_statement", "-1").strip() == "-1":  # -1 is the default
            out[LogType.POSTGRESQL.value] = "log_min_duration_statement=-1"
        return out
    values = {**_MYSQL_DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
    output = values.get("log_output", "FILE").upper()
    for log_type, param in (
        (LogType.SLOWQUERY, "slow_query_log"),
        (LogType.GENERAL, "general_log"),
        (LogType.AUDIT, "server_audit_logging"),
    ):
        if values[param].strip().lower() in _OFF:
            out[log_type.value] = f"{param}={values[param]}"
        elif log_type is not LogType.AUDIT and "FILE" not in output:
            out[log_type.value] = f"log_output={output}"
    return out


class ParameterChecker:
    def __init__(self, api: RdsApi, cache: DescribeCache, ttl_sec: float) -> None:
        self._api = api
        self._cache = cache
        self._ttl = ttl_sec
        self._unsupported = False
        self._logged: set[str] = set()

    async def _group(self, operation: str, name_param: str, name: str) -> dict[str, str]:
        async def load() -> dict[str, str]:
            # Only the values someone set: the engine defaults of the few parameters that matter
            # are known, and a group lists ~200 names (two pages each, for every cluster).
            items = await self._api.pages(
                operation, "Parameters", Source="user", **{name_param: name}
            )
            return {
                str(p["ParameterName"]): str(p["ParameterValue"])
                for p in items
                if "ParameterName" in p and "ParameterValue" in p
            }

        value: Any = await self._cache.get(f"{operation}:{name}", self._ttl, load)
        return dict(value)

    async def disabled(self, inst: Instance) -> dict[str, str] | None:
        """The instance's disabled log types, or None when its parameters cannot be read."""
        if self._unsupported:
            return None
        params: dict[str, str] = {}
        try:
            if inst.cluster_parameter_group:
                params.update(
                    await self._group(
                        "DescribeDBClusterParameters",
                        "DBClusterParameterGroupName",
                        inst.cluster_parameter_group,
                    )
                )
            for group in inst.parameter_groups:
                params.update(
                    await self._group("DescribeDBParameters", "DBParameterGroupName", group)
                )
        except RdsCallFailed as exc:
            if exc.code in ("InvalidAction", "UnknownOperationException"):
                if not self._unsupported:
                    log.warning("parameter_groups_unreadable", error=str(exc))
                self._unsupported = True
                return None
            raise
        except RdsNotFound as exc:
            if inst.instance_id not in self._logged:
                self._logged.add(inst.instance_id)
                log.warning(
                    "parameter_group_not_found", instance_id=inst.instance_id, error=str(exc)
                )
            return None
        return disabled_log_types(inst.engine, params)
