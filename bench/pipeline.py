"""Benchmark of the whole pipeline (discovery + processors as real processes on the local stack,
the emulated 316-instance fleet), against a seed-style baseline measured in the same run.

Each run is `devstack.pipeline.PipelineRun` — the very run `make demo` shows — without the
demo's injected faults (the RDS emulator keeps its realistic profile), measured from outside by
`devstack.measure` (ground truth, S3, DynamoDB, OpenObserve, the services' samples, /proc):

* **ours**, two processor replicas: `end_to_end_mb_per_s` (bytes shipped, i.e. the tracking
  rows' `shipped_offset`, per second since the services started), `processor_cpu_s_per_gb`
  (user+system CPU of the processor processes), `rds_calls_per_gb` (the emulator's count),
  `discovery_calls_per_cycle`, `freshness_p50_sec` / `freshness_p95_sec` (the worst log type's;
  per type in `freshness_by_type`), `kafka_messages_per_gb`, `dynamodb_writes_per_gb`
  (tracking-row versions plus jobs rows); per GB = per 10^9 bytes shipped;
* **baseline** (same keys): the seed's way — rotated files read with portion calls only
  (`PROCESSOR_COMPLETE_DOWNLOAD=false`) and discovery with `DISCOVERY_SEED_STYLE=true`
  (per-instance DescribeDBInstances, no read-through cache) where that setting exists (the JSON
  says whether it did);
* `ratio_calls_per_gb`, `ratio_cpu`: baseline ÷ ours;
* `replicas`: end-to-end MB/s with one and with two processor replicas (ours).

The default fleet is 16 instances, every one busy (`--busy-fraction 1`), at 2× the emulator's
rates (×10 clock, two hours of history: a backlog of rotated files at start, so that MB/s is the
pipeline's capacity rather than the rate the fleet writes at): few, big files, because production files are big
(100 TB a month over 316 instances is ~440 MB per instance-hour) and the two read paths differ
only on files longer than one portion page (1 MiB), and a volume the processors cannot finish
in the run, so that MB/s and CPU per GB are the processors' and not the RDS budget's. With the
demo's fleet (`--instances 316 --rate-scale 0.3 --busy-fraction 0.1`) every rotated file fits in
one page, both paths cost about one call per file, and the run is bound by the RDS budget.

Usage: .venv/bin/python bench/pipeline.py [--duration 120] [--instances 16] [--rate-scale 2]
                                          [--busy-fraction 1] [--history-hours 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.settings import DiscoverySettings  # noqa: E402
from devstack.measure import Measurement  # noqa: E402
from devstack.pipeline import PipelineOptions, PipelineRun  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "pipeline.json"
KEYS = (
    "end_to_end_mb_per_s",
    "processor_cpu_s_per_gb",
    "rds_calls_per_gb",
    "discovery_calls_per_cycle",
    "freshness_p50_sec",
    "freshness_p95_sec",
    "kafka_messages_per_gb",
    "dynamodb_writes_per_gb",
)
SEED_STYLE_EXISTS = "discovery_seed_style" in DiscoverySettings.model_fields


def run_once(options: PipelineOptions, duration: float, root: Path) -> Measurement:
    """One run: a fresh stack, the services for `duration` seconds, then the figures."""
    with PipelineRun(options, root) as run:
        run.up()
        run.start_services()
        time.sleep(max(duration - (time.time() - run.started_wall), 0.0))
        return run.measure()


def summary(m: Measurement) -> dict[str, Any]:
    figures = m.figures()
    return {
        **{k: figures[k] for k in KEYS},
        "shipped_bytes": m.shipped,
        "generated_bytes": m.total("generated"),
        "elapsed_sec": round(m.elapsed_sec, 1),
        "rds_calls": m.rds_calls,
        "rds_throttled": m.rds_throttled,
        "processor_cpu_sec": round(m.processor_cpu_sec, 2),
        "discovery_cycles": m.discovery_cycles,
        "kafka_messages": m.kafka_messages,
        "dynamodb_writes": m.dynamodb_writes,
        "duplicate_events": m.total("duplicate_events"),
        "freshness_by_type": {
            t: {"p50": v.freshness_p50, "p95": v.freshness_p95, "samples": v.freshness_samples}
            for t, v in m.volumes.items()
        },
    }


def ratio(baseline: float | None, ours: float | None) -> float | None:
    if baseline is None or not ours:
        return None
    return round(baseline / ours, 2)


def markdown(result: dict[str, Any]) -> str:
    base = result["baseline"]
    rows = [
        "| Figure | Ours (2 processors) | Seed-style baseline | Baseline ÷ ours |",
        "| --- | --- | --- | --- |",
    ]
    for key in KEYS:
        rows.append(f"| `{key}` | {result[key]} | {base[key]} | {ratio(base[key], result[key])} |")
    reps = result["replicas"]
    rows.append(f"| MB/s with 1 / 2 processor replicas | {reps['1']} / {reps['2']} | | |")
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=120.0, help="seconds per run (120)")
    p.add_argument("--instances", type=int, default=16)
    p.add_argument("--rate-scale", type=float, default=2.0)
    p.add_argument("--busy-fraction", type=float, default=1.0)
    p.add_argument("--clock-speed", type=float, default=10.0)
    p.add_argument(
        "--history-hours",
        type=float,
        default=2.0,
        help="hours of rotated files waiting at start (2): a backlog, so that MB/s is what the "
        "pipeline can do, not the rate the fleet writes at",
    )
    a = p.parse_args()
    base = PipelineOptions(
        instances=a.instances,
        rate_scale=a.rate_scale,
        clock_speed=a.clock_speed,
        processors=2,
        history_hours=a.history_hours,
        rds_extra_args=("--busy-fraction", str(a.busy_fraction)),
    )
    baseline_options = replace(
        base,
        processor_env={"PROCESSOR_COMPLETE_DOWNLOAD": "false"},
        discovery_env={"DISCOVERY_SEED_STYLE": "true"},
    )
    root = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    load_before = os.getloadavg()
    started = time.time()
    ours = run_once(base, a.duration, root)
    baseline = run_once(baseline_options, a.duration, root)
    one = run_once(replace(base, processors=1), a.duration, root)
    ours_s, base_s = summary(ours), summary(baseline)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "shared": "the emulators, Kafka, moto and OpenObserve ran on the same cores; the load averages say what else did",
        },
        "config": {
            "instances": a.instances,
            "clock_speed": a.clock_speed,
            "rate_scale": a.rate_scale,
            "busy_fraction": a.busy_fraction,
            "duration_sec_per_run": a.duration,
            "rds_profile": base.profile,
            "history_hours": base.history_hours,
            "wall_sec_total": round(time.time() - started, 1),
        },
        **{k: ours_s[k] for k in KEYS},
        "ours": ours_s,
        "baseline": {
            **base_s,
            "settings": {**baseline_options.processor_env, **baseline_options.discovery_env},
            "discovery_seed_style_applied": SEED_STYLE_EXISTS,
            "note": "DISCOVERY_SEED_STYLE is in this checkout: per-instance DescribeDBInstances, "
            "no read-through cache"
            if SEED_STYLE_EXISTS
            else "DISCOVERY_SEED_STYLE is not in this checkout yet: the baseline's discovery is "
            "ours (cached, paginated); only the processor reads the seed's way (portions only)",
        },
        "ratio_calls_per_gb": ratio(base_s["rds_calls_per_gb"], ours_s["rds_calls_per_gb"]),
        "ratio_cpu": ratio(base_s["processor_cpu_s_per_gb"], ours_s["processor_cpu_s_per_gb"]),
        "replicas": {
            "1": summary(one)["end_to_end_mb_per_s"],
            "2": ours_s["end_to_end_mb_per_s"],
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
