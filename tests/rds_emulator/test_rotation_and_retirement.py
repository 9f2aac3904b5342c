"""Items that need the clock to move, each on an emulator of its own: rotated names pad the hour
while markers do not (1), the end of a segment on a reused live name (2), and the retirement of
the `/v13/` path of the complete download on 2027-03-01 (8)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiobotocore.session import get_session
from botocore.credentials import Credentials

from devstack.procs import stop_group
from processor.download import EndReason, Position, stream_complete_file
from processor.download.complete import refusal, signed_headers
from processor.download.errors import CompleteDownloadRefused
from tests.rds_emulator.conftest import (
    KEY,
    REGION,
    SECRET,
    RdsServer,
    client_config,
    listed_names,
    read_file,
    start_emulator,
)

SLOW = "slowquery/mysql-slowquery.log"
ERROR = "error/mysql-error-running.log"


@pytest.fixture
def emulators(tmp_path: Path) -> Iterator[list[RdsServer]]:
    started: list[RdsServer] = []
    yield started
    for server in started:
        stop_group(server.pid)


def _start(emulators: list[RdsServer], root: Path, start_time: str) -> tuple[RdsServer, str]:
    server = start_emulator(root, "--instances", "4", "--start-time", start_time,
                            "--profile", "happy", "--stopped", "0", "--no-throttle")  # fmt: skip
    emulators.append(server)
    mysql = server.instances("aurora-mysql")[0]
    server.admin("POST", "fleet/activity", {"instances": [mysql], "activity": 0.3})
    return server, mysql


@pytest.fixture
async def make_client() -> AsyncIterator[Any]:
    clients: list[Any] = []

    async def make(server: RdsServer) -> Any:
        c = await get_session().create_client(
            "rds", region_name=REGION, endpoint_url=server.url, aws_access_key_id=KEY,
            aws_secret_access_key=SECRET, config=client_config(),
        ).__aenter__()  # fmt: skip
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.__aexit__(None, None, None)


def _advance(server: RdsServer, seconds: float) -> None:
    server.admin("POST", "clock", {"advance_sec": seconds})


async def test_rotated_names_pad_the_hour_and_markers_do_not(
    emulators: list[RdsServer], tmp_path: Path, make_client: Any
) -> None:
    server, mysql = _start(emulators, tmp_path, "2027-03-01T00:30:00Z")
    client = await make_client(server)
    _advance(server, 3600)  # the hour 00 rotates at 01:00
    names = await listed_names(client, mysql)
    for base in (ERROR, SLOW, "general/mysql-general.log"):
        assert f"{base}.2027-03-01.00" in names
        assert f"{base}.2027-03-01.0" not in names
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d\.\d\d", n[len(base) + 1 :])
                   for n in names if n.startswith(base + "."))  # fmt: skip
    error = await read_file(client, mysql, f"{ERROR}.2027-03-01.00", lines=50)
    assert error.pages[0].marker.startswith("2027-03-01.0:")  # the marker's hour: unpadded
    slow = await read_file(client, mysql, f"{SLOW}.2027-03-01.00", lines=50)
    assert slow.pages[0].marker.startswith("0:")
    assert slow.data == server.truth(mysql, f"{SLOW}.2027-03-01.00")


async def test_reading_the_live_name_across_the_hour_ends_the_segment_with_marker_zero(
    emulators: list[RdsServer], tmp_path: Path, make_client: Any
) -> None:
    server, mysql = _start(emulators, tmp_path, "2026-11-23T09:40:00Z")
    client = await make_client(server)
    before = await read_file(client, mysql, SLOW, lines=200)
    assert before.end.reason is EndReason.CAUGHT_UP and before.data
    _advance(server, 1800)  # 10:10: the 09 segment was rotated at 10:00 with more bytes
    # A client that trusts the API sees Marker "0" at the end of the old segment.
    raw = await client.download_db_log_file_portion(
        DBInstanceIdentifier=mysql, LogFileName=SLOW, Marker=before.end.marker,
        NumberOfLines=10000,
    )  # fmt: skip
    assert raw["Marker"] == "0" and raw["LogFileData"]
    after = await read_file(client, mysql, SLOW, Position(before.end.offset, before.end.marker))
    assert after.end.reason is EndReason.SEGMENT_END and after.end.marker is None
    rotated = f"{SLOW}.2026-11-23.09"  # taken from the listing, never from the marker
    assert rotated in await listed_names(client, mysql)
    assert before.data + after.data == server.truth(mysql, rotated)
    # The live name now holds the new segment, from Marker "0".
    fresh = await read_file(client, mysql, SLOW)
    assert fresh.data == server.truth(mysql, SLOW) and fresh.pages[0].marker.startswith("10:")


async def test_echoed_marker_variant_reads_on_from_the_rotated_name(
    emulators: list[RdsServer], tmp_path: Path, make_client: Any
) -> None:
    server, mysql = _start(emulators, tmp_path, "2026-11-23T09:40:00Z")
    server.faults(echo_marker_after_rotation={"enabled": True})
    client = await make_client(server)
    before = await read_file(client, mysql, SLOW, lines=200)
    _advance(server, 1800)
    echoed = await read_file(client, mysql, SLOW, Position(before.end.offset, before.end.marker))
    assert echoed.end.reason is EndReason.CAUGHT_UP and not echoed.data
    assert echoed.end.marker == before.end.marker  # the old marker, unchanged
    rotated = f"{SLOW}.2026-11-23.09"
    rest = await read_file(client, mysql, rotated, Position(before.end.offset, before.end.marker))
    assert before.data + rest.data == server.truth(mysql, rotated)


async def _get(url: str) -> httpx.Response:
    headers = signed_headers(url, Credentials(KEY, SECRET), REGION)
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.get(url, headers=headers)


async def test_v13_path_works_until_2027_03_01_and_v19_after(
    emulators: list[RdsServer], tmp_path: Path
) -> None:
    server, mysql = _start(emulators, tmp_path, "2027-02-28T23:58:00Z")
    truth = server.truth(mysql, SLOW)
    for version in ("v13", "v19"):
        resp = await _get(f"{server.url}/{version}/downloadCompleteLogFile/{mysql}/{SLOW}")
        assert resp.status_code == 200 and resp.content == truth
    _advance(server, 180)  # 2027-03-01T00:01Z
    retired = await _get(f"{server.url}/v13/downloadCompleteLogFile/{mysql}/{SLOW}")
    assert retired.status_code == 400 and b"<Code>NoSuchVersion</Code>" in retired.content
    err = refusal(retired.status_code, retired.text, mysql, SLOW)
    assert isinstance(err, CompleteDownloadRefused) and not err.retriable
    async with httpx.AsyncClient(timeout=60) as http:
        chunks = [c async for c in stream_complete_file(
            http, server.url, Credentials(KEY, SECRET), REGION, mysql, SLOW)]  # fmt: skip
    assert b"".join(chunks) == server.truth(mysql, SLOW)
