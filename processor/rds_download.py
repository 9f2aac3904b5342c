"""The streaming `downloadCompleteLogFile` REST endpoint: one SigV4-signed GET for a whole file.

No SDK or CLI supports it (rds-api.md §1), so it is signed here with botocore's own signer, the
way the AWS docs show, and streamed with httpx: a file is never held whole in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


class DownloadError(RuntimeError):
    """The endpoint refused the download; `status` and `body` say why."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def complete_file_url(endpoint: str, instance_id: str, log_file_name: str) -> str:
    # The slash inside the file name stays literal (error/mysql-error-running.log.2024-01-04.9).
    name = quote(log_file_name, safe="/")
    return f"{endpoint.rstrip('/')}/v13/downloadCompleteLogFile/{quote(instance_id)}/{name}"


def signed_headers(url: str, credentials: Any, region: str) -> dict[str, str]:
    """SigV4 headers (service `rds`) for a GET of `url` with botocore `credentials`."""
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, "rds", region).add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() != "host"}


async def stream_complete_file(
    http: httpx.AsyncClient,
    endpoint: str,
    credentials: Any,
    region: str,
    instance_id: str,
    log_file_name: str,
    chunk_size: int = 1 << 20,
) -> AsyncIterator[bytes]:
    """Yield the file's bytes in chunks; raise `DownloadError` on a non-200 answer."""
    url = complete_file_url(endpoint, instance_id, log_file_name)
    headers = signed_headers(url, credentials, region)
    async with http.stream("GET", url, headers=headers) as resp:
        if resp.status_code != 200:
            body = (await resp.aread()).decode("utf-8", "replace")[:500]
            raise DownloadError(
                f"downloadCompleteLogFile {instance_id}/{log_file_name}: HTTP {resp.status_code}",
                resp.status_code,
                body,
            )
        async for chunk in resp.aiter_bytes(chunk_size):
            yield chunk
