"""Fault modes, each switched at run time through the admin API, with its parameters.

| name | effect | parameters |
| --- | --- | --- |
| latency | every API call waits first | ms, jitter_ms, operations |
| server_error | calls fail with a 5xx | rate (0-1), status (500/503), operations |
| pending_false_after_truncation | a truncated page says AdditionalDataPending=false | |
| overlap | the returned marker points `bytes` before the end of the data served | bytes |
| zero_marker_top_of_hour | active files answer Marker "0" in the first minutes of the hour | window_sec |
| not_found_during_rotation | the active name is missing just after the hour | window_sec |
| binary_data | portion calls get the binary-data InvalidParameterValue | instance, file_contains, offset_start, offset_end |
| size_mismatch | DescribeDBLogFiles reports Size + delta | delta, log_types |
| gzip_old_postgres | rotated PostgreSQL files older than min_age_sec are listed as .gz | min_age_sec |
"""

from __future__ import annotations

import copy
from typing import Any

DEFAULTS: dict[str, dict[str, Any]] = {
    "latency": {"ms": 100.0, "jitter_ms": 0.0, "operations": []},
    "server_error": {"rate": 1.0, "status": 500, "operations": []},
    "pending_false_after_truncation": {},
    "overlap": {"bytes": 3500},
    "zero_marker_top_of_hour": {"window_sec": 300.0},
    "not_found_during_rotation": {"window_sec": 60.0},
    "binary_data": {"instance": "", "file_contains": "", "offset_start": 0, "offset_end": None},
    "size_mismatch": {"delta": 241, "log_types": []},
    "gzip_old_postgres": {"min_age_sec": 0.0},
}


class Faults:
    def __init__(self) -> None:
        self._enabled: dict[str, bool] = dict.fromkeys(DEFAULTS, False)
        self._params: dict[str, dict[str, Any]] = copy.deepcopy(DEFAULTS)

    def on(self, name: str) -> bool:
        return self._enabled[name]

    def param(self, name: str, key: str) -> Any:
        return self._params[name][key]

    def applies(self, name: str, operation: str) -> bool:
        if not self._enabled[name]:
            return False
        ops = self._params[name].get("operations") or []
        return not ops or operation in ops

    def state(self) -> dict[str, Any]:
        return {n: {"enabled": self._enabled[n], **self._params[n]} for n in DEFAULTS}

    def configure(self, body: dict[str, Any]) -> None:
        """`{name: {"enabled": bool, param: value...}}`; checked whole before anything changes."""
        for name, spec in body.items():
            if name not in DEFAULTS:
                raise ValueError(f"unknown fault {name!r}; known: {sorted(DEFAULTS)}")
            if not isinstance(spec, dict):
                raise ValueError(f"fault {name!r} takes an object")
            unknown = set(spec) - set(DEFAULTS[name]) - {"enabled"}
            if unknown:
                raise ValueError(f"fault {name!r} has no parameters {sorted(unknown)}")
        for name, spec in body.items():
            if "enabled" in spec:
                self._enabled[name] = bool(spec["enabled"])
            self._params[name].update({k: v for k, v in spec.items() if k != "enabled"})

    def reset(self) -> None:
        self._enabled = dict.fromkeys(DEFAULTS, False)
        self._params = copy.deepcopy(DEFAULTS)
