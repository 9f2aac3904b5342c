"""The RDS emulator as a real subprocess on a free loopback port (frozen clock, small fleet),
real aiobotocore clients against it, and helpers for its admin API and ground truth."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from devstack.procs import free_port, start_http_server, stop_group
from processor.download import (
    BeforeCall,
    End,
    EndReason,
    Page,
    Position,
    Tail,
    no_wait,
    read_portions,
)

HOST = "127.0.0.1"
KEY = "testing"
SECRET = "testing"
REGION = "eu-west-1"
START = "2026-11-23T10:30:00Z"
TRUNCATED = "\n [Your log message was truncated]\n"


@dataclass
class RdsServer:
    url: str
    pid: int
    log: Path

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = httpx.request(method, f"{self.url}/_admin/{path}", json=body, timeout=60)
        resp.raise_for_status()
        return resp.json()

    def faults(self, **changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("POST", "faults", changes)
        return result

    def truth(self, instance: str, name: str, gzip: bool = False) -> bytes:
        query = "?gzip=1" if gzip else ""
        resp = httpx.get(f"{self.url}/_admin/ground-truth/{instance}/{name}{query}", timeout=60)
        resp.raise_for_status()
        return resp.content

    def truth_files(self, instance: str) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = self.admin("GET", f"ground-truth/{instance}")["files"]
        return files

    def instances(self, engine: str | None = None, status: str = "available") -> list[str]:
        return [
            i["instance_id"]
            for i in self.admin("GET", "fleet")["instances"]
            if (engine is None or i["engine"] == engine) and i["status"] == status
        ]


@dataclass(frozen=True)
class Busy:
    mysql: str
    pg: str


def start_emulator(root: Path, *extra: str) -> RdsServer:
    port = free_port(HOST)
    log = root / "rds.log"
    argv = [
        sys.executable, "-m", "devstack.rds", "--host", HOST, "--port", str(port),
        "--data-dir", str(root / "data"), "--instances", "24", "--seed", "7",
        "--clock-speed", "0", "--start-time", START, "--history-hours", "1",
        "--audit-rotate-bytes", "3000000", "--log-level", "WARNING", "--logging", "all", *extra,
    ]  # fmt: skip
    url = f"http://{HOST}:{port}"
    proc = start_http_server(argv, log, f"{url}/_admin/healthz", "rds emulator")
    return RdsServer(url, proc.pid, log)


@contextmanager
def running_emulator(root: Path, *extra: str) -> Iterator[RdsServer]:
    server = start_emulator(root, *extra)
    try:
        yield server
    finally:
        stop_group(server.pid)


@pytest.fixture(scope="session")
def rds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RdsServer]:
    with running_emulator(tmp_path_factory.mktemp("rds")) as server:
        yield server


@pytest.fixture(scope="session")
def busy(rds: RdsServer) -> Busy:
    """One instance of each engine with enough log volume for multi-page and truncated reads."""
    mysql = rds.instances("aurora-mysql")[0]
    pg = rds.instances("aurora-postgresql")[0]
    rds.admin("POST", "fleet/activity", {"instances": [mysql, pg], "activity": 6.0})
    return Busy(mysql, pg)


@pytest.fixture(scope="session")
def quiet(rds: RdsServer) -> str:
    """A MySQL instance with small files (~0.5 MB each): for reads of many small pages."""
    mysql = rds.instances("aurora-mysql")[2]
    rds.admin("POST", "fleet/activity", {"instances": [mysql], "activity": 0.1})
    return mysql


@pytest.fixture(autouse=True)
def _clean(rds: RdsServer) -> Iterator[None]:
    rds.admin("POST", "faults/reset")
    rds.admin(
        "POST", "throttle",
        {"enabled": False, "operations": {}, "code": "Throttling", "burst": 300, "rate": 12},
    )  # fmt: skip
    yield
    rds.admin("POST", "faults/reset")


def client_config(**extra: Any) -> AioConfig:
    extra.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})
    return AioConfig(**extra)


@asynccontextmanager
async def rds_client(server: RdsServer) -> AsyncIterator[Any]:
    """An aiobotocore RDS client of that emulator, one attempt per call."""
    async with get_session().create_client(
        "rds", region_name=REGION, endpoint_url=server.url, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, config=client_config(),
    ) as c:  # fmt: skip
        yield c


@pytest.fixture
async def client(rds: RdsServer) -> AsyncIterator[Any]:
    async with rds_client(rds) as c:
        yield c


async def read_with_markers(
    client: Any, instance: str, name: str, lines: int | None = None
) -> bytes:
    """The careful client loop: from marker "0", drop the truncation suffix, follow markers until
    AdditionalDataPending is false."""
    marker, out = "0", []
    while True:
        kwargs: dict[str, Any] = {"DBInstanceIdentifier": instance, "LogFileName": name}
        kwargs["Marker"] = marker
        if lines is not None:
            kwargs["NumberOfLines"] = lines
        page = await client.download_db_log_file_portion(**kwargs)
        data = page.get("LogFileData", "")
        if data.endswith(TRUNCATED):
            data = data[: -len(TRUNCATED)]
        out.append(data.encode())
        marker = page["Marker"]
        if not page["AdditionalDataPending"]:
            return b"".join(out)


async def listed_names(client: Any, instance: str) -> list[str]:
    files = (await client.describe_db_log_files(DBInstanceIdentifier=instance))[
        "DescribeDBLogFiles"
    ]
    return [f["LogFileName"] for f in files]


FROM_START = Position()


@dataclass
class Read:
    """What the processor's portion reader delivered: the bytes, its pages and its end."""

    data: bytes
    pages: list[Page]
    end: End


async def read_file(
    client: Any,
    instance: str,
    name: str,
    start: Position | Tail = FROM_START,
    lines: int = 10000,
    stop_after: int | None = None,
    before_call: BeforeCall = no_wait,
) -> Read:
    """Every page the reader gives (or the first `stop_after`), checked to be contiguous."""
    pages: list[Page] = []
    async for item in read_portions(client, instance, name, start, lines=lines,
                                    before_call=before_call):  # fmt: skip
        if isinstance(item, End):
            return Read(b"".join(p.data for p in pages), pages, item)
        if pages:
            assert item.offset == pages[-1].end
        pages.append(item)
        if stop_after is not None and len(pages) >= stop_after:
            mid = End(EndReason.CAUGHT_UP, item.end, item.marker, 0)
            return Read(b"".join(p.data for p in pages), pages, mid)
    raise AssertionError("the reader ended without an End")
