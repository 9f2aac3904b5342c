"""MySQL / Aurora MySQL general query log.

Lines: `2024-01-03T07:15:38.660108Z\t   12 Query\tSELECT 1` (MySQL 5.7/8), and in the 5.6 format
`240103  7:15:38\t   12 Query\tSELECT 1` or, within the same second, `\t\t   12 Query\t…` (the time
is then the last one seen). MySQL 5.0 padded the command with spaces instead of ending it with a
tab: `061226 15:42:36\t     11 Connect     root@localhost on db`. A statement (`Query`, `Prepare`,
`Execute`) spanning lines continues until the next entry line; after any other command such a
line is kept as its own event with `parse_error=true`, never joined to an entry it cannot be
part of. The server header block is skipped and counted, as in the slow log.

Fields: `thread_id`, `command` (`Connect`, `Query`, `Init DB`, `Quit`, …), `argument` (secrets
masked), and for `Connect`: `user`, `host`, `db` (and `priv_user` for `user@host as priv on db`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from processor.parsers.base import InvalidResumeState, ResumeState
from processor.parsers.event import Event
from processor.parsers.masking import mask_secrets
from processor.parsers.pending import PendingEntry
from processor.parsers.scanning import ScannedParser
from processor.parsers.slowquery import is_server_header
from processor.parsers.values import parse_iso_utc, parse_mysql56_time

# MySQL 5.1+ ends the command with a tab; any capitalised words are a command then. MySQL 5.0
# padded it with spaces (`%-11.11s`), so there only the server's command names are one (as
# pt-query-digest reads it, the command is a word, the argument what follows the spaces):
# `061226 15:42:36\t     11 Connect     root@localhost on db`, `\t\t     11 Quit       `.
_OLD_COMMANDS = sorted(
    [
        "Sleep",
        "Quit",
        "Init DB",
        "Query",
        "Field List",
        "Create DB",
        "Drop DB",
        "Refresh",
        "Shutdown",
        "Statistics",
        "Processlist",
        "Connect",
        "Kill",
        "Debug",
        "Ping",
        "Time",
        "Delayed insert",
        "Change user",
        "Binlog Dump",
        "Table Dump",
        "Connect Out",
        "Register Slave",
        "Prepare",
        "Execute",
        "Long Data",
        "Close stmt",
        "Reset stmt",
        "Set option",
        "Fetch",
        "Daemon",
        "Error",
        "Delayed ins",
        "Register Sl",
    ],
    key=len,
    reverse=True,
)
_ENTRY = re.compile(
    r"(?:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?)"
    r"|(\d{6}[ \t]+\d{1,2}:\d\d:\d\d)|)"
    r"[ \t]+(\d+)[ \t](?:([A-Z][A-Za-z]*(?: [A-Za-z]+)*)(?:\t|\Z)"
    r"|(" + "|".join(_OLD_COMMANDS) + r")(?: +|\Z))",
    re.ASCII,
)
fromisoformat = datetime.fromisoformat
# `user@host on db`, and `user@host as priv_user on db` when the account that authenticated
# the login is another one (`as  on` for the anonymous account).
_CONNECT = re.compile(r"(\S*?)@(\S*)(?: as (\S*))? on (\S*)", re.ASCII)
# The commands whose argument is SQL text, which may span lines. A line that does not start an
# entry after any other command cannot be part of it: it is kept as a line outside any entry.
MULTILINE_COMMANDS = frozenset({"Query", "Prepare", "Execute"})


class GeneralLogParser(ScannedParser):
    log_type: ClassVar[str] = "general"

    def __init__(self, base_offset: int = 0, max_line_bytes: int = 1 << 20) -> None:
        pending = PendingEntry(max_line_bytes, "argument")
        super().__init__(
            base_offset, max_line_bytes, pending, connect=self._connect, max_bytes=max_line_bytes
        )
        self._pending = pending
        # The time of lines written without one (`\t\t   13 Query …`, within the same second):
        # the last time seen, carried across entries and so part of the resumable state.
        self._last_time: datetime | None = None

    def resume_state(self) -> ResumeState:
        # Lines after the committed offset belong to the pending entry, whose own time (if it
        # has one) a resumed parser reads again: the carried time is right for that offset.
        last = self._last_time
        return {"time": None if last is None else last.isoformat()}

    def _restore(self, state: Mapping[str, str | int | None]) -> set[str]:
        if "time" not in state:
            return set()
        value = state["time"]
        if value is not None and not isinstance(value, str):
            raise InvalidResumeState(f"general: resume state time must be a string, not {value!r}")
        try:
            self._last_time = None if value is None else fromisoformat(value)
        except ValueError as exc:
            raise InvalidResumeState(f"general: resume state time {value!r}: {exc}") from exc
        return {"time"}

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
            elif (
                pending.event is not None and pending.event.fields["command"] in MULTILINE_COMMANDS
            ):
                pending.append(line, end, self._block_ascii or line.isascii(), truncated)
            else:
                if pending.event is not None:
                    self._push(out, pending.take(), pending.ascii_only)
                if not line.strip():
                    self._skip_blank(start, end)
                else:
                    self._raw_event(out, line, start, end, truncated, "line outside any entry")
            return
        iso, short, thread, command, old_command = m.groups()
        if command is None:
            command = old_command
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
            user, host, priv_user, db = c.groups()
            fields["user"], fields["host"], fields["db"] = user, host, db or None
            if priv_user is not None:
                fields["priv_user"] = priv_user or None

    def _finish(self, out: list[Event]) -> None:
        if self._pending.event is not None:
            self._push(out, self._pending.take(), self._pending.ascii_only)

    def _push(self, out: list[Event], event: Event, ascii_only: bool) -> None:
        argument = event.fields["argument"]
        if argument:
            event.fields["argument"] = mask_secrets(argument)
        super()._push(out, event, ascii_only)
