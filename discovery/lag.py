"""How far behind this replica's instances are: bytes and files RDS lists beyond their
checkpoints, per log type (the gauges) and per instance (`stats`), and the disabled-log-type gauge.
Figures come from the last listings and tracking rows each `Discoverer` holds: no extra calls."""

from __future__ import annotations

from collections import Counter
from typing import Any

from common.log_types import LOG_TYPES
from discovery.cycle import Discoverer
from discovery.decide import behind
from discovery.metrics import BYTES_BEHIND, FILES_BEHIND, LOG_TYPE_DISABLED


def behind_by_instance(d: Discoverer) -> dict[str, dict[str, int]]:
    """instance id -> {"bytes": n, "files": n} for this shard's instances."""
    names = {i.resource_id: i.instance_id for i in d.owned()}
    out: dict[str, dict[str, int]] = {}
    for rid, sightings in d.sightings().items():
        rows = d.rows(rid)
        b = [behind(s, rows.get(s.generation.key)) for s in sightings]
        out[names[rid]] = {"bytes": sum(b), "files": sum(1 for x in b if x)}
    return out


def behind_by_type(d: Discoverer) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = {}
    for rid, sightings in d.sightings().items():
        rows = d.rows(rid)
        for s in sightings:
            b = behind(s, rows.get(s.generation.key))
            t = totals.setdefault(s.log_type.value, [0, 0])
            t[0] += b
            t[1] += 1 if b else 0
    return {k: (v[0], v[1]) for k, v in totals.items()}


def update_gauges(discoverers: list[Discoverer]) -> dict[str, Any]:
    """Set the lag and disabled-log-type gauges from all accounts of this replica."""
    off: Counter[str] = Counter()
    for d in discoverers:
        owned = {i.resource_id for i in d.owned()}
        for rid, reasons in d.disabled.items():
            if rid in owned:
                off.update({r.split(":", 1)[0] for r in reasons})
    for t in LOG_TYPES:
        LOG_TYPE_DISABLED.labels(t).set(off.get(t, 0))
    by_type: dict[str, list[int]] = {t: [0, 0] for t in LOG_TYPES}
    for d in discoverers:
        for t, (b, f) in behind_by_type(d).items():
            by_type[t][0] += b
            by_type[t][1] += f
    for t, (b, f) in by_type.items():
        BYTES_BEHIND.labels(t).set(b)
        FILES_BEHIND.labels(t).set(f)
    return {t: {"bytes": v[0], "files": v[1]} for t, v in by_type.items()}
