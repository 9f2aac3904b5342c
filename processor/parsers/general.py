"""MySQL / Aurora MySQL general query log.

Lines: `2024-01-03T07:15:38.660108Z\t   12 Query\tSELECT 1` (MySQL 5.7/8), and in the 5.6 format
`240103  7:15:38\t   12 Query\tSELECT 1` or, within the same second, `\t\t   12 Query\t…` (the time
is then the last one seen). A statement spanning lines continues until the next entry line. The
server header block is skipped and counted, as in the slow log.

Fields: `thread_id`, `command` (`Connect`, `Query`, `Init DB`, `Quit`, …), `argument` (password
literals masked), and for `Connect`: `user`, `host`, `db`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import ClassVar

from processor.parsers.base import Event, LogParser, parse_iso_utc, parse_mysql56_time
from processor.parsers.masking import mask_secrets
from processor.parsers.pending import PendingEntry
from processor.parsers.slowquery import is_server_header

_ENTRY = re.compile(
    r"(?:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?)"
    r"|(\d{6}[ \t]+\d{1,2}:\d\d:\d\d)|)"
    r"[ \t]+(\d+)[ \t]([A-Z][A-Za-z]*(?: [A-Za-z]+)*)(?:\t|\Z)",
    re.ASCII,
)
fromisoformat = datetime.fromisoformat
_CONNECT = re.compile(r"(\S*?)@(\S*) on (\S*)", re.ASCII)


class GeneralLogParser(LogParser):
    log_type: ClassVar[str] = "general"

    def __init__(self, base_offset: int = 0, max_line_bytes: int = 1 << 20) -> None:
        super().__init__(base_offset, max_line_bytes)
        self._pending = PendingEntry(max_line_bytes, "argument")
        self._last_time: datetime | None = None

    def _line(self, line: str, start: int, end: int, truncated: bool, out: list[Event]) -> None:
        pending = self._pending
        # Fast path for the MySQL 5.7/8 line `<ISO time>\t<spaces><id> <Command>\t<argument>`,
        # with string operations; anything else goes through the regex below.
        parts = line.split("\t", 2)
        if len(parts) > 1:
            ts = parts[0]
            thread, _sp, command = parts[1].lstrip(" ").partition(" ")
            if (
                len(ts) == 27
                and ts[26] == "Z"
                and ts[10] == "T"
                and thread.isdigit()
                and thread.isascii()
                and command[:1].isupper()
                and command.isascii()
                and command.replace(" ", "").isalpha()
                and "  " not in command
                and command[-1:] != " "
            ):
                try:
                    when = self._last_time = fromisoformat(ts)
                except ValueError:
                    when = None
                if when is not None:
                    if pending.event is not None:
                        self._push(out, pending.take(), pending.ascii_only)
                    argument = parts[2] if len(parts) == 3 else ""
                    fields = {"thread_id": int(thread), "command": command, "argument": argument}
                    if command == "Connect":
                        self._connect(fields, argument)
                    pending.begin(
                        Event(start, end, fields, when),
                        self._block_ascii or line.isascii(),
                        truncated,
                        len(argument),
                    )
                    return
        first = line[:1]
        m = _ENTRY.match(line) if (first.isdigit() or first == "\t") else None
        if m is None:
            if (first == "/" or first.isupper()) and is_server_header(line):
                if pending.event is not None:
                    self._push(out, pending.take(), pending.ascii_only)
                self._skip(end, 1, end - start)
            elif pending.event is not None:
                pending.append(line, end, self._block_ascii or line.isascii(), truncated)
            elif not line.strip():
                self._skip_blank(start, end)
            else:
                self._raw_event(out, line, start, end, truncated, "line outside any entry")
            return
        iso, short, thread, command = m.groups()
        if iso is not None:
            when = self._last_time = parse_iso_utc(iso)
        elif short is not None:
            when = self._last_time = parse_mysql56_time(short)
        else:
            when = self._last_time
        if pending.event is not None:
            self._push(out, pending.take(), pending.ascii_only)
        argument = line[m.end() :]
        fields = {"thread_id": int(thread), "command": command, "argument": argument}
        if command == "Connect":
            self._connect(fields, argument)
        pending.begin(
            Event(start, end, fields, when),
            self._block_ascii or line.isascii(),
            truncated,
            len(argument),
        )

    @staticmethod
    def _connect(fields: dict[str, object], argument: str) -> None:
        c = _CONNECT.match(argument)
        if c is not None:
            user, host, db = c.groups()
            fields["user"], fields["host"], fields["db"] = user, host, db or None

    def _finish(self, out: list[Event]) -> None:
        if self._pending.event is not None:
            self._push(out, self._pending.take(), self._pending.ascii_only)

    def _push(self, out: list[Event], event: Event, ascii_only: bool) -> None:
        argument = event.fields["argument"]
        if argument:
            event.fields["argument"] = mask_secrets(argument)
        super()._push(out, event, ascii_only)
