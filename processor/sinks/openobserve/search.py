"""Searching OpenObserve through the shared transport: run SQL, count a batch, list the
`event_id`s stored for some batches (the client's reconciliation and the processor's recovery),
and the SQL quoting they use.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from processor.sinks.openobserve.batches import normalise_stream
from processor.sinks.openobserve.errors import BadAnswer, SearchError
from processor.sinks.openobserve.transport import Transport
from processor.sinks.openobserve.window import Window

_PAGE = 10_000


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
        raise BadAnswer(f"unexpected search response: {str(body)[:200]}", 200)
    hits = [h for h in body["hits"] if isinstance(h, dict)]
    return SearchResult(hits, int(body.get("total", len(hits))), int(body.get("took", 0)), body)


def now_us() -> int:
    return time.time_ns() // 1_000


class Search:
    """Searches of one organization (count a batch, list its stored event ids, run SQL)."""

    def __init__(self, transport: Transport, window: Window) -> None:
        self._transport = transport
        self._window = window

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
        return parse_result(await self._transport.post_search(payload))

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
