"""The OpenObserve emulator as a real subprocess on a free loopback port, plus helpers to drive
its admin endpoints and to build clients with tiny backoffs (so retry tests run in seconds)."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.settings import OpenObserveSettings
from devstack.procs import free_port, start_http_server, stop_group

HOST = "127.0.0.1"
USER = "root@example.com"
PASSWORD = "Complexpass#123"
PASSCODE = "ingest-only-passcode"


@dataclass
class O2Server:
    url: str
    data_dir: Path
    pid: int
    log: Path

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = httpx.request(method, f"{self.url}/_admin/{path}", json=body, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def faults(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("POST", "faults", changes)
        return result

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "stats")
        return result

    def ingest(self, stream: str, records: list[dict[str, Any]]) -> None:
        """Post records straight to `_json` (no client) and check they were all taken."""
        resp = httpx.post(
            f"{self.url}/api/default/{stream}/_json",
            content=json.dumps(records),
            auth=(USER, PASSWORD),
        )
        assert resp.json()["status"][0]["successful"] == len(records), resp.text

    def truth(self, stream: str, event_ids: bool = False, org: str = "default") -> dict[str, Any]:
        """What the stream holds, faults aside (lag, partial answers), and what was acked."""
        query = f"truth?org={org}&stream={stream}&event_ids={str(event_ids).lower()}"
        result: dict[str, Any] = self.admin("GET", query)
        return result

    def search(self, sql: str, **query: Any) -> httpx.Response:
        body = {"query": {"sql": sql, "start_time": 0, "end_time": 2**62, **query}}
        return httpx.post(f"{self.url}/api/default/_search", json=body, auth=(USER, PASSWORD))

    def hits(self, sql: str, **query: Any) -> list[dict[str, Any]]:
        resp = self.search(sql, **query)
        assert resp.status_code == 200, resp.text
        hits: list[dict[str, Any]] = resp.json()["hits"]
        return hits


def start_emulator(data_dir: Path, log: Path, *extra: str) -> O2Server:
    port = free_port(HOST)
    argv = [
        sys.executable, "-m", "devstack.openobserve", "--host", HOST, "--port", str(port),
        "--data-dir", str(data_dir), "--user", USER, "--password", PASSWORD,
        "--passcode", PASSCODE, "--log-level", "WARNING", *extra,
    ]  # fmt: skip
    url = f"http://{HOST}:{port}"
    proc = start_http_server(argv, log, f"{url}/healthz", "openobserve emulator")
    return O2Server(url, data_dir, proc.pid, log)


@pytest.fixture(scope="session")
def o2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[O2Server]:
    root = tmp_path_factory.mktemp("o2")
    server = start_emulator(root / "data", root / "o2.log")
    try:
        yield server
    finally:
        stop_group(server.pid)


@pytest.fixture(autouse=True)
def _no_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults are server-wide: every test starts and ends without any."""
    if "o2" not in request.fixturenames:
        yield
        return
    server: O2Server = request.getfixturevalue("o2")
    server.clear_faults()
    yield
    server.clear_faults()


def client_settings(url: str, **overrides: Any) -> OpenObserveSettings:
    values: dict[str, Any] = {
        "openobserve_url": url,
        "openobserve_user": USER,
        "OPENOBSERVE_PASS": PASSWORD,
        "openobserve_org": "default",
        "openobserve_backoff_base_sec": 0.001,
        "openobserve_backoff_max_sec": 0.005,
        "openobserve_max_retries": 8,
        "openobserve_timeout_sec": 10.0,
        # The emulator shows a write at once unless its lag fault says otherwise; the tests
        # that switch that fault on set this above it.
        "openobserve_visibility_lag_sec": 0.2,
    }
    values.update(overrides)
    return OpenObserveSettings(**values)


def now_us() -> int:
    return time.time_ns() // 1_000


def new_stream() -> str:
    return "t_" + uuid.uuid4().hex[:12]


def make_events(
    n: int, batch_id: str | None = None, ts_us: int | None = None, start: int = 0
) -> list[dict[str, Any]]:
    """Realistic slow-query events, as the processor builds them."""
    from datetime import UTC, datetime

    batch = batch_id or uuid.uuid4().hex[:16]
    now = ts_us if ts_us is not None else time.time_ns() // 1_000
    events = []
    for i in range(start, start + n):
        ts = now - i
        events.append(
            {
                "_timestamp": ts,
                "event_time": datetime.fromtimestamp(ts / 1e6, tz=UTC).isoformat(),
                "event_id": f"{batch}-{i:06d}",
                "batch_id": batch,
                "account": "123456789012",
                "region": "us-east-1",
                "cluster_id": "orders-cluster",
                "instance_id": "orders-1",
                "engine": "aurora-mysql",
                "log_type": "slowquery",
                "log_file_name": "slowquery/mysql-slowquery.log",
                "offset": i * 512,
                "user": "app",
                "host": "10.0.0.12",
                "query_time": 0.25 + i / 1000,
                "rows_examined": i * 10,
                "statement": f"SELECT * FROM orders WHERE customer_id = {i} AND status = 'open'",
            }
        )
    return events


def span(events: list[dict[str, Any]]) -> tuple[int, int]:
    """The `[start, end)` search range of these events' `_timestamp`s (a second either side)."""
    stamps = [int(e["_timestamp"]) for e in events]
    return min(stamps) - 1_000_000, max(stamps) + 1_000_001
