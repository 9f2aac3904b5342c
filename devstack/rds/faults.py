"""Fault modes, each switched at run time through the admin API, with its parameters, and the
named profiles that switch a set of them on at once (`--profile`, `POST /_admin/faults/profile`).

Quirks that RDS shows only sometimes take a `rate`: the share of eligible answers that show it
(drawn from the emulator's seeded fault RNG, so a run is repeatable for a given call sequence).

| name | effect | parameters |
| --- | --- | --- |
| latency | every API call waits first | ms, jitter_ms, operations |
| server_error | calls fail with a 5xx | rate (0-1), status (500/503), operations |
| pending_false_after_truncation | a truncated page says AdditionalDataPending=false | |
| pending_false_early | a page with more data after it says AdditionalDataPending=false | rate |
| pending_omitted | the answer has no AdditionalDataPending element at all | rate |
| empty_page | a page with data pending comes back empty, its marker advanced past the data | rate |
| overlap | the returned marker points `bytes` before the end of the data served | bytes, rate |
| truncation_marker_off_by_one | a truncated page's marker is one byte past the cut | rate |
| echo_marker_after_rotation | a marker of the previous hour on a reused live name comes back unchanged with no data (instead of the old segment's rest and Marker "0") | |
| not_found_during_rotation | the active name is missing just after the hour | window_sec |
| binary_data | portion calls get the binary-data InvalidParameterValue | instance, file_contains, offset_start, offset_end |
| size_mismatch | DescribeDBLogFiles reports Size + delta (for a `rate` share of files) | delta, log_types, rate |
| error_log_staging_size | `error/mysql-error.log` is listed with bytes in a `rate` share of 5-minute windows (it still downloads empty) | rate |
| gzip_old_postgres | rotated PostgreSQL files older than min_age_sec are listed as .gz | min_age_sec |
"""

from __future__ import annotations

import copy
import random
import zlib
from typing import Any

DEFAULTS: dict[str, dict[str, Any]] = {
    "latency": {"ms": 100.0, "jitter_ms": 0.0, "operations": []},
    "server_error": {"rate": 1.0, "status": 500, "operations": []},
    "pending_false_after_truncation": {},
    "pending_false_early": {"rate": 1.0},
    "pending_omitted": {"rate": 1.0},
    "empty_page": {"rate": 1.0},
    "overlap": {"bytes": 3500, "rate": 1.0},
    "truncation_marker_off_by_one": {"rate": 1.0},
    "echo_marker_after_rotation": {},
    "not_found_during_rotation": {"window_sec": 60.0},
    "binary_data": {"instance": "", "file_contains": "", "offset_start": 0, "offset_end": None},
    "size_mismatch": {"delta": 241, "log_types": [], "rate": 1.0},
    "error_log_staging_size": {"rate": 1.0},
    "gzip_old_postgres": {"min_age_sec": 0.0},
}

# The documented quirks at low rates (docs/reference/rds-api.md §1: early
# AdditionalDataPending=false, overlaps at page boundaries, Size not matching the download, ...):
# what the tests and the demo run on.
# `happy` is every fault off: the service as its documentation describes it.
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "happy": {},
    "realistic": {
        "pending_false_early": {"enabled": True, "rate": 0.02},
        "pending_omitted": {"enabled": True, "rate": 0.01},
        "empty_page": {"enabled": True, "rate": 0.02},
        "overlap": {"enabled": True, "rate": 0.03, "bytes": 3500},
        "truncation_marker_off_by_one": {"enabled": True, "rate": 0.5},
        "not_found_during_rotation": {"enabled": True, "window_sec": 20.0},
        "size_mismatch": {"enabled": True, "rate": 0.05, "delta": 241},
        "error_log_staging_size": {"enabled": True, "rate": 0.3},
    },
}


class Faults:
    def __init__(self, profile: str = "happy") -> None:
        self._enabled: dict[str, bool] = dict.fromkeys(DEFAULTS, False)
        self._params: dict[str, dict[str, Any]] = copy.deepcopy(DEFAULTS)
        self.profile = "happy"
        self.apply_profile(profile)

    def on(self, name: str) -> bool:
        return self._enabled[name]

    def param(self, name: str, key: str) -> Any:
        return self._params[name][key]

    def hit(self, name: str, rng: random.Random) -> bool:
        """Whether this answer shows fault `name`: it is on, and a draw falls under its rate."""
        return self._enabled[name] and rng.random() < float(self._params[name]["rate"])

    def hit_for(self, name: str, key: str) -> bool:
        """Like `hit`, but the same for every call about `key` (a listing stays consistent)."""
        if not self._enabled[name]:
            return False
        draw = zlib.crc32(f"{name}:{key}".encode()) / 2**32
        return draw < float(self._params[name]["rate"])

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
        """Every fault off, parameters back to their defaults: the `happy` profile."""
        self._enabled = dict.fromkeys(DEFAULTS, False)
        self._params = copy.deepcopy(DEFAULTS)
        self.profile = "happy"

    def apply_profile(self, name: str) -> None:
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}; known: {sorted(PROFILES)}")
        self.reset()
        self.configure(copy.deepcopy(PROFILES[name]))
        self.profile = name
