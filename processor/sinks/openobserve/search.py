"""Searching OpenObserve through the shared transport: run SQL, count a batch, and ask which
`event_id`s are stored (the client's reconciliation, the processor's recovery and `verify`),
with the SQL quoting they use.

A search answer is not a perfect mirror of what was stored: a partial answer (`is_partial`, a
querier failed or the range was shortened) and a young one (records written less than the
visibility lag ago may not show yet) prove presence, never absence. `which_stored` says so
per event (stored / absent / unknown); `count_batch` and `stored_event_ids`, which need a
complete answer, raise `PartialAnswer` instead. Ranges longer than
`openobserve_search_max_range_hours` are split, so the server never shortens them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from processor.sinks.openobserve.batches import normalise_stream
from processor.sinks.openobserve.errors import BadAnswer, PartialAnswer, SearchError
from processor.sinks.openobserve.outcomes import StoredCheck
from processor.sinks.openobserve.transport import Transport
from processor.sinks.openobserve.window import HOUR_US, Window

_PAGE = 10_000
_IN_LIST = 500  # event ids per `IN (...)` when no batch id narrows the search


@dataclass(frozen=True)
class SearchResult:
    hits: list[dict[str, Any]]
    total: int
    took_ms: int
    partial: bool = False  # `is_partial`: what is missing may still be stored
    notes: tuple[str, ...] = ()  # the server's `function_error`
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
    notes = body.get("function_error") or ()
    notes = (notes,) if isinstance(notes, str) else tuple(str(n) for n in notes)
    return SearchResult(
        hits,
        int(body.get("total", len(hits))),
        int(body.get("took", 0)),
        bool(body.get("is_partial", False)),
        notes,
        body,
    )


def windows(start_us: int, end_us: int, max_range_us: int) -> list[tuple[int, int]]:
    """`[start_us, end_us)` cut into consecutive ranges no longer than `max_range_us`."""
    out = []
    while start_us < end_us:
        stop = min(start_us + max_range_us, end_us)
        out.append((start_us, stop))
        start_us = stop
    return out


def now_us() -> int:
    return time.time_ns() // 1_000


class Search:
    """Searches of one organization (count a batch, which events are stored, run SQL)."""

    def __init__(self, transport: Transport, window: Window) -> None:
        self._transport = transport
        self._window = window
        settings = transport.settings
        self._max_range_us = max(int(settings.openobserve_search_max_range_hours * HOUR_US), 1)
        self._lag_us = int(settings.openobserve_visibility_lag_sec * 1_000_000)

    async def search(
        self,
        sql: str,
        start_us: int = 0,
        end_us: int | None = None,
        size: int = 1000,
        offset: int = 0,
    ) -> SearchResult:
        """Run `sql` over `[start_us, end_us)` (end: now plus the future window by default), in
        one request, as the server answers it (check `partial`)."""
        end = end_us if end_us is not None else now_us() + self._window.future_us + HOUR_US
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

    def windows(self, start_us: int, end_us: int) -> list[tuple[int, int]]:
        return windows(start_us, end_us, self._max_range_us)

    async def count_batch(self, stream: str, batch_id: str, start_us: int, end_us: int) -> int:
        """How many records of `stream` carry `batch_id` (duplicates included) with
        `_timestamp` in `[start_us, end_us)`; raises `PartialAnswer` when it cannot be sure."""
        sql = (
            f"SELECT count(*) AS n FROM {ident(normalise_stream(stream))} "
            f"WHERE batch_id = {literal(batch_id)}"
        )
        total = 0
        for low, high in self.windows(start_us, end_us):
            try:
                result = await self.search(sql, low, high, size=1)
            except SearchError as exc:
                if exc.nothing_stored:
                    continue
                raise
            if result.partial:
                raise PartialAnswer(f"partial count of batch {batch_id}", result.notes)
            total += int(result.hits[0].get("n", 0)) if result.hits else 0
        return total

    async def stored_event_ids(
        self, stream: str, batch_ids: str | Sequence[str], start_us: int, end_us: int
    ) -> set[str]:
        """The distinct `event_id`s stored in `stream` for these batch ids, in the range; raises
        `PartialAnswer` when the server's answer was partial (see `which_stored`)."""
        ids = [batch_ids] if isinstance(batch_ids, str) else list(batch_ids)
        if not ids:
            return set()
        found, notes = await self._event_ids(
            stream, f"batch_id IN {in_list(ids)}", start_us, end_us
        )
        if notes:
            raise PartialAnswer("partial answer listing stored event ids", tuple(notes))
        return found

    async def which_stored(
        self,
        stream: str,
        event_ids: Iterable[str],
        start_us: int,
        end_us: int,
        *,
        last_write_us: int | None,
        batch_ids: Sequence[str] = (),
    ) -> StoredCheck:
        """Which of `event_ids` are stored in `stream` with `_timestamp` in `[start_us, end_us)`
        (narrowed by `batch_ids` when given: the index the server keeps).

        `last_write_us` is when the last write that may hold them ended (wall clock); an event
        not found less than `openobserve_visibility_lag_sec` after it is *unknown*. Pass None
        only when no such write can be that recent (e.g. `verify` over old ranges). A partial
        answer or a failed search also leaves the events not found unknown, with the reason.
        """
        asked = list(dict.fromkeys(event_ids))
        found: set[str] = set()
        reasons: list[str] = []
        try:
            if batch_ids:
                where = f"batch_id IN {in_list(sorted(set(batch_ids)))}"
                found, reasons = await self._event_ids(stream, where, start_us, end_us)
            else:
                for at in range(0, len(asked), _IN_LIST):
                    where = f"event_id IN {in_list(asked[at : at + _IN_LIST])}"
                    some, notes = await self._event_ids(stream, where, start_us, end_us)
                    found |= some
                    reasons += notes
            reasons = [f"partial_answer: {n}" for n in reasons]
        except SearchError as exc:
            reasons = [f"search_failed: {type(exc).__name__}: {exc}"]
        if last_write_us is not None:
            age_us = now_us() - last_write_us
            if age_us < self._lag_us:
                reasons.append(f"young: written {age_us // 1000} ms ago, under the visibility lag")
        return StoredCheck.build(asked, found, bool(reasons), reasons)

    async def _event_ids(
        self, stream: str, where: str, start_us: int, end_us: int
    ) -> tuple[set[str], list[str]]:
        """Distinct `event_id`s matching `where`, every page of every window; and the notes of
        any partial answer among them."""
        sql = (
            f"SELECT DISTINCT event_id FROM {ident(normalise_stream(stream))} "
            f"WHERE {where} ORDER BY event_id"
        )
        found: set[str] = set()
        notes: list[str] = []
        for low, high in self.windows(start_us, end_us):
            offset = 0
            while True:
                try:
                    page = await self.search(sql, low, high, size=_PAGE, offset=offset)
                except SearchError as exc:
                    if exc.nothing_stored:
                        break
                    raise
                if page.partial:
                    notes += page.notes or ["is_partial"]
                found.update(str(h["event_id"]) for h in page.hits if "event_id" in h)
                if len(page.hits) < _PAGE:
                    break
                offset += _PAGE
        return found, notes
