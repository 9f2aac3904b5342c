"""Benchmark of the RDS emulator: DownloadDBLogFilePortion calls/s (small and 1 MB pages) and
DownloadCompleteDBLogFile MB/s, sustained with several concurrent connections; and the processor's
portion reader (processor/download/portions.py) reading whole files with the `happy` and the
`realistic` fault profiles: calls per MiB (what the 12 requests/s budget buys) and MB/s.

Runs the emulator as a real subprocess (throttling off, frozen clock) and writes
bench/results/rds_emulator.json. Usage: .venv/bin/python bench/rds_emulator.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.procs import free_port, spawn, stop_group, wait_http  # noqa: E402

HOST = "127.0.0.1"
RESULTS = ROOT / "bench" / "results" / "rds_emulator.json"


async def sustained(
    seconds: float, workers: int, call: Callable[[], Awaitable[int]]
) -> dict[str, float]:
    """Run `call` in `workers` loops for `seconds`; each call returns the bytes it received."""
    deadline = time.perf_counter() + seconds
    calls = 0
    received = 0

    async def loop() -> None:
        nonlocal calls, received
        while time.perf_counter() < deadline:
            n = await call()  # awaited first: `received += await ...` would lose updates
            received += n
            calls += 1

    start = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(workers)))
    elapsed = time.perf_counter() - start
    return {
        "calls": calls,
        "seconds": round(elapsed, 3),
        "calls_per_sec": round(calls / elapsed, 1),
        "mb_per_sec": round(received / elapsed / 1e6, 1),
        "bytes_per_call": received // max(1, calls),
        "concurrency": workers,
    }


async def run(seconds: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="rds-bench-"))
    port = free_port(HOST)
    url = f"http://{HOST}:{port}"
    argv = [
        sys.executable, "-m", "devstack.rds", "--host", HOST, "--port", str(port),
        "--data-dir", str(root / "data"), "--instances", "8", "--seed", "3",
        "--clock-speed", "0", "--start-time", "2026-11-23T10:30:00Z", "--no-throttle",
        "--audit-rotate-bytes", "400000000", "--log-level", "WARNING", "--logging", "all",
        "--profile", "happy",
    ]  # fmt: skip
    proc = spawn(argv, root / "rds.log")
    try:
        wait_http(f"{url}/_admin/healthz", 30, "rds emulator", root / "rds.log")
        return await measure(url, seconds)
    finally:
        stop_group(proc.pid)
        shutil.rmtree(root, ignore_errors=True)


async def measure(url: str, seconds: float) -> dict[str, Any]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
        async with http.get(f"{url}/_admin/fleet") as resp:
            fleet = await resp.json()
        mysql = next(
            i["instance_id"] for i in fleet["instances"]
            if i["engine"] == "aurora-mysql" and i["status"] == "available"
        )  # fmt: skip
        body = {"instances": [mysql], "activity": 40.0}
        async with http.post(f"{url}/_admin/fleet/activity", json=body) as resp:
            resp.raise_for_status()
        t0 = time.perf_counter()
        async with http.get(f"{url}/_admin/ground-truth/{mysql}") as resp:
            files = (await resp.json())["files"]
        generation_sec = time.perf_counter() - t0
        generated = sum(f["size"] for f in files)
        slow = "slowquery/mysql-slowquery.log"
        slow_size = next(f["size"] for f in files if f["listed_name"] == slow)

        def portion_call(lines: int, name: str) -> Callable[[], Awaitable[int]]:
            form = {"Action": "DownloadDBLogFilePortion", "Version": "2014-10-31",
                    "DBInstanceIdentifier": mysql, "LogFileName": name, "Marker": "0",
                    "NumberOfLines": str(lines)}  # fmt: skip

            async def call() -> int:
                async with http.post(url + "/", data=form) as r:
                    data = await r.read()
                    if r.status != 200:
                        raise RuntimeError(f"portion call failed: {r.status} {data[:200]!r}")
                    return len(data)

            return call

        small = await sustained(seconds, 16, portion_call(100, slow))
        # 10000 audit lines pass 1 MiB: every page is cut at the cap (the truncated case).
        audit = next(f["listed_name"] for f in files if f["log_type"] == "audit" and f["size"])
        big = await sustained(seconds, 8, portion_call(10000, audit))

        creds = Credentials("testing", "testing")
        target = f"{url}/v19/downloadCompleteLogFile/{mysql}/{slow}"

        async def complete() -> int:
            req = AWSRequest(method="GET", url=target)
            SigV4Auth(creds, "rds", "us-east-1").add_auth(req)
            headers = {k: v for k, v in req.headers.items() if k.lower() != "host"}
            n = 0
            async with http.get(target, headers=headers) as r:
                if r.status != 200:
                    raise RuntimeError(f"complete download failed: {r.status}")
                async for chunk in r.content.iter_chunked(1 << 20):
                    n += len(chunk)
            return n

        whole = await sustained(seconds, 4, complete)

    session = get_session()
    config = AioConfig(max_pool_connections=32, retries={"total_max_attempts": 1})
    async with session.create_client(
        "rds", region_name="us-east-1", endpoint_url=url, aws_access_key_id="testing",
        aws_secret_access_key="testing", config=config,
    ) as client:  # fmt: skip

        async def boto_call() -> int:
            page = await client.download_db_log_file_portion(
                DBInstanceIdentifier=mysql, LogFileName=slow, Marker="0", NumberOfLines=100
            )
            return len(page.get("LogFileData", ""))

        boto = await sustained(seconds, 16, boto_call)
        readers = {}
        for profile in ("happy", "realistic"):
            async with aiohttp.ClientSession() as http:
                body = {"name": profile}
                async with http.post(f"{url}/_admin/faults/profile", json=body) as resp:
                    resp.raise_for_status()
            for label, name in (("slowquery", slow), ("audit", audit)):
                readers[f"portion_reader_{profile}_{label}"] = await read_whole(
                    client, url, mysql, name
                )

    return {
        "benchmark": "rds_emulator",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "generation": {
            "bytes": generated,
            "seconds": round(generation_sec, 2),
            "mb_per_sec": round(generated / generation_sec / 1e6, 1),
        },
        "portion_small_pages_raw_http": {"number_of_lines": 100, **small},
        "portion_1mib_truncated_pages_raw_http": {"number_of_lines": 10000, **big},
        "portion_small_pages_aiobotocore": {"number_of_lines": 100, **boto},
        "complete_download": {"file_bytes": slow_size, **whole},
        **readers,
    }


async def read_whole(client: Any, url: str, instance: str, name: str) -> dict[str, Any]:
    """One reader over a whole file, one call at a time (as the processor reads a file)."""
    from processor.download import End, read_portions

    digest = hashlib.sha256()
    size = 0
    start = time.perf_counter()
    end = None
    async for item in read_portions(client, instance, name):
        if isinstance(item, End):
            end = item
        else:
            digest.update(item.data)
            size += len(item.data)
    elapsed = time.perf_counter() - start
    assert end is not None
    truth_url = f"{url}/_admin/ground-truth/{instance}/{name}"
    async with aiohttp.ClientSession() as http, http.get(truth_url) as resp:
        truth = hashlib.sha256(await resp.read()).hexdigest()
    return {
        "file": name,
        "bytes": size,
        "calls": end.calls,
        "calls_per_mib": round(end.calls / (size / (1 << 20)), 3),
        "seconds": round(elapsed, 3),
        "mb_per_sec": round(size / elapsed / 1e6, 1),
        "exact": digest.hexdigest() == truth,
    }


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="Duration of each scenario.")
    args = parser.parse_args()
    result = asyncio.run(run(args.seconds))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
