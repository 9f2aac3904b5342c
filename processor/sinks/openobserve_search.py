"""Search results and errors of OpenObserve's `_search`, and the SQL quoting the client uses."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from common.settings import OpenObserveSettings
from processor.sinks.openobserve_batches import normalise_stream
from processor.sinks.openobserve_metrics import LATENCY, REQUESTS, RETRIES
from processor.sinks.openobserve_retry import Backoff, is_retryable, parse_retry_after
from processor.sinks.openobserve_window import Window

_PAGE = 10_000


class OpenObserveError(Exception):
    """An OpenObserve request that failed for good; carries the HTTP status and body."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class SearchError(OpenObserveError):
    """`_search` refused the query (bad SQL, unknown stream or field...) or kept failing;
    `code` is OpenObserve's error code from the body (20002 stream not found...) when known."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message, status, body)
        self.code = _error_code(body)

    @property
    def nothing_stored(self) -> bool:
        """The stream or the field does not exist yet: no record can match."""
        return self.code in (STREAM_NOT_FOUND, FIELD_NOT_FOUND)


STREAM_NOT_FOUND = 20002
FIELD_NOT_FOUND = 20004


def _error_code(body: str) -> int | None:
    try:
        code = json.loads(body).get("code") if body else None
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


@dataclass(frozen=True)
class SearchResult:
    hits: list[dict[str, Any]]
    total: int
    took_ms: int
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier (stream or field name)."""
    return '"' + name.replace('"', '""') + '"'


def in_list(values: Sequence[str]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def parse_result(body: Any) -> SearchResult:
    if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
        raise SearchError(f"unexpected search response: {str(body)[:200]}")
    hits = [h for h in body["hits"] if isinstance(h, dict)]
    return SearchResult(hits, int(body.get("total", len(hits))), int(body.get("took", 0)), body)


def now_us() -> int:
    return time.time_ns() // 1_000


class SearchMixin:
    """The search helpers of `OpenObserveClient` (count a batch, list its stored event ids, run
    SQL), kept apart from shipping; the client provides the attributes declared here."""

    settings: OpenObserveSettings
    _http: httpx.AsyncClient
    _org: str
    _window: Window
    _backoff: Backoff

    async def search(
        self,
        sql: str,
        start_us: int = 0,
        end_us: int | None = None,
        size: int = 1000,
        offset: int = 0,
    ) -> SearchResult:
        """Run `sql` over `[start_us, end_us)` (end: now plus the future window by default)."""
        end = end_us if end_us is not None else now_us() + self._window.future_us + 3_600_000_000
        payload = {
            "query": {
                "sql": sql,
                "start_time": start_us,
                "end_time": end,
                "from": offset,
                "size": size,
            }
        }
        retries = 0
        while True:
            started = time.monotonic()
            try:
                resp = await self._http.post(f"/api/{self._org}/_search", json=payload)
            except httpx.TransportError as exc:
                REQUESTS.labels("search", type(exc).__name__).inc()
                reason, detail, retry_after = "transport_error", str(exc), None
            else:
                REQUESTS.labels("search", str(resp.status_code)).inc()
                if resp.status_code == 200:
                    try:
                        return parse_result(resp.json())
                    except ValueError as exc:
                        raise SearchError(f"search answer is not JSON: {exc}", 200) from exc
                if not is_retryable(resp.status_code):
                    raise SearchError(
                        f"search failed with HTTP {resp.status_code}: {resp.text[:300]}",
                        resp.status_code,
                        resp.text,
                    )
                reason, detail = f"http_{resp.status_code}", resp.text
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            finally:
                LATENCY.labels("search").observe(time.monotonic() - started)
            if retries >= self.settings.openobserve_max_retries:
                raise SearchError(f"search kept failing ({reason}): {detail[:300]}")
            retries += 1
            RETRIES.labels("search", reason).inc()
            await asyncio.sleep(self._backoff.delay(retries, retry_after))

    async def count_batch(
        self, stream: str, batch_id: str, start_us: int = 0, end_us: int | None = None
    ) -> int:
        """How many records of `stream` carry `batch_id` (duplicates included)."""
        sql = (
            f"SELECT count(*) AS n FROM {ident(normalise_stream(stream))} "
            f"WHERE batch_id = {literal(batch_id)}"
        )
        try:
            result = await self.search(sql, start_us, end_us, size=1)
        except SearchError as exc:
            if exc.nothing_stored:
                return 0
            raise
        return int(result.hits[0].get("n", 0)) if result.hits else 0

    async def stored_event_ids(
        self,
        stream: str,
        batch_ids: str | Sequence[str],
        start_us: int = 0,
        end_us: int | None = None,
    ) -> set[str]:
        """The distinct `event_id`s stored in `stream` for these batch ids."""
        ids = [batch_ids] if isinstance(batch_ids, str) else list(batch_ids)
        if not ids:
            return set()
        sql = (
            f"SELECT DISTINCT event_id FROM {ident(normalise_stream(stream))} "
            f"WHERE batch_id IN {in_list(ids)} ORDER BY event_id"
        )
        found: set[str] = set()
        offset = 0
        while True:
            try:
                page = await self.search(sql, start_us, end_us, size=_PAGE, offset=offset)
            except SearchError as exc:
                if exc.nothing_stored:
                    return found
                raise
            found.update(str(h["event_id"]) for h in page.hits if "event_id" in h)
            if len(page.hits) < _PAGE:
                return found
            offset += _PAGE
