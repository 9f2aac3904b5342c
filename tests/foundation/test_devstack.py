"""The launcher: `up`, `env`, `status`, and `down` leaving no process behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from devstack import procs
from devstack.services import Services
from devstack.stack import Stack
from tests.helpers import wait_for


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "DEVSTACK_DIR": str(root)},
        check=False,
    )


def test_up_env_status_down_leaves_nothing_running(tmp_path: Path) -> None:
    up = _cli(tmp_path, "up")
    assert up.returncode == 0, up.stderr + up.stdout
    state = Stack(tmp_path).load()
    pids = {name: s.pid for name, s in state.servers.items()}
    assert {"kafka", "valkey", "moto"} <= set(pids)
    assert all(procs.pid_alive(pid) for pid in pids.values())

    env = dict(line.split("=", 1) for line in _cli(tmp_path, "env").stdout.splitlines())
    for key in (
        "KAFKA_BROKERS",
        "VALKEY_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_S3",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "S3_BUCKET",
        "OPENOBSERVE_USER",
        "OPENOBSERVE_PASS",
        "TRACKING_TABLE",
        "KAFKA_TOPIC_DLQ",
    ):
        assert env.get(key), key
    assert env["KAFKA_BROKERS"] == f"127.0.0.1:{state.servers['kafka'].port}"

    again = _cli(tmp_path, "up")
    assert again.returncode == 0
    assert {n: s.pid for n, s in Stack(tmp_path).load().servers.items()} == pids

    down = _cli(tmp_path, "down")
    assert down.returncode == 0
    assert not any(procs.pid_alive(pid) for pid in pids.values())
    assert _cli(tmp_path, "status").stdout.strip() == "{}"


async def test_services_stop_all_reports_each_real_exit_code(tmp_path: Path) -> None:
    """Regression: `stop_all` reaped with `os.waitpid` behind Popen's back, so every service
    "exited 0" whatever it did, and the chaos suite's clean-exit assertion could not fail."""
    services = Services({}, tmp_path)
    argv = {
        "clean": "import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))",
        "failing": "import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))",
        "deaf": "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)",
    }
    for name, handler in argv.items():
        # The handler is installed before "ready" is printed; then the process waits forever.
        code = f"{handler}; print('ready', flush=True); import time; time.sleep(600)"
        log = services.start("processor", name, [sys.executable, "-c", code]).log

        async def ready(log: Path = log) -> bool:
            return await asyncio.to_thread(lambda: log.exists() and "ready" in log.read_text())

        await wait_for(ready, timeout=30)
    assert services.stop_all(timeout=1.5) == {"clean": 0, "failing": 3, "deaf": -9}
