"""Benchmark of discovery's RDS API cost per cycle, ours against the seed design's, for 316 and
3,160 instances, against the RDS emulator on the local stack (not a timed test).

Ours: the real `DiscoveryService` (paginated listings through the Valkey cache, quiet instances
backing off, FileLastWritten filter), several cycles; the emulated clock advances 60 s before
each cycle after the first, and every interval and TTL is divided by the size's speed-up (10 for
316 instances, 4 for 3,160) so that a bench cycle stands for a 60-second cycle. The first (cold) cycle is reported apart; `calls_per_cycle` is the mean of the
steady cycles after it. Seed style, measured in the same run against the same emulator: per cycle
one listing of the instances, then DescribeDBInstances per instance and DescribeDBLogFiles per
instance, no cache, each of `REPLICAS` replicas with its own local limiter of 8 requests/s.

The emulator's throttle is off and both limiters run faster than 8/s so the bench finishes; the
JSON gives the measured seconds and, beside them, the seconds the calls take at the real budget
(`seconds_at_budget` = calls / 8 for ours, calls / (8 x replicas) for the seed, whose replicas
together then ask 24 requests/s of an account that allows 12).
Usage: .venv/bin/python bench/discovery.py [--sizes 316,3160] [--cycles 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiobotocore.session import get_session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.aws import AwsClients  # noqa: E402
from common.settings import KafkaSettings, TablesSettings, load_settings  # noqa: E402
from devstack.procs import free_port, start_http_server, stop_group  # noqa: E402
from devstack.provision import create_tables, create_topics, scoped_environ  # noqa: E402
from devstack.stack import Stack  # noqa: E402
from discovery.service import DiscoveryService  # noqa: E402

HOST = "127.0.0.1"
RESULTS = ROOT / "bench" / "results" / "discovery.json"
# Emulated seconds per wall second, by fleet size (every interval and TTL is divided by it): a
# 3,160-instance cycle needs more wall time than a tenth of a minute on this machine.
SPEEDUP = {316: 10.0, 3160: 4.0}
REPLICAS = 3
BUDGET = 8.0


def start_emulator(root: Path, instances: int) -> tuple[str, int]:
    port = free_port(HOST)
    argv = [
        sys.executable, "-m", "devstack.rds", "--host", HOST, "--port", str(port),
        "--data-dir", str(root / "data"), "--instances", str(instances), "--seed", "42",
        "--clock-speed", "0", "--history-hours", "1", "--rate-scale", "0.005",
        "--no-throttle", "--log-level", "WARNING",
    ]  # fmt: skip
    url = f"http://{HOST}:{port}"
    proc = start_http_server(argv, root / "rds.log", f"{url}/_admin/healthz", "rds", timeout=120)
    return url, proc.pid


def admin(url: str, method: str, path: str) -> Any:
    resp = httpx.request(method, f"{url}/_admin/{path}", timeout=120)
    resp.raise_for_status()
    return resp.json()


async def ours(url: str, env: dict[str, str], cycles: int, speedup: float) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    over: dict[str, Any] = {
        "instance_table": f"meta-{tag}",
        "tracking_table": f"trk-{tag}",
        "jobs_table": f"jobs-{tag}",
        "valkey_key_prefix": f"b{tag}:",
        "metrics_port": 0,
        "log_level": "WARNING",
        "discovery_interval_sec": 60 / speedup,
        "cache_ttl_describe_sec": int(300 / speedup),
        "cache_ttl_log_files_sec": int(60 / speedup) - 1,
        "cache_ttl_parameters_sec": int(3600 / speedup),
        "discovery_quiet_max_sec": 600 / speedup,
        "discovery_full_listing_sec": 3600 / speedup,
        "rds_api_rate_limit": 400.0,
        "rds_api_burst": 400,
        "discovery_concurrency": 32,
    }
    for t in KafkaSettings().topics():
        over[f"kafka_topic_{t}"] = f"bench-{t}-{tag}"
    with scoped_environ({**env, "AWS_ENDPOINT_URL_RDS": url}):
        settings = load_settings(**over)
        await create_topics(settings.kafka)
        await create_tables(AwsClients(settings.aws), TablesSettings(**{
            k: over[k] for k in ("instance_table", "tracking_table", "jobs_table")
        }))  # fmt: skip
        service = DiscoveryService(settings)
        await service.start()
        per_cycle: list[dict[str, Any]] = []
        try:
            for n in range(cycles):
                # The emulated clock moves one interval (60 s) per cycle, however long the cycle
                # takes on this shared machine: the cold cycle sees the fleet as it is, and
                # each steady cycle one minute more of logs.
                if n:
                    admin_post(url, "clock", {"advance_sec": 60})
                started = time.monotonic()
                admin(url, "POST", "stats/reset")
                hits0 = dict(service.discoverers[0].ctx.cache.counts)
                report = (await service.run_cycle())[0]
                calls = admin(url, "GET", "stats")["calls"]
                hits = {k: v - hits0[k] for k, v in service.discoverers[0].ctx.cache.counts.items()}
                per_cycle.append(
                    {
                        "calls": calls,
                        "seconds": round(report.seconds, 3),
                        "polled": report.polled,
                        "announced": report.announced,
                        "cache": hits,
                        "phases": {k: round(v, 3) for k, v in report.phases.items()},
                    }
                )
                await asyncio.sleep(max(0.0, 60 / speedup - (time.monotonic() - started)))
        finally:
            await service.stop()
    return summarise(per_cycle, BUDGET)


def admin_post(url: str, path: str, body: dict[str, Any]) -> Any:
    resp = httpx.post(f"{url}/_admin/{path}", json=body, timeout=120)
    resp.raise_for_status()
    return resp.json()


def summarise(per_cycle: list[dict[str, Any]], budget: float) -> dict[str, Any]:
    steady = per_cycle[1:] or per_cycle
    ops = sorted({op for c in steady for op in c["calls"]})
    mean = {op: round(sum(c["calls"].get(op, 0) for c in steady) / len(steady), 1) for op in ops}
    hits = sum(c["cache"]["hit"] + c["cache"]["stale"] for c in steady)
    lookups = sum(sum(c["cache"].values()) for c in steady)
    total = sum(mean.values())
    return {
        "calls_per_cycle": mean,
        "calls_per_cycle_total": round(total, 1),
        "cycle_seconds": round(sum(c["seconds"] for c in steady) / len(steady), 3),
        "seconds_at_budget": round(total / budget, 1),
        "cache_hit_rate": round(hits / lookups, 4) if lookups else 0.0,
        "cold_cycle": per_cycle[0],
        "cycles": per_cycle,
    }


async def seed_style(url: str, cycles: int) -> dict[str, Any]:
    """The seed design: no cache, a DescribeDBInstances per instance, and a local limiter per
    replica (the replicas split the fleet but each paces itself alone)."""
    per_cycle: list[dict[str, Any]] = []
    session = get_session()
    async with session.create_client(
        "rds", region_name="us-east-1", endpoint_url=url,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ) as rds:  # fmt: skip
        for _ in range(cycles):
            admin(url, "POST", "stats/reset")
            started = time.monotonic()
            ids: list[str] = []
            async for page in rds.get_paginator("describe_db_instances").paginate():
                ids += [i["DBInstanceIdentifier"] for i in page["DBInstances"]]
            shards = [ids[n::REPLICAS] for n in range(REPLICAS)]

            async def replica(mine: list[str]) -> None:
                sem = asyncio.Semaphore(8)

                async def one(iid: str) -> None:
                    async with sem:
                        inst = await rds.describe_db_instances(DBInstanceIdentifier=iid)
                        if inst["DBInstances"][0]["DBInstanceStatus"] != "available":
                            return
                        try:
                            await rds.describe_db_log_files(DBInstanceIdentifier=iid)
                        except rds.exceptions.ClientError:
                            return

                await asyncio.gather(*(one(i) for i in mine))

            await asyncio.gather(*(replica(s) for s in shards))
            calls = admin(url, "GET", "stats")["calls"]
            per_cycle.append(
                {
                    "calls": calls,
                    "seconds": round(time.monotonic() - started, 3),
                    "cache": {"hit": 0, "miss": 0, "stale": 0},
                }
            )
    return summarise(per_cycle, BUDGET * REPLICAS)


async def bench(sizes: list[int], cycles: int, env: dict[str, str], tmp: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, shared by 8 engineers: noisy",
        "speedup_by_size": {str(k): v for k, v in SPEEDUP.items()},
        "replicas_seed_style": REPLICAS,
        "budget_requests_per_sec": BUDGET,
        "runs": [],
    }
    for n in sizes:
        root = Path(tmp) / f"rds{n}"
        root.mkdir()
        speedup = SPEEDUP.get(n, 2.0)
        url, pid = start_emulator(root, n)
        try:
            clusters = len(admin(url, "GET", "fleet")["clusters"])
            seed = await seed_style(url, max(2, cycles // 2))
            mine = await ours(url, env, cycles, speedup)
        finally:
            stop_group(pid)
        run = {
            "instances": n,
            "clusters": clusters,
            **{k: v for k, v in mine.items() if k not in ("cycles",)},
            "seed_style": {k: v for k, v in seed.items() if k not in ("cycles", "cold_cycle")},
            "ratio_calls": round(
                seed["calls_per_cycle_total"] / max(1.0, mine["calls_per_cycle_total"]), 1
            ),
            # The issue's steady-state bound: instances due + the two listings' pages.
            "listing_pages": math.ceil(n / 100) + math.ceil(clusters / 100),
        }
        out["runs"].append(run)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")  # size by size
        print(json.dumps({k: run[k] for k in ("instances", "calls_per_cycle", "ratio_calls")}))
    return out


def main() -> None:
    # A stopped bench stops its servers too (the `finally` blocks run on SIGTERM).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="316,3160")
    parser.add_argument("--cycles", type=int, default=6)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as tmp:
        stack = Stack(Path(tmp) / "stack")
        os.environ.setdefault("DEVSTACK_RDS_ARGS", "--instances 2")
        stack.up()
        try:
            result = asyncio.run(bench(sizes, args.cycles, stack.env(), tmp))
        finally:
            stack.down()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
