"""The streaming `downloadCompleteLogFile` REST endpoint: one SigV4-signed GET for a whole file.

No SDK or CLI supports it (docs/reference/rds-api.md §1), so it is signed here with botocore's own signer, the
way the AWS docs show, and streamed with httpx: a file is never held whole in memory. The path is
`/v19/`: the newest RDS User Guide retires `/v13/` (with every API version before 2014-10-31)
after 2027-03-01.

Given the pair's `RdsApi`, the GET goes through its door as operation `DownloadCompleteDBLogFile`
(a token of the shared bucket first, counted in `aurora_rds_api_calls_total`, a throttled answer
penalising the bucket), like every query-API call.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from common.rds import RdsApi
from processor.download.errors import (
    CompleteDownloadRefused,
    FileVanished,
    InstanceNotFound,
    RdsError,
    ServerError,
    Throttled,
    error_for,
)
from processor.download.hooks import BeforeCall, no_wait

PATH_VERSION = "v19"
OPERATION = "DownloadCompleteDBLogFile"
GZIP_MAGIC = b"\x1f\x8b"
_CODE = re.compile(r"<Code>([^<]+)</Code>")
_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


def complete_file_url(endpoint: str, instance_id: str, log_file_name: str) -> str:
    # The slash inside the file name stays literal (error/mysql-error-running.log.2024-01-04.09).
    name = quote(log_file_name, safe="/")
    base = endpoint.rstrip("/")
    return f"{base}/{PATH_VERSION}/downloadCompleteLogFile/{quote(instance_id)}/{name}"


def signed_headers(url: str, credentials: Any, region: str) -> dict[str, str]:
    """SigV4 headers (service `rds`) for a GET of `url` with botocore `credentials`."""
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, "rds", region).add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() != "host"}


def refusal(status: int, body: str, instance_id: str, log_file_name: str) -> RdsError:
    """The error for a non-200 answer of the endpoint."""
    found = _CODE.search(body)
    code = found.group(1) if found else ""
    said = _MESSAGE.search(body)
    message = said.group(1) if said else body[:200]
    where = f"downloadCompleteLogFile {instance_id}/{log_file_name}: HTTP {status} {code}"
    args = (f"{where}: {message}", instance_id, log_file_name)
    if code == "DBLogFileNotFoundFault":
        return FileVanished(*args, code=code, status=status, body=body)
    if code in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
        return InstanceNotFound(*args, code=code, status=status, body=body)
    if status in (403, 404) or code == "NoSuchVersion":
        return CompleteDownloadRefused(*args, code=code, status=status, body=body)
    return error_for(code, status, message, instance_id, log_file_name, body)


async def stream_complete_file(
    http: httpx.AsyncClient,
    endpoint: str,
    credentials: Any,
    region: str,
    instance_id: str,
    log_file_name: str,
    chunk_size: int = 1 << 20,
    before_call: BeforeCall = no_wait,
    api: RdsApi | None = None,
) -> AsyncIterator[bytes]:
    """Yield the file's bytes in chunks; raise a `DownloadError` subclass when refused."""
    await before_call()
    url = complete_file_url(endpoint, instance_id, log_file_name)
    where = (http, url, signed_headers(url, credentials, region), instance_id, log_file_name)
    if api is None:
        async for chunk in _stream(*where, chunk_size):
            yield chunk
        return
    attempt = 0
    while True:
        delivered = False
        try:
            async with api.metered(OPERATION):
                async for chunk in _stream(*where, chunk_size):
                    delivered = True
                    yield chunk
            return
        except Throttled:
            # Answered before any byte: backed off and asked again, as `RdsApi.call` does.
            delay = api.backoff(attempt)
            if delivered or delay is None:
                raise
            attempt += 1
            await asyncio.sleep(delay)


async def text_of(chunks: AsyncIterator[bytes], chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
    """The text of a complete download. A `.gz` name (Aurora compresses old PostgreSQL files)
    downloads as its gzip bytes while portions serve the text, and a file's offsets are text
    offsets everywhere (its checkpoint is shared with the name before `.gz`): gzip bytes are
    decompressed as they stream, at most `chunk_size` out at a time. Other bytes pass as they
    are."""
    head = b""
    source = aiter(chunks)
    async for chunk in source:
        head += chunk
        if len(head) >= 2:
            break
    if head[:2] != GZIP_MAGIC:
        if head:
            yield head
        async for chunk in source:
            yield chunk
        return
    unzip, fed, pending = zlib.decompressobj(wbits=31), False, head
    while True:
        while pending:
            fed = True
            try:
                out = unzip.decompress(pending, chunk_size)
            except zlib.error as exc:
                raise ServerError(f"complete download: damaged gzip data: {exc}") from exc
            pending = unzip.unconsumed_tail
            if out:
                yield out
            if unzip.eof:  # a gzip file may hold several members, one after the other
                # At a member's end the rest of the input is `unused_data` (CPython may leave a
                # copy of it in `unconsumed_tail` too: that copy is not read twice).
                pending = unzip.unused_data
                unzip, fed = zlib.decompressobj(wbits=31), False
        try:
            pending = await anext(source)
        except StopAsyncIteration:
            break
    if fed and not unzip.eof:
        raise ServerError("complete download: the gzip data ended in the middle of a member")


async def _stream(
    http: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    instance_id: str,
    log_file_name: str,
    chunk_size: int,
) -> AsyncIterator[bytes]:
    try:
        async with http.stream("GET", url, headers=headers) as resp:
            if resp.status_code != 200:
                body = (await resp.aread()).decode("utf-8", "replace")[:2000]
                raise refusal(resp.status_code, body, instance_id, log_file_name)
            async for chunk in resp.aiter_bytes(chunk_size):
                yield chunk
    except httpx.TransportError as exc:
        raise ServerError(
            f"downloadCompleteLogFile {instance_id}/{log_file_name}: {exc!r}",
            instance_id,
            log_file_name,
        ) from exc
