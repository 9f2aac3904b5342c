"""Cost model: what the reference deployment (316 instances, 100 TB of logs a month) costs a
month on AWS, computed from the figures the benchmarks measured, beside CloudWatch Logs.

Why a script and not a spreadsheet: the figures that drive the cost (processor CPU-seconds per
GB, compression ratio, DynamoDB writes, S3 requests, Kafka messages and RDS calls per GB) change
with the code, and the benchmarks rewrite them; rerunning this after `make bench` keeps the
README's table honest. Every price and every sizing assumption is written once, in `PRICES` and
`ASSUMPTIONS` of `bench/cost/assumptions.py`, with where it came from: public us-east-1 list
prices as we read them in 2026 — assumptions to check against the AWS price pages before
deciding anything.

Measured figures come from `bench/results/processor.json` (per log type) and
`bench/results/pipeline.json` (end to end); until those exist, from `parsers.json` (parse CPU
only) — and a figure found nowhere stops the script with a message naming the missing keys.
`--estimates` fills such gaps with the labelled engineering estimates of `ESTIMATES` (same file) (so the
README can show a number before the benchmarks ran); the output says which figures were estimated.

Usage: .venv/bin/python bench/cost_model.py [--estimates] [--results DIR]
Writes bench/results/cost_model.json and bench/results/cost_model.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cost.assumptions import ASSUMPTIONS, PRICES, markdown_tables, table  # noqa: E402
from bench.cost.figures import MissingFigures, load_figures  # noqa: E402
from bench.cost.lines import markdown, model  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--estimates", action="store_true", help="fill missing figures with ESTIMATES")
    args = ap.parse_args(argv)
    a = table(ASSUMPTIONS)
    try:
        figures = load_figures(args.results, a, args.estimates)
    except MissingFigures as exc:
        print(f"cost_model: {exc}", file=sys.stderr)
        return 2
    result = model({k: f.value for k, f in figures.items()}, table(PRICES), a)
    result["figures"] = {k: asdict(f) for k, f in figures.items()}
    result["estimated"] = sorted(k for k, f in figures.items() if f.estimated)
    result["prices"] = [asdict(x) for x in PRICES]
    result["assumptions"] = [asdict(x) for x in ASSUMPTIONS]
    (args.results / "cost_model.json").write_text(json.dumps(result, indent=2) + "\n")
    text = markdown(result)
    (args.results / "cost_model.md").write_text(text + "\n" + markdown_tables())
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
