"""One instance's log files as RDS lists them, turned into *sightings*: followed files with their
log type, generation and whether they are complete.

The listing is filtered with `FileLastWritten` (files written since the last sighting minus a
margin, rounded down to 5 minutes so that the cache key is stable), except for the periodic full
listing that finds vanished files. Names the system does not follow are skipped; a name that
looks followed but does not parse is logged once per instance and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from common.cache import DescribeCache
from common.log_files import (
    Generation,
    LogNameError,
    family_of,
    generation_of,
    log_type_of,
    succession_key,
)
from common.log_types import LogType
from common.rds import RdsApi, RdsMalformed
from discovery.fleet import Instance
from discovery.metrics import SKIPPED_NAMES

log = structlog.get_logger(__name__)

FILTER_STEP_MS = 300_000
# Listed but never followed: a 5-minute staging file whose bytes reappear in the running log.
KNOWN_UNFOLLOWED = ("error/mysql-error.log",)


@dataclass(frozen=True)
class Sighting:
    name: str
    size: int
    last_written: int
    log_type: LogType
    generation: Generation
    rotated: bool


@dataclass(frozen=True)
class Listing:
    files: list[Sighting]
    full: bool  # unfiltered: a file missing from it is gone from RDS
    newest_written: int  # the largest LastWritten listed (RDS's own clock)


def filter_from(last_sighting_ms: int | None, margin_sec: float) -> int | None:
    if last_sighting_ms is None:
        return None
    since = last_sighting_ms - int(margin_sec * 1000)
    return max(0, since - since % FILTER_STEP_MS)


class LogFileLister:
    def __init__(self, api: RdsApi, cache: DescribeCache, ttl_sec: float) -> None:
        self._api = api
        self._cache = cache
        self._ttl = ttl_sec
        self._logged: set[tuple[str, str]] = set()

    async def listing(self, inst: Instance, since_ms: int | None) -> Listing:
        params: dict[str, Any] = {"DBInstanceIdentifier": inst.instance_id}
        if since_ms is not None:
            params["FileLastWritten"] = since_ms
        key = f"DescribeDBLogFiles:{inst.resource_id}:{inst.instance_id}:{since_ms or 'all'}"

        async def load() -> list[list[Any]]:
            items = await self._api.pages("DescribeDBLogFiles", "DescribeDBLogFiles", **params)
            return [[f["LogFileName"], int(f["Size"]), int(f["LastWritten"])] for f in items]

        try:
            raw = await self._cache.get(key, self._ttl, load)
        except (KeyError, TypeError, ValueError) as exc:
            raise RdsMalformed("DescribeDBLogFiles", f"{inst.instance_id}: {exc!r}") from exc
        return Listing(
            self._sightings(inst, raw), since_ms is None, max((r[2] for r in raw), default=0)
        )

    def _once(self, inst: Instance, name: str, event: str, **extra: Any) -> None:
        if (inst.resource_id, name) in self._logged:
            return
        self._logged.add((inst.resource_id, name))
        log.warning(event, instance_id=inst.instance_id, log_file_name=name, **extra)

    def _sightings(self, inst: Instance, raw: list[list[Any]]) -> list[Sighting]:
        found: list[tuple[str, int, int, LogType, Generation]] = []
        for name, size, written in raw:
            log_type = log_type_of(inst.engine, name)
            if log_type is None:
                if name not in KNOWN_UNFOLLOWED:
                    SKIPPED_NAMES.labels("unknown_name").inc()
                    self._once(inst, name, "log_file_not_followed")
                continue
            try:
                gen = generation_of(name, written, size)
            except LogNameError as exc:
                SKIPPED_NAMES.labels("unparsable_name").inc()
                self._once(inst, name, "log_file_name_unparsable", error=str(exc))
                continue
            found.append((name, size, written, log_type, gen))
        newest: dict[str, tuple[int, str]] = {}
        for name, *_ in found:
            fam = family_of(name)
            key = succession_key(name)
            if fam not in newest or key > newest[fam]:
                newest[fam] = key
        by_generation: dict[str, Sighting] = {}
        for name, size, written, log_type, gen in found:
            fam = family_of(name)
            rotated = gen.rotated_name or succession_key(name) < newest[fam]
            s = Sighting(name, size, written, log_type, gen, rotated)
            seen = by_generation.get(gen.key)
            # Both names of one generation in a listing: the rotated (complete) one wins.
            if seen is None or (s.rotated and not seen.rotated):
                by_generation[gen.key] = s
        return list(by_generation.values())
