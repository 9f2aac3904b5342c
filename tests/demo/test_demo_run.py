"""`make demo` end to end on a tiny fleet: the report's equalities hold and nothing is left
running afterwards. The real command (`python -m devstack.demo`), as a newcomer runs it, with
its own stack directory; the run waits (`--settle`) until the processors finished every
rotated file, so the equalities are exact, not "still at work"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from common.log_types import LOG_TYPES
from devstack.procs import pid_alive

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_end_to_end_and_leaves_nothing_running(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    argv = [
        sys.executable, "-m", "devstack.demo",
        "--instances", "4", "--logging", "all", "--clock-speed", "30", "--rotation-after", "6",
        "--history-hours", "0.2", "--audit-rotate-bytes", "4096",
        "--duration", "15", "--settle", "60", "--json", str(out),
    ]  # fmt: skip
    env = {**os.environ, "DEVSTACK_DIR": str(tmp_path / "stack"), "COLUMNS": "120"}
    env.pop("DEMO_KEEP", None)
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Services and stack stopped; nothing left running." in done.stdout
    body = json.loads(out.read_text())
    m = body["measurement"]
    volumes = m["volumes"]
    # Every log type flowed: MySQL error, slow, general and audit, PostgreSQL.
    assert all(volumes[t]["events_stored"] > 0 for t in LOG_TYPES), volumes
    rotated = sum(v["rotated"] for v in volumes.values())
    assert rotated > 0
    for v in volumes.values():
        # archived == generated for rotated files, each byte once; shipped to their end.
        assert v["rotated_unarchived"] == 0 and v["archived_twice"] == 0, v
        assert v["archived"] == v["rotated"], v
        assert v["rotated_unshipped"] == 0, v
        # generated - shipped is exactly what the report explains.
        gap = v["generated"] - v["shipped"]
        assert gap == v["rotated_unshipped"] + v["open_unshipped"] + v["waiting_rotation"], v
        # Every event exactly once.
        assert v["duplicate_events"] == 0, v
        assert v["events_stored"] == v["events_acknowledged"], v
    assert m["downloaded"].get("complete", 0) > 0
    assert m["top_queries"], "the slow-query classes came back from _search"
    assert m["figures"]["rds_calls_per_gb"] > 0
    # Nothing left running: every process the run started is gone, the stack's state too.
    assert body["pids"] and not [p for p in body["pids"] if pid_alive(p)]
    assert not (tmp_path / "stack" / "state.json").exists()
