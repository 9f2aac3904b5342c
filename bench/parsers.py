"""Parser throughput and memory, per log format, on one core; and pt-query-digest's on the same
slow log when it is installed.

    .venv/bin/python bench/parsers.py            # 100 MB per format (the default)
    BENCH_MB=20 .venv/bin/python bench/parsers.py  # quicker
    .venv/bin/python bench/parsers.py --mb 20 --formats slowquery,audit

Input is generated (tests/parsers/generate.py) straight to a temporary file. Each format is
parsed in a fresh child process, fed 1 MiB chunks like the processor, so its peak RSS is its own;
"flat memory" shows as `peak_rss_mb` close to `rss_before_mb` and independent of the input size.
Each measurement is repeated (`--repeat`, 3 by default) and the median run is reported, with
every run's MB/s beside it: this machine's speed varies by a fifth from one minute to the next.
The formats with compiled code (error, general, audit, postgresql, and the slow log's scanner
and fingerprint) are also measured in pure Python (AURORA_PARSERS_PURE=1), the speed a build
without a C compiler gets.
Results go to bench/results/parsers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processor.parsers import parser_for, scanning, slow_compiled  # noqa: E402
from tests.parsers.generate import WRITERS, write_slowlog  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "parsers.json"
CHUNK = 1 << 20
# Bench name -> (parser log type, generator). `slowquery` is Aurora's default slow log;
# `slowquery_extra` has MySQL 8 log_slow_extra (about 20 attributes per entry).
BENCHES: dict[str, str] = {
    "slowquery": "slowquery",
    "slowquery_extra": "slowquery",
    "error": "error",
    "general": "general",
    "audit": "audit",
    "postgresql": "postgresql",
}


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _generate(name: str, path: Path, size: int) -> int:
    with path.open("wb") as fh:
        if name == "slowquery":
            return write_slowlog(fh, size, seed=5, extra=False)
        if name == "slowquery_extra":
            return write_slowlog(fh, size, seed=5, extra=True)
        return WRITERS[name](fh, size, seed=5)


def measure(log_type: str, path: str) -> dict[str, Any]:
    """Parse one file in this process (the child): time, events, memory."""
    rss_before = _rss_mb()
    parser = parser_for(log_type)
    events = 0
    rss_mid = 0.0
    size = os.path.getsize(path)
    wall = time.perf_counter()
    cpu = time.process_time()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            events += len(parser.feed(chunk))
            if not rss_mid and fh.tell() >= size // 2:
                rss_mid = _rss_mb()
    events += len(parser.flush())
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "bytes": size,
        "events": events,
        "cpu_seconds": round(cpu, 3),
        "wall_seconds": round(wall, 3),
        "mb_per_s": round(size / 1e6 / cpu, 2),
        "events_per_s": round(events / cpu),
        "rss_before_mb": round(rss_before, 1),
        "rss_half_way_mb": round(rss_mid, 1),
        "peak_rss_mb": round(peak, 1),
        "parse_errors": parser.stats.parse_errors,
        "skipped_header_lines": parser.stats.skipped_header_lines,
        "compiled_scanners": scanning.SCANNERS is not None,
        "compiled_slowlog": slow_compiled.SLOWLOG is not None,
    }


# Formats whose parsers have compiled code (processor/parsers/_scan.pyx, _slowlog.pyx, _pg.pyx).
COMPILED = {"error", "general", "audit", "slowquery", "slowquery_extra", "postgresql"}


def _child(log_type: str, path: Path, pure: bool = False) -> dict[str, Any]:
    env = {**os.environ, scanning.PURE_ENV: "1" if pure else "0"}
    res = subprocess.run(
        [sys.executable, __file__, "--child", log_type, str(path)],
        capture_output=True,
        check=True,
        text=True,
        env=env,
    )
    # The last line: the parsers may log before it.
    result: dict[str, Any] = json.loads(res.stdout.splitlines()[-1])
    return result


def _median_run(log_type: str, path: Path, repeat: int, pure: bool = False) -> dict[str, Any]:
    """The median of `repeat` runs by MB/s, with every run's MB/s in `runs_mb_per_s`."""
    runs = sorted(
        (_child(log_type, path, pure) for _ in range(repeat)), key=lambda r: r["mb_per_s"]
    )
    result = runs[len(runs) // 2]
    result["runs_mb_per_s"] = [r["mb_per_s"] for r in runs]
    return result


def _pt_query_digest(path: Path) -> dict[str, Any] | None:
    tool = shutil.which("pt-query-digest")
    if tool is None:
        return None
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([tool, str(path)], stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter() - start
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    size = path.stat().st_size
    return {
        "command": "pt-query-digest FILE > /dev/null (default report)",
        "cpu_seconds": round(cpu, 3),
        "wall_seconds": round(wall, 3),
        "mb_per_s": round(size / 1e6 / cpu, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=int(os.environ.get("BENCH_MB", "100")))
    ap.add_argument("--formats", default=",".join(BENCHES), help="comma-separated bench names")
    ap.add_argument("--child", nargs=2, metavar=("LOG_TYPE", "FILE"), help=argparse.SUPPRESS)
    ap.add_argument("--no-pt", action="store_true", help="skip pt-query-digest")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median kept)")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1])))
        return 0

    size = args.mb * 1_000_000
    results: dict[str, Any] = {
        "input_mb_per_format": args.mb,
        "chunk_bytes": CHUNK,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "note": "mb_per_s is bytes / CPU seconds of one process (one core), median of the runs",
        "repeat": args.repeat,
        "formats": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-parsers-") as tmp:
        for name in args.formats.split(","):
            path = Path(tmp) / f"{name}.log"
            t = time.perf_counter()
            entries = _generate(name, path, size)
            gen = time.perf_counter() - t
            result = _median_run(BENCHES[name], path, args.repeat)
            if name in COMPILED:
                pure = _median_run(BENCHES[name], path, args.repeat, pure=True)
                result["pure_python"] = {
                    "mb_per_s": pure["mb_per_s"],
                    "runs_mb_per_s": pure["runs_mb_per_s"],
                    "peak_rss_mb": pure["peak_rss_mb"],
                }
                result["speedup_of_compiled_scanners"] = round(
                    result["mb_per_s"] / pure["mb_per_s"], 2
                )
            result["generated_entries"] = entries
            result["generate_seconds"] = round(gen, 1)
            if name.startswith("slowquery") and not args.no_pt:
                pt = _pt_query_digest(path)
                if pt is None:
                    result["pt_query_digest"] = "not installed"
                else:
                    result["pt_query_digest"] = pt
                    result["speedup_vs_pt_query_digest"] = round(
                        result["mb_per_s"] / pt["mb_per_s"], 2
                    )
            results["formats"][name] = result
            print(f"{name:16s} {json.dumps(result)}", flush=True)
            path.unlink()
    if RESULTS.exists() and set(results["formats"]) != set(BENCHES):
        # A partial run updates its formats in the last full results, keeping the others.
        try:
            previous = json.loads(RESULTS.read_text())
        except ValueError:
            previous = {}
        if previous.get("input_mb_per_format") == args.mb:
            results["formats"] = {**previous.get("formats", {}), **results["formats"]}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = RESULTS.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(results, indent=2) + "\n")
    tmp_out.replace(RESULTS)
    print(f"wrote {RESULTS}")
    return 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return platform.processor()
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
