"""Aurora / RDS PostgreSQL log with the fixed prefix `%t:%r:%u@%d:[%p]:`.

`2023-11-29 09:23:51 UTC:10.0.2.55(57562):postgres@postgres:[29735]:LOG:  duration: 100.50 ms
statement: SELECT …`; background processes have empty client, user and db
(`2023-11-29 09:23:46 UTC::@:[560]:LOG:  checkpoint starting: time`). A CloudWatch export may put
an ISO timestamp before the prefix; it is skipped. Under verbose error settings a SQLSTATE follows
the severity (`LOG:  00000: statement: …`).

Lines without a prefix continue the entry (multi-line statements). DETAIL, HINT, CONTEXT,
STATEMENT, QUERY and LOCATION lines of the same process are attached to the entry as `detail`,
`hint`, `context`, `statement`, `internal_query`, `location`.

Fields: `severity`, `client`, `client_port`, `user`, `db`, `pid`, `sqlstate`, `message`,
`duration_ms`, `statement_kind` (`statement|execute|bind|parse|plan|query|function call`),
`prepared_name`, `statement` (password literals masked), `fingerprint`, `query_id` (pgbadger's
class of the statement, its bound values included: fingerprint_pg.py). A time printed in a named
zone is converted to UTC and the name kept in `time_zone`, with `time_zone_ambiguous` or
`time_zone_unknown` where the name does not say the offset for sure (pg_zones.py).

This module is the specification and the pure-Python parser; where `_pg.pyx` is built the same
rules run in C (`COMPILED_LINES`), which tests/parsers/test_pg_compiled.py holds to the same events.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

import structlog

from processor.parsers.base import LogParser
from processor.parsers.event import Event
from processor.parsers.fingerprint_pg import PG_MODULE, fingerprint_pg_latin1
from processor.parsers.masking import mask_secrets
from processor.parsers.pg_zones import UTC_NAMES, ZoneFlag, local_to_utc
from processor.parsers.values import parse_iso_utc

_PREFIX = re.compile(
    r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z )?"
    r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: ?([A-Za-z]{1,6}|[+-]\d\d(?::?\d\d)?))?:"
    r"(\[local\]|[^()\s]*\((\d+)\)|[^:]*):"
    r"(.*?)@(.*?):\[(\d+)\]:"
    r"([A-Z][A-Z0-9]*):[ \t]+(?:([0-9A-Z]{5}): )?",
    re.ASCII,
)
_DURATION = re.compile(
    r"duration: (\d+(?:\.\d+)?) ms(?:[ \t]+(statement|execute|bind|parse|plan|query"
    r"|fastpath function call)(?: ([^:]*))?: )?",
    re.ASCII,
)
_STATEMENT = re.compile(r"(statement|execute|bind|parse)(?: ([^:]*))?: ", re.ASCII)
_ATTACHED = {
    "DETAIL": "detail",
    "HINT": "hint",
    "CONTEXT": "context",
    "STATEMENT": "statement",
    "QUERY": "internal_query",
    "LOCATION": "location",
}
# Attached lines that may quote a statement (a dblink connection string, a failing query).
MASKED_ATTACHED = ("detail", "hint", "context", "internal_query")
_TIME_CACHE = 4096
LOG = structlog.get_logger(__name__)
# The compiled line loop (`_pg.pyx`), or None: the methods below are then the parser.
COMPILED_LINES: Any = None if PG_MODULE is None else PG_MODULE.PgLines


class PostgresLogParser(LogParser):
    log_type: ClassVar[str] = "postgresql"

    def __init__(self, base_offset: int = 0, max_line_bytes: int = 1 << 20) -> None:
        super().__init__(base_offset, max_line_bytes)
        self._event: Event | None = None
        self._pid: int | None = None
        self._target = "message"
        self._parts: list[str] = []
        self._size = 0
        self._ascii = True
        self._truncated = False
        self._times: dict[str, datetime | None] = {}
        self._zoned: dict[tuple[str, str], tuple[datetime | None, ZoneFlag | None]] = {}
        compiled = COMPILED_LINES
        self._core: Any = None
        if compiled is not None:
            helpers = (self, Event, _PREFIX, _ATTACHED, self._utc_time, self._zoned_time,
                       fingerprint_pg_latin1, _parameters, mask_secrets,
                       MASKED_ATTACHED)  # fmt: skip
            self._core = compiled(helpers, max_line_bytes)

    def _lines(self, text: str, start: int, out: list[Event]) -> None:
        if self._core is None:
            super()._lines(text, start, out)
        else:
            self._core.lines(text, start, out, self._block_ascii)

    def _finish(self, out: list[Event]) -> None:
        if self._core is None:
            self._close(out)
        else:
            self._core.finish(out)

    def _line(self, line: str, start: int, end: int, truncated: bool, out: list[Event]) -> None:
        if self._core is not None:
            self._core.line(line, start, end, truncated, out, self._block_ascii)
            return
        m = _PREFIX.match(line) if line[:1].isdigit() else None
        if m is None:
            if self._event is not None:
                self._append(line, end, truncated)
            elif not line.strip():
                self._skip_blank(start, end)
            else:
                self._raw_event(out, line, start, end, truncated, "line outside any entry")
            return
        ts, zone, client, port, user, db, pid_text, severity, sqlstate = m.groups()
        text = line[m.end() :]
        pid = int(pid_text)
        key = _ATTACHED.get(severity)
        if key is not None and self._event is not None and pid == self._pid:
            self._switch(key, text)
            self._append_meta(end, truncated, line)
            return
        self._close(out)
        fields: dict[str, Any] = {
            "severity": severity,
            "client": (client[: client.rfind("(")] if port is not None else client) or None,
            "client_port": None if port is None else int(port),
            "user": user or None,
            "db": db or None,
            "pid": pid,
            "sqlstate": sqlstate,
        }
        if zone is None or zone in UTC_NAMES:
            when = self._utc_time(ts)
        else:
            when, flag = self._zoned_time(ts, zone)
            if zone[0] not in "+-" or flag is not None:
                fields["time_zone"] = zone
            if flag is not None:
                fields[flag] = True
        self._event = Event(start, end, fields, when)
        self._pid = pid
        self._ascii = self._block_ascii or line.isascii()
        self._truncated = truncated
        self._size = len(text)
        target = "message"
        if key is None and text.startswith("duration: "):
            d = _DURATION.match(text)
            if d is not None:
                fields["duration_ms"] = float(d.group(1))
                if d.group(2) is not None:
                    fields["statement_kind"] = d.group(2)
                    fields["prepared_name"] = d.group(3)
                    fields["message"] = text[: d.end()].rstrip()
                    text = text[d.end() :]
                    target = "statement"
        elif key is None and text[:1] in "sebp":
            s = _STATEMENT.match(text)
            if s is not None:
                fields["statement_kind"] = s.group(1)
                fields["prepared_name"] = s.group(2)
                fields["message"] = text[: s.end()].rstrip()
                text = text[s.end() :]
                target = "statement"
        self._target = target
        self._parts = [text]

    def _utc_time(self, ts: str) -> datetime | None:
        # `%t` has whole seconds: consecutive lines mostly share their time, parsed once.
        times = self._times
        if ts in times:
            return times[ts]
        if len(times) >= _TIME_CACHE:
            times.clear()
        when = times[ts] = parse_iso_utc(ts.replace(" ", "T", 1))
        return when

    def _zoned_time(self, ts: str, zone: str) -> tuple[datetime | None, ZoneFlag | None]:
        key = (ts, zone)
        zoned = self._zoned
        if key in zoned:
            return zoned[key]
        if len(zoned) >= _TIME_CACHE:
            zoned.clear()
        iso = ts.replace(" ", "T", 1)
        wall = parse_iso_utc(iso)
        if wall is None:
            found: tuple[datetime | None, ZoneFlag | None] = (None, None)
        elif zone[0] in "+-":
            when = parse_iso_utc(iso + zone)
            found = (wall, ZoneFlag.UNKNOWN) if when is None else (when, None)
        else:
            found = local_to_utc(wall.replace(tzinfo=None), zone)
        zoned[key] = found
        return found

    def _switch(self, key: str, text: str) -> None:
        event = self._event
        assert event is not None
        self._store()
        self._target = key
        self._parts = [text]
        self._size += len(text)

    def _store(self) -> None:
        event = self._event
        assert event is not None
        text = "\n".join(self._parts).rstrip()
        previous = event.fields.get(self._target)
        event.fields[self._target] = text if previous is None else previous + "\n" + text

    def _append_meta(self, end: int, truncated: bool, line: str) -> None:
        event = self._event
        assert event is not None
        event.end = end
        if not (self._block_ascii or line.isascii()):
            self._ascii = False
        if truncated:
            self._truncated = True

    def _append(self, line: str, end: int, truncated: bool) -> None:
        self._append_meta(end, truncated, line)
        size = self._size + len(line) + 1
        if size > self.max_line_bytes:
            self._truncated = True
            room = self.max_line_bytes - self._size
            if room <= 0:
                return
            line = line[:room]
            size = self.max_line_bytes
        self._size = size
        self._parts.append(line)

    def _close(self, out: list[Event]) -> None:
        event = self._event
        if event is None:
            return
        self._store()
        self._event = None
        fields = event.fields
        try:
            statement = fields.get("statement")
            if statement:
                found = fingerprint_pg_latin1(statement, _parameters(fields.get("detail")))
                if found is not None:
                    fields["fingerprint"] = mask_secrets(found[0])
                    fields["query_id"] = found[1]
                fields["statement"] = mask_secrets(statement)
            message = fields.get("message")
            if message:
                fields["message"] = mask_secrets(message)
            for name in MASKED_ATTACHED:  # after the class: DETAIL's parameters feed it
                text = fields.get(name)
                if text:
                    fields[name] = mask_secrets(text)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the entry
            event.parse_error = self._close_failed(fields, event.start, exc)
        if self._truncated:
            fields["truncated"] = True
        self._push(out, event, self._ascii)

    def _close_failed(self, fields: dict[str, Any], start: int, exc: Exception) -> bool:
        """An entry whose class or masking raised: kept (range, prefix fields, the error) without
        the texts that may hold an unmasked secret, logged and counted. True (a parse error)."""
        self.stats.internal_errors += 1
        LOG.error(
            "parser_internal_error", log_type=self.log_type, offset=start, error=repr(exc),
            exc_info=exc,
        )  # fmt: skip
        for key in ("statement", "message", "fingerprint", "query_id"):
            fields.pop(key, None)
        fields["error_reason"] = f"internal error: {exc!r}"
        return True


def _parameters(detail: str | None) -> str | None:
    """The values pgbadger binds into the statement: its `parameters: (.*)` of the DETAIL
    line, continued by the following lines (a space between where one ends with `=`)."""
    if detail is None:
        return None
    at = detail.find("parameters: ")
    if at < 0:
        return None
    first, *more = detail[at + 12 :].split("\n")
    for line in more:
        first += (" " if first.endswith("=") else "") + line
    return first
