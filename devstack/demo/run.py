"""The demo's sequence: a fresh stack, the services, the live view for `--duration` (or until
Ctrl-C), the report, and the cleanup — services and stack stopped whatever happened, unless
`DEMO_KEEP=1`, which leaves both running and says how to look at them.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path

from rich.console import Console
from rich.live import Live

from common.logging import configure_logging
from common.settings import load_settings
from devstack.demo.faults import Fault, schedule
from devstack.demo.live import LiveView, Tick
from devstack.demo.options import DemoOptions, parse
from devstack.demo.report import render
from devstack.measure import Measurement
from devstack.pipeline import PipelineRun
from devstack.provision import scoped_environ
from devstack.services import Services
from devstack.stack import HOST, O2_PASS, O2_USER, default_root

REFRESH_SEC = 2.0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    configure_logging("WARNING", "console")
    # SIGTERM (a CI job cancelled, `timeout`) cleans up as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    options = parse(argv)
    console = Console()
    keep = os.environ.get("DEMO_KEEP") == "1"
    run = PipelineRun(options.pipeline, default_root(), keep=keep)
    faults: list[Fault] = []
    try:
        with console.status("Starting the local stack (Kafka, Valkey, DynamoDB+S3, emulators)"):
            state = run.up()
        for name, server in state.servers.items():
            console.print(f"  {name:12} {HOST}:{server.port}  (log {server.log})")
        p = options.pipeline
        with console.status(f"Starting discovery and {p.processors} processors"):
            services = run.start_services()
        console.print(
            f"Fleet of {p.instances} instances, clock ×{p.clock_speed:g}, rates ×{p.rate_scale:g},"
            f" RDS profile {p.profile}; services' logs in {run.root / 'services'}"
        )
        env = run.env
        if options.faults:
            faults = schedule(options.duration, env["OPENOBSERVE_URL"], env["AWS_ENDPOINT_URL_RDS"])
        interrupted = watch(run, services, options, faults, console)
        for fault in faults:
            fault.clear()
        with console.status("Measuring (ground truth, S3, DynamoDB, OpenObserve)"):
            measurement = settle(run, 0.0 if interrupted else options.settle)
        render(measurement, console)
        if options.json_path:
            write_json(options.json_path, run, measurement)
        return 130 if interrupted else 0
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    finally:
        for fault in faults:
            try:
                fault.clear()
            except OSError as exc:  # the stack stops next anyway; say so rather than hide it
                console.print(f"could not switch off {fault.name}: {exc}")
        if keep and run.services is not None:
            explain_keep(run, console)
        else:
            run.close()
            console.print("Services and stack stopped; nothing left running.")


def watch(
    run: PipelineRun,
    services: Services,
    options: DemoOptions,
    faults: list[Fault],
    console: Console,
) -> bool:
    """The live view until the duration is over; True when Ctrl-C ended it."""
    with scoped_environ(run.env):
        settings = load_settings()
    budget = settings.rds.rds_api_rate_limit
    streams = settings.openobserve.streams()
    view = LiveView(options.duration, budget, options.pipeline.clock_speed, streams, faults)
    rds = run.env["AWS_ENDPOINT_URL_RDS"]
    try:
        with Live(console=console, refresh_per_second=4) as live:
            while (elapsed := time.time() - run.started_wall) < options.duration:
                for fault in faults:
                    fault.tick(elapsed)
                alive = {s.name: s.alive for s in services}
                calls, throttled = _rds_stats(rds)
                tick = Tick(elapsed, services.metrics(), _emulated(rds), alive, calls, throttled)
                live.update(view.update(tick))
                time.sleep(min(REFRESH_SEC, max(options.duration - elapsed, 0.0)))
    except KeyboardInterrupt:
        console.print("Ctrl-C: stopping the run; measuring what was done")
        return True
    return False


def settle(run: PipelineRun, seconds: float) -> Measurement:
    """The measurement once every rotated file is archived and shipped, or after `seconds`."""
    deadline = time.time() + seconds
    measurement = run.measure()
    while not rotated_done(measurement) and time.time() < deadline:
        time.sleep(REFRESH_SEC)
        measurement = run.measure()
    return measurement


def rotated_done(m: Measurement) -> bool:
    return all(v.rotated_unarchived == 0 and v.rotated_unshipped == 0 for v in m.volumes.values())


def write_json(path: str, run: PipelineRun, m: Measurement) -> None:
    """The measurement and every process the run started (tests check none is left)."""
    pids = [s.pid for s in run.services or ()]
    pids += [server.pid for server in (run.state.servers.values() if run.state else ())]
    body = {"measurement": m.to_json(), "pids": pids, "root": str(run.root)}
    Path(path).write_text(json.dumps(body, indent=2, default=str))


def _rds_stats(rds: str) -> tuple[float, float]:
    """Calls and throttles the RDS emulator counted (its ground truth, every caller)."""
    with urllib.request.urlopen(f"{rds}/_admin/stats", timeout=5) as resp:
        stats = json.loads(resp.read())
    return float(stats.get("total_calls", 0)), float(stats.get("total_throttled", 0))


def _emulated(rds: str) -> float:
    with urllib.request.urlopen(f"{rds}/_admin/clock", timeout=5) as resp:
        return float(json.loads(resp.read())["now"])


def explain_keep(run: PipelineRun, console: Console) -> None:
    env = run.env
    rds, o2 = env["AWS_ENDPOINT_URL_RDS"], env["OPENOBSERVE_URL"]
    pids = " ".join(str(s.pid) for s in run.services or ())
    instance = _a_mysql_instance(rds)
    search = json.dumps(
        {
            "query": {
                "sql": "SELECT instance_id, count(*) AS n FROM aurora_slowquery_logs "
                "GROUP BY instance_id ORDER BY n DESC",
                "start_time": 0,
                "end_time": int((time.time() + 86_400) * 1e6),
                "size": 10,
            }
        }
    )
    root = Path(run.root)
    console.print(
        f"""DEMO_KEEP=1: the stack and the services keep running.
  Point a shell at it:   set -a; eval "$(.venv/bin/aurora-devstack env)"; set +a
  The emulated RDS API:  .venv/bin/aws --endpoint-url {rds} rds describe-db-log-files \\
                           --db-instance-identifier {instance}
                         .venv/bin/aws --endpoint-url {rds} rds download-db-log-file-portion \\
                           --db-instance-identifier {instance} \\
                           --log-file-name slowquery/mysql-slowquery.log --starting-token 0
  OpenObserve search:    curl -s -u '{O2_USER}:{O2_PASS}' -H 'Content-Type: application/json' \\
                           {o2}/api/default/_search -d '{search}'
  Service stats:         .venv/bin/aurora-discovery stats; .venv/bin/aurora-processor stats
  Logs:                  {root / "services"}/*.log, {root / "logs"}/*.log
  Stop it all:           kill {pids}; .venv/bin/aurora-devstack down"""
    )


def _a_mysql_instance(rds: str) -> str:
    try:
        with urllib.request.urlopen(f"{rds}/_admin/fleet", timeout=10) as resp:
            fleet = json.loads(resp.read())
    except OSError:
        return "INSTANCE_ID"
    for inst in fleet.get("instances", []):
        if inst.get("engine") == "aurora-mysql" and "slowquery" in inst.get("log_types", []):
            return str(inst["instance_id"])
    return "INSTANCE_ID"
