"""Our client of the `downloadCompleteLogFile` endpoint against the emulator."""

from __future__ import annotations

import httpx
import pytest
from botocore.credentials import Credentials

from processor.download import DownloadError, complete_file_url, stream_complete_file
from processor.download.errors import (
    CompleteDownloadRefused,
    FileVanished,
    InstanceNotFound,
    InstanceNotReady,
    ServerError,
)
from tests.rds_emulator.conftest import KEY, REGION, SECRET, Busy, RdsServer


async def _download(
    rds: RdsServer, instance: str, name: str, secret: str = SECRET, waits: list[int] | None = None
) -> bytes:
    async def hook() -> None:
        if waits is not None:
            waits.append(1)

    async with httpx.AsyncClient(timeout=60) as http:
        chunks = [
            c
            async for c in stream_complete_file(
                http, rds.url, Credentials(KEY, secret), REGION, instance, name, chunk_size=65536,
                before_call=hook,
            )
        ]  # fmt: skip
    return b"".join(chunks)


async def test_streams_the_whole_file(rds: RdsServer, busy: Busy) -> None:
    for instance, name in (
        (busy.mysql, "slowquery/mysql-slowquery.log"),
        (busy.pg, next(f["name"] for f in rds.truth_files(busy.pg) if f["size"] > 0)),
    ):
        assert await _download(rds, instance, name) == rds.truth(instance, name)


async def test_wrong_secret_is_a_download_error_with_the_status(rds: RdsServer, busy: Busy) -> None:
    with pytest.raises(CompleteDownloadRefused) as refused:
        await _download(rds, busy.mysql, "slowquery/mysql-slowquery.log", secret="wrong")
    assert refused.value.status == 403
    assert "SignatureDoesNotMatch" in refused.value.body
    assert isinstance(refused.value, DownloadError) and not refused.value.retriable


async def test_refusals_map_to_the_error_hierarchy(rds: RdsServer, busy: Busy) -> None:
    waits: list[int] = []
    with pytest.raises(FileVanished) as vanished:
        await _download(rds, busy.mysql, "slowquery/mysql-slowquery.log.1999-01-01.01", waits=waits)
    assert vanished.value.code == "DBLogFileNotFoundFault" and waits == [1]
    with pytest.raises(InstanceNotFound):
        await _download(rds, "ghost-db", "slowquery/mysql-slowquery.log")
    rds.faults(server_error={"enabled": True, "rate": 1.0, "status": 503})
    with pytest.raises(ServerError) as failed:
        await _download(rds, busy.mysql, "slowquery/mysql-slowquery.log")
    assert failed.value.retriable and failed.value.status == 503
    assert InstanceNotReady.retriable


def test_url_keeps_the_slash_of_the_file_name() -> None:
    url = complete_file_url("https://rds.eu-west-1.amazonaws.com/", "db-1", "error/a b.log")
    assert (
        url
        == "https://rds.eu-west-1.amazonaws.com/v19/downloadCompleteLogFile/db-1/error/a%20b.log"
    )
