"""The six measured figures that drive the cost, read from the benchmarks' results:
`pipeline.json` (end to end) first, then `processor.json` (per log type, weighted by the
assumed mix), then `parsers.json` (parse CPU only). A figure found nowhere raises
`MissingFigures` naming where it should be, unless the caller accepts the labelled `ESTIMATES`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cost.assumptions import ESTIMATES
from common.log_types import LogType

GIB = 1024**3
FIGURES = (
    "cpu_s_per_gb",
    "compression_ratio",
    "dynamodb_writes_per_gb",
    "s3_requests_per_gb",
    "rds_calls_per_gb",
    "kafka_messages_per_gb",
)


class MissingFigures(Exception):
    """Measured figures the model needs were found in no result file (`missing` names them)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            "measured figures missing: "
            + "; ".join(missing)
            + " (run the benchmarks that write them, or pass --estimates)"
        )
        self.missing = missing


@dataclass(frozen=True)
class Figure:
    value: float
    source: str
    estimated: bool = False


def mix(assumptions: dict[str, float]) -> dict[str, float]:
    shares = {t.value: assumptions.get(f"mix_{t.value}", 0.0) for t in LogType}
    total = sum(shares.values())
    if total <= 0:
        raise ValueError("the log-type mix is empty")
    return {t: s / total for t, s in shares.items() if s > 0}


def weighted(per_type: dict[str, float], shares: dict[str, float], harmonic: bool = False) -> float:
    """The mix's figure: a per-GB figure is the byte-weighted mean; a ratio (raw ÷ stored) is
    weighted harmonically, since what adds up is the stored bytes."""
    present = {t: s for t, s in shares.items() if t in per_type}
    total = sum(present.values())
    if harmonic:
        return total / sum(s / per_type[t] for t, s in present.items())
    return sum(s * per_type[t] for t, s in present.items()) / total


def _read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    return data


def _per_type(data: dict[str, Any], key: str) -> dict[str, float]:
    """{log type: value} wherever the file keeps per-log-type dicts (top level or one down)."""
    containers = [data, *(v for v in data.values() if isinstance(v, dict))]
    for box in containers:
        found = {
            t.value: float(box[t.value][key])
            for t in LogType
            if isinstance(box.get(t.value), dict) and key in box[t.value]
        }
        if found:
            return found
    return {}


def _top(data: dict[str, Any], key: str) -> float | None:
    """A figure at the top level, or one level down (not under a baseline's own numbers)."""
    if isinstance(data.get(key), int | float):
        return float(data[key])
    for name, v in data.items():
        ours = isinstance(v, dict) and "baseline" not in name and "seed" not in name
        if ours and isinstance(v.get(key), int | float):
            return float(v[key])
    return None


def load_figures(
    results: Path, assumptions: dict[str, float], estimates: bool
) -> dict[str, Figure]:
    """The six figures, each with where it came from; MissingFigures names what was found nowhere."""
    shares = mix(assumptions)
    processor = _read(results / "processor.json") or {}
    pipeline = _read(results / "pipeline.json") or {}
    parsers = _read(results / "parsers.json") or {}
    out: dict[str, Figure] = {}
    pipeline_keys = {
        "cpu_s_per_gb": "processor_cpu_s_per_gb",
        "dynamodb_writes_per_gb": "dynamodb_writes_per_gb",
        "rds_calls_per_gb": "rds_calls_per_gb",
        "kafka_messages_per_gb": "kafka_messages_per_gb",
    }
    for figure in FIGURES:
        pkey = pipeline_keys.get(figure)
        value = _top(pipeline, pkey) if pkey else None
        if value is not None:
            out[figure] = Figure(value, f"pipeline.json {pkey} (end to end)")
            continue
        per_type = _per_type(processor, figure)
        if per_type:
            ratio = figure == "compression_ratio"
            note = "" if set(shares) <= set(per_type) else f", only {sorted(per_type)} measured"
            out[figure] = Figure(
                weighted(per_type, shares, harmonic=ratio),
                f"processor.json {figure} per log type, weighted by the mix{note}",
            )
    if "cpu_s_per_gb" not in out:
        formats = parsers.get("formats", {})
        parse = {
            t: GIB * float(f["cpu_seconds"]) / float(f["bytes"])
            for t, f in formats.items()
            if t in {x.value for x in LogType} and f.get("bytes")
        }
        if parse and estimates:
            factor, why = ESTIMATES["cpu_overhead_factor"]
            out["cpu_s_per_gb"] = Figure(
                weighted(parse, shares) * factor,
                f"ESTIMATE: parsers.json parse CPU per GB × {factor} ({why})",
                estimated=True,
            )
        elif parse:
            out["cpu_s_per_gb"] = Figure(
                weighted(parse, shares), "parsers.json parse CPU only (a lower bound)"
            )
    missing = [f for f in FIGURES if f not in out]
    if missing and estimates:
        for f in missing:
            out[f] = Figure(ESTIMATES[f][0], f"ESTIMATE: {ESTIMATES[f][1]}", estimated=True)
    elif missing:
        where = {
            "cpu_s_per_gb": "pipeline.json processor_cpu_s_per_gb or processor.json <log type>.cpu_s_per_gb",
            "compression_ratio": "processor.json <log type>.compression_ratio",
            "s3_requests_per_gb": "processor.json <log type>.s3_requests_per_gb",
        }
        raise MissingFigures(
            [
                where.get(
                    f, f"pipeline.json {pipeline_keys.get(f, f)} or processor.json <log type>.{f}"
                )
                for f in missing
            ]
        )
    return out
