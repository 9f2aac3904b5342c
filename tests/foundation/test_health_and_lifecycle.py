"""The observability port and the service lifecycle, exercised over real HTTP and real signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Counter

from common.health import HealthServer
from common.lifecycle import EXIT_BAD_SETTINGS, EXIT_CRASHED, EXIT_OK


async def test_metrics_healthz_and_readyz() -> None:
    registry = CollectorRegistry()
    counter = Counter("aurora_test_things_total", "things", registry=registry)
    counter.inc(3)
    server = HealthServer("127.0.0.1", 0, registry=registry, check_timeout_sec=0.5)
    state = {"down": False}

    async def kafka() -> None:
        if state["down"]:
            raise ConnectionError("broker unreachable")

    async def slow() -> None:
        if state["down"]:
            await asyncio.Event().wait()

    server.add_check("kafka", kafka)
    server.add_check("valkey", slow)
    await server.start()
    try:
        base = f"http://127.0.0.1:{server.bound_port}"
        async with httpx.AsyncClient(base_url=base) as http:
            metrics = await http.get("/metrics")
            assert "aurora_test_things_total 3.0" in metrics.text
            assert (await http.get("/healthz")).json()["status"] == "ok"
            ready = await http.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"kafka": "ok", "valkey": "ok"}
            state["down"] = True
            not_ready = await http.get("/readyz")
            assert not_ready.status_code == 503
            checks = not_ready.json()["checks"]
            assert checks["kafka"] == "ConnectionError: broker unreachable"
            assert checks["valkey"].startswith("TimeoutError")
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await server.stop()


SERVICE = textwrap.dedent(
    """
    import asyncio, sys
    from common.lifecycle import launch

    class Part:
        def __init__(self, name): self.name = name
        async def start(self): print("start", self.name, flush=True)
        async def stop(self): print("stop", self.name, flush=True)

    def build(settings):
        async def main():
            if sys.argv[1] == "crash":
                raise RuntimeError("boom")
            print("running", flush=True)
            await asyncio.Event().wait()
        return [Part("a"), Part("b")], main

    sys.exit(launch("toy", build))
    """
)


def _run_toy(tmp_path: Path, mode: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    script = tmp_path / "toy.py"
    script.write_text(SERVICE)
    return subprocess.Popen(
        [sys.executable, str(script), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "LOG_FORMAT": "json", **(env or {})},
        cwd=Path(__file__).parents[2],
    )


def test_sigterm_stops_components_in_reverse_order(tmp_path: Path) -> None:
    proc = _run_toy(tmp_path, "serve")
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.strip())
        if line.strip() == "running":
            break
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_OK
    plain = [ln for ln in rest.splitlines() if not ln.startswith("{")]
    assert plain == ["stop b", "stop a"]
    events = [json.loads(ln)["event"] for ln in rest.splitlines() if ln.startswith("{")]
    assert "stop_requested" in events
    assert events[-1] == "service_stopped"


def test_crash_gives_exit_code_1_and_still_stops(tmp_path: Path) -> None:
    proc = _run_toy(tmp_path, "crash")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_CRASHED
    assert "stop b" in out
    assert "boom" in out


def test_bad_setting_gives_exit_code_2_naming_the_variable(tmp_path: Path) -> None:
    proc = _run_toy(tmp_path, "serve", {"TOTAL_SHARDS": "many"})
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_BAD_SETTINGS
    assert "TOTAL_SHARDS" in out
    assert "start a" not in out
