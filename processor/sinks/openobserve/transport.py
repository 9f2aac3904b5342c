"""The one HTTP connection pool to OpenObserve, shared by shipping and searching.

`Transport` owns the httpx client, the organization and the backoff: `post_ingest` sends one
prepared body (the sender judges the answer), `post_search` runs one `_search` request with its
own retries and turns refusals into the exceptions of `errors`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from common.settings import OpenObserveSettings
from processor.sinks.openobserve.errors import (
    BadAnswer,
    OrganizationNotFound,
    QueryRefused,
    SearchError,
    SearchUnavailable,
)
from processor.sinks.openobserve.metrics import LATENCY, REQUESTS, RETRIES
from processor.sinks.openobserve.retry import Backoff, is_retryable, parse_retry_after

_INGEST_HEADERS = {"Content-Type": "application/json", "Content-Encoding": "gzip"}


class Transport:
    def __init__(self, settings: OpenObserveSettings) -> None:
        self.settings = settings
        self.org = settings.openobserve_org
        self.backoff = Backoff(
            settings.openobserve_backoff_base_sec, settings.openobserve_backoff_max_sec
        )
        self.http = httpx.AsyncClient(
            base_url=settings.openobserve_url.rstrip("/"),
            auth=(settings.openobserve_user, settings.openobserve_pass.get_secret_value()),
            timeout=settings.openobserve_timeout_sec,
            limits=httpx.Limits(max_connections=max(settings.openobserve_concurrency, 2) + 2),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def post_ingest(self, stream: str, gzipped: bytes) -> httpx.Response:
        """POST one gzip JSON array to `_json`; transport errors propagate to the sender."""
        started = time.monotonic()
        try:
            resp = await self.http.post(
                f"/api/{self.org}/{stream}/_json", content=gzipped, headers=_INGEST_HEADERS
            )
        except httpx.TransportError as exc:
            REQUESTS.labels("ingest", type(exc).__name__).inc()
            raise
        finally:
            LATENCY.labels("ingest").observe(time.monotonic() - started)
        REQUESTS.labels("ingest", str(resp.status_code)).inc()
        return resp

    async def post_search(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One `_search` request (retried on transport errors, 408, 429 and 5xx); the answer's
        JSON object, or a `SearchError` subclass."""
        retries = 0
        while True:
            started = time.monotonic()
            try:
                resp = await self.http.post(f"/api/{self.org}/_search", json=payload)
            except httpx.TransportError as exc:
                REQUESTS.labels("search", type(exc).__name__).inc()
                reason, detail, retry_after = "transport_error", str(exc), None
            else:
                REQUESTS.labels("search", str(resp.status_code)).inc()
                status = resp.status_code
                if status == 200:
                    try:
                        body = resp.json()
                    except ValueError as exc:
                        raise BadAnswer(f"search answer is not JSON: {exc}", 200) from exc
                    if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
                        raise BadAnswer(f"unexpected search answer: {resp.text[:200]}", 200)
                    return body
                if not is_retryable(status):
                    message = f"search failed with HTTP {status}: {resp.text[:300]}"
                    kind = {400: QueryRefused, 404: OrganizationNotFound}.get(status, SearchError)
                    raise kind(message, status, resp.text)
                reason, detail = f"http_{status}", resp.text
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            finally:
                LATENCY.labels("search").observe(time.monotonic() - started)
            if retries >= self.settings.openobserve_max_retries:
                raise SearchUnavailable(f"search kept failing ({reason}): {detail[:300]}")
            retries += 1
            RETRIES.labels("search", reason).inc()
            await asyncio.sleep(self.backoff.delay(retries, retry_after))
