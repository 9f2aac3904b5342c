"""MySQL / Aurora MySQL error log.

Formats recognised, per line:
* MySQL 8 / Aurora 3: `2023-11-28T09:13:22.104678Z 0 [System] [MY-010116] [Server] text`
* MySQL 5.7 / Aurora 2: `2023-11-28T09:13:22.104678Z 0 [Note] text`
* MySQL 5.6 / Aurora 1: `2023-11-28 09:13:22 47512412345 [Note] text`, `231128  9:13:22 [Note] text`
  and plugin lines such as `231128  9:13:22 server_audit: Audit STARTED.` (no level).

A line that does not start an entry continues the previous one (InnoDB deadlock and monitor
dumps, stack traces): it is joined to its `message`. Such a line with no entry before it (the
start of the input) becomes its own event with `parse_error=true`; nothing is dropped.
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
from processor.parsers.values import fix_fields, parse_iso_utc, parse_mysql56_time

_ISO = re.compile(
    r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)[ \t]+"
    r"(?:(\d+)[ \t]+)?\[([A-Za-z]+)\][ \t]?"
    r"(?:\[(MY-\d+)\][ \t]?\[([^\]]*)\][ \t]?)?",
    re.ASCII,
)
fromisoformat = datetime.fromisoformat
# DESIGN §6 names the levels System|Error|Warning|Note; MySQL 8 prints `[ERROR]`, 5.7 `[ERROR]` too.
_LEVELS = {
    "System": "System",
    "Error": "Error",
    "ERROR": "Error",
    "Warning": "Warning",
    "Note": "Note",
}
_SHORT = re.compile(r"(\d{6}[ \t]+\d{1,2}:\d\d:\d\d)[ \t]+(?:\[([A-Za-z]+)\][ \t]?)?", re.ASCII)


# The whole-text pass (`_lines`): a MySQL 8 / Aurora 3 line exactly as the fast path of `_line`
# accepts it (bounded digit runs, so int() cannot fail); then a line not starting with a digit,
# which `_line` joins to the pending entry (group 7); then any other line.
_FAST = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\d{1,18}) \[([A-Za-z]+)\] \[(MY-\d{1,18})\]"
    r" \[([^\] \n]*)\](?: ([^\n]*))?\n"
    r"|(?![0-9])([^\n]*)\n"
    r"|[^\n]*\n",
    re.ASCII,
)
_NO_TRIGGER = 1 << 62


def is_entry_start(line: str) -> bool:
    """True when the line begins a new error-log entry."""
    return line[:1].isdigit() and (_ISO.match(line) is not None or _SHORT.match(line) is not None)


class ErrorLogParser(LogParser):
    log_type: ClassVar[str] = "error"

    def __init__(self, base_offset: int = 0, max_line_bytes: int = 1 << 20) -> None:
        super().__init__(base_offset, max_line_bytes)
        self._pending = PendingEntry(max_line_bytes)
        self._scanner = scanning.compiled("error", levels=_LEVELS, max_bytes=max_line_bytes)

    def _lines(self, text: str, start: int, out: list[Event]) -> None:
        if self._scanner is not None:
            self._scanner.lines(self, text, start, out, self._pending)
        else:
            self._lines_python(text, start, out)

    def _lines_python(self, text: str, start: int, out: list[Event]) -> None:
        # A fast line starts an entry; it is held until the next line shows whether continuation
        # lines follow. If the next line is a fast line too, the held entry is complete and is
        # emitted here as `_push` would; otherwise it becomes the pending entry of `_line`,
        # which then gets the line, exactly as if `_line` had seen both.
        pending = self._pending
        # False while `_line` may hold a pending entry that the next fast entry must close.
        fast = pending.event is None
        triggers = iter(secret_trigger_starts(text))
        trigger = next(triggers, _NO_TRIGGER)
        block_ascii = self._block_ascii
        append = out.append
        stats = self.stats
        line_fn = self._safe_line
        held: Event | None = None
        held_fields: dict[str, Any] = {}
        held_subsystem = ""
        held_mask = False
        emitted = 0
        pos = 0
        for m in _FAST.finditer(text):
            ts, thread, level, code, subsystem, message, cont = m.groups()
            end = m.end()
            if ts is not None:
                try:
                    when = fromisoformat(ts)
                except ValueError:
                    pass
                else:
                    if held is not None:
                        if held_mask:
                            held_fields["message"] = mask_secrets(held_fields["message"])
                        if (
                            not block_ascii
                            and not (held_fields["message"].isascii() and held_subsystem.isascii())
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
                    held_fields = {
                        "level": _LEVELS.get(level) or level.capitalize(),
                        "thread_id": int(thread),
                        "error_code": code,
                        "subsystem": subsystem,
                        "message": message or "",
                    }
                    held_subsystem = subsystem
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
                pending.begin(held, block_ascii, False, held.end - held.start - 1)
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
            pending.begin(held, block_ascii, False, held.end - held.start - 1)
        if emitted:
            self._committed = start + emitted

    def _line(self, line: str, start: int, end: int, truncated: bool, out: list[Event]) -> None:
        pending = self._pending
        # Fast path for the MySQL 8 / Aurora 3 line, with string operations (a third of the
        # regex's cost); anything unusual falls through to the regexes below.
        parts = line.split(" ", 5)
        if len(parts) >= 5:
            ts, thread, level, code, subsystem = parts[:5]
            if (
                len(ts) == 27
                and ts[26] == "Z"
                and ts[10] == "T"
                and code[:4] == "[MY-"
                and code[-1:] == "]"
                and level[:1] == "["
                and level[-1:] == "]"
                and subsystem[:1] == "["
                and subsystem[-1:] == "]"
                and "]" not in subsystem[:-1]
                and thread.isdigit()
                and thread.isascii()
                and code[4:-1].isdigit()
                and level[1:-1].isalpha()
                and level.isascii()
            ):
                try:
                    when: datetime | None = fromisoformat(ts)
                except ValueError:
                    when = None
                if when is not None:
                    if pending.event is not None:
                        self._push(out, pending.take(), pending.ascii_only)
                    message = parts[5] if len(parts) == 6 else ""
                    pending.begin(
                        Event(
                            start,
                            end,
                            {
                                "level": _LEVELS.get(level[1:-1]) or level[1:-1].capitalize(),
                                "thread_id": int(thread),
                                "error_code": code[1:-1],
                                "subsystem": subsystem[1:-1],
                                "message": message,
                            },
                            when,
                        ),
                        self._block_ascii or line.isascii(),
                        truncated,
                        len(line),
                    )
                    return
        m = _ISO.match(line) if line[:1].isdigit() else None
        if m is not None:
            ts, thread, level, code, subsystem = m.groups()
            if pending.event is not None:
                self._push(out, pending.take(), pending.ascii_only)
            pending.begin(
                Event(
                    start,
                    end,
                    {
                        "level": _LEVELS.get(level) or level.capitalize(),
                        "thread_id": None if thread is None else int(thread),
                        "error_code": code,
                        "subsystem": subsystem,
                        "message": line[m.end() :],
                    },
                    parse_iso_utc(ts if ts[10] == "T" else ts.replace(" ", "T", 1)),
                ),
                self._block_ascii or line.isascii(),
                truncated,
                len(line),
            )
            return
        s = _SHORT.match(line) if line[:1].isdigit() else None
        if s is None:
            if pending.event is None:
                self._raw_event(out, line, start, end, truncated, "line outside any entry")
            else:
                pending.append(line, end, self._block_ascii or line.isascii(), truncated)
            return
        if pending.event is not None:
            self._push(out, pending.take(), pending.ascii_only)
        pending.begin(
            Event(
                start,
                end,
                {
                    "level": None if s.group(2) is None else s.group(2).capitalize(),
                    "thread_id": None,
                    "error_code": None,
                    "subsystem": None,
                    "message": line[s.end() :],
                },
                parse_mysql56_time(s.group(1)),
            ),
            self._block_ascii or line.isascii(),
            truncated,
            len(line),
        )

    def _finish(self, out: list[Event]) -> None:
        if self._pending.event is not None:
            self._push(out, self._pending.take(), self._pending.ascii_only)

    def _push(self, out: list[Event], event: Event, ascii_only: bool) -> None:
        message = event.fields["message"]
        if message:
            event.fields["message"] = mask_secrets(message)
        super()._push(out, event, ascii_only)
