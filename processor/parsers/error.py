"""MySQL / Aurora MySQL error log.

Formats recognised, per line:
* MySQL 8 / Aurora 3: `2023-11-28T09:13:22.104678Z 0 [System] [MY-010116] [Server] text`
* MySQL 5.7 / Aurora 2: `2023-11-28T09:13:22.104678Z 0 [Note] text`
* MySQL 5.6 / Aurora 1: `2023-11-28 09:13:22 47512412345 [Note] text`, `231128  9:13:22 [Note] text`
  and plugin lines such as `231128  9:13:22 server_audit: Audit STARTED.` (no level).
* MySQL 5.0/5.1: `091121 13:17:58InnoDB: Warning: a long semaphore wait:` (InnoDB wrote no
  space after the time; the lines of the semaphore-wait dump that follow are its message).
* Lines of other writers with a time and a thread id but no level, such as RDS's
  `2023-11-28T09:13:22.104678Z 4768472 rdsdbdata/log: flush of error log requested`: an entry
  of their own with their time (level None). Read as a continuation, such a line was glued to
  the entry before it, or at the start of a file became an event with no time at all.

A line that does not start an entry continues the previous one (InnoDB deadlock and monitor
dumps, stack traces): it is joined to its `message`. Such a line with no entry before it (the
start of the input) becomes its own event with `parse_error=true`; nothing is dropped.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import ClassVar

from processor.parsers.event import Event
from processor.parsers.masking import mask_secrets
from processor.parsers.pending import PendingEntry
from processor.parsers.scanning import ScannedParser
from processor.parsers.values import parse_iso_utc, parse_mysql56_time

_ISO_TIME = r"(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)[ \t]+"
_ISO = re.compile(
    _ISO_TIME + r"(?:(?P<thread>\d+)[ \t]+)?\[(?P<level>[A-Za-z]+)\][ \t]?"
    r"(?:\[(?P<code>MY-\d+)\][ \t]?\[(?P<subsystem>[^\]]*)\][ \t]?)?",
    re.ASCII,
)
# Time, thread id, then no `[Level]`: the thread id must be digits only, so InnoDB monitor
# lines inside a dump (`2015-05-12 10:01:02 7f2c5a7fe700 INNODB MONITOR OUTPUT`) stay in it.
_ISO_BARE = re.compile(_ISO_TIME + r"(?P<thread>\d+)[ \t]+(?!\[)", re.ASCII)
fromisoformat = datetime.fromisoformat
# docs/design.md §6 names the levels System|Error|Warning|Note; MySQL 8 prints `[ERROR]`, 5.7
# `[ERROR]` too.
_LEVELS = {
    "System": "System",
    "Error": "Error",
    "ERROR": "Error",
    "Warning": "Warning",
    "Note": "Note",
}
# MySQL 5.0/5.1 InnoDB wrote its messages right after the time, with no space between:
# `091121 13:17:58InnoDB: Warning: a long semaphore wait:` starts an entry (and its dump).
_SHORT = re.compile(
    r"(\d{6}[ \t]+\d{1,2}:\d\d:\d\d)(?![0-9])[ \t]*(?:\[([A-Za-z]+)\][ \t]?)?", re.ASCII
)


def is_entry_start(line: str) -> bool:
    """True when the line begins a new error-log entry."""
    return line[:1].isdigit() and (
        _ISO.match(line) is not None
        or _ISO_BARE.match(line) is not None
        or _SHORT.match(line) is not None
    )


class ErrorLogParser(ScannedParser):
    log_type: ClassVar[str] = "error"

    def __init__(self, base_offset: int = 0, max_line_bytes: int = 1 << 20) -> None:
        pending = PendingEntry(max_line_bytes)
        super().__init__(
            base_offset, max_line_bytes, pending, levels=_LEVELS, max_bytes=max_line_bytes
        )
        self._pending = pending

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
        m = (_ISO.match(line) or _ISO_BARE.match(line)) if line[:1].isdigit() else None
        if m is not None:
            g = m.groupdict()  # _ISO_BARE has no level, code nor subsystem
            ts, thread_id, name = g["ts"], g["thread"], g.get("level")
            if pending.event is not None:
                self._push(out, pending.take(), pending.ascii_only)
            pending.begin(
                Event(
                    start,
                    end,
                    {
                        "level": None if name is None else _LEVELS.get(name, name.capitalize()),
                        "thread_id": None if thread_id is None else int(thread_id),
                        "error_code": g.get("code"),
                        "subsystem": g.get("subsystem"),
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
