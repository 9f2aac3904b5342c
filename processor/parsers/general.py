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
from typing import Any, ClassVar

from processor.parsers import scanning
from processor.parsers.base import LogParser
from processor.parsers.event import Event
from processor.parsers.masking import mask_secrets, secret_trigger_starts
from processor.parsers.pending import PendingEntry
from processor.parsers.slowquery import is_server_header
from processor.parsers.values import fix_fields, parse_iso_utc, parse_mysql56_time

_ENTRY = re.compile(
    r"(?:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?)"
    r"|(\d{6}[ \t]+\d{1,2}:\d\d:\d\d)|)"
    r"[ \t]+(\d+)[ \t]([A-Z][A-Za-z]*(?: [A-Za-z]+)*)(?:\t|\Z)",
    re.ASCII,
)
fromisoformat = datetime.fromisoformat
# The whole-text pass (`_lines`): a MySQL 5.7/8 line exactly as the fast path of `_line` accepts
# it (a bounded thread id, so int() cannot fail); then a line that `_line` joins to the pending
# entry (group 5): starting with a space or a lower-case letter, or with a capital but unable to
# be a server header line (`is_server_header`); then any other line. The quantifiers outside the
# lookahead are possessive (a tenth faster to match): giving characters back could never let the
# rest match, as what follows each one cannot start with what it repeats.
_FAST = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)\t *+(\d{1,18}+) ([A-Z][A-Za-z]*+(?: [A-Za-z]++)*+)"
    r"(?:\t([^\n]*+))?\n"
    r"|([ a-z][^\n]*+|(?!T(?:cp|CP|ime))(?![^\n]*mysqld,)[A-Z][^\n]*+)\n"
    r"|[^\n]*+\n",
    re.ASCII,
)
_NO_TRIGGER = 1 << 62
_CONNECT = re.compile(r"(\S*?)@(\S*) on (\S*)", re.ASCII)


class GeneralLogParser(LogParser):
    log_type: ClassVar[str] = "general"

    def __init__(self, base_offset: int = 0, max_line_bytes: int = 1 << 20) -> None:
        super().__init__(base_offset, max_line_bytes)
        self._pending = PendingEntry(max_line_bytes, "argument")
        self._last_time: datetime | None = None
        self._scanner = scanning.compiled(
            "general", connect=self._connect, max_bytes=max_line_bytes
        )

    def _lines(self, text: str, start: int, out: list[Event]) -> None:
        if self._scanner is not None:
            self._scanner.lines(self, text, start, out, self._pending)
        else:
            self._lines_python(text, start, out)

    def _lines_python(self, text: str, start: int, out: list[Event]) -> None:
        # As in the error log: a fast line is held until the next line shows whether the
        # statement continues; complete, it is emitted here as `_push` would, otherwise it
        # becomes the pending entry of `_line`. Only entries holding a trigger word are masked.
        pending = self._pending
        fast = pending.event is None
        triggers = iter(secret_trigger_starts(text))
        trigger = next(triggers, _NO_TRIGGER)
        block_ascii = self._block_ascii
        append = out.append
        stats = self.stats
        line_fn = self._safe_line
        connect = self._connect
        held: Event | None = None
        held_fields: dict[str, Any] = {}
        held_mask = False
        when = None
        emitted = 0
        pos = 0
        for m in _FAST.finditer(text):
            ts, thread, command, argument, cont = m.groups()
            end = m.end()
            if ts is not None:
                try:
                    when = fromisoformat(ts)
                except ValueError:
                    pass
                else:
                    if held is not None:
                        if held_mask:
                            held_fields["argument"] = mask_secrets(held_fields["argument"])
                        if (
                            not block_ascii
                            and not held_fields["argument"].isascii()
                            and fix_fields(held_fields)
                        ):
                            held_fields["invalid_utf8"] = True
                            stats.invalid_utf8 += 1
                        append(held)
                        emitted = pos
                    elif not fast:
                        if pending.event is not None:
                            self._push(out, pending.take(), pending.ascii_only)
                        fast = True
                    if argument is None:
                        argument = ""
                    held_fields = {
                        "thread_id": int(thread),
                        "command": command,
                        "argument": argument,
                    }
                    if command == "Connect":
                        connect(held_fields, argument)
                    held = Event(start + pos, start + end, held_fields, when)
                    held_mask = False
                    if trigger < end:
                        while trigger < pos:
                            trigger = next(triggers, _NO_TRIGGER)
                        while trigger < end:
                            held_mask = True
                            trigger = next(triggers, _NO_TRIGGER)
                    pos = end
                    continue
            if held is not None:
                argument = held_fields["argument"]
                pending.begin(held, block_ascii or argument.isascii(), False, len(argument))
                self._last_time = held.event_time
                held = None
            if emitted:
                self._committed = start + emitted
                emitted = 0
            fast = False
            if cont is not None and pending.event is not None:
                pending.append(cont, start + end, block_ascii or cont.isascii(), False)
            else:
                line_fn(text[pos : end - 1], start + pos, start + end, out)
            pos = end
        if held is not None:
            argument = held_fields["argument"]
            pending.begin(held, block_ascii or argument.isascii(), False, len(argument))
            self._last_time = held.event_time
        if emitted:
            self._committed = start + emitted

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
