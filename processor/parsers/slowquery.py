"""MySQL / Aurora MySQL slow query log.

An entry is a header block of `#` lines (`# Time:`, `# User@Host:`, `# Query_time: …` and every
other `# Key: value` line of MySQL 8 `log_slow_extra`, Percona and MariaDB), optional `use db;` and
`SET timestamp=…;` lines, then the statement (possibly many lines) or `# administrator command:`.
As honeytail learnt (its PR #15), `# Time:` is written at most once per second by older servers,
so an entry also starts at any `#` line that follows a statement ending with `;`.

The server header block (`…mysqld, Version: … started with:`, `Tcp port: …`, `Time Id Command
Argument`) that RDS re-inserts at every flush ends the pending entry and is skipped, counted in
`stats.skipped_header_lines`.

Fields: `user`, `host`, `ip`, `thread_id`, every `Key: value` lower-cased (`query_time`,
`lock_time`, `rows_sent`, `rows_examined`, …), `db`, `timestamp`, `statement` (password literals
masked), `fingerprint` and `query_id` (pt-query-digest's), `cmd` (`Query` or `Admin`).

`db` is carried forward (MySQL writes `use db;` only when the database changes), as
pt-query-digest does; the last one seen is the parser's resumable state (`resume_state()`). A
known attribute whose value is not of its type is left out, its text kept in `<name>_raw`
(`time_raw` for an unreadable `# Time:`), and the event flagged `parse_error`.

The plainest entries are parsed by compiled code (`_slowlog.pyx`, run by `ScannedParser`'s loop);
`_line` is the specification, and takes every other line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import ClassVar

from processor.parsers import slow_compiled
from processor.parsers.base import InvalidResumeState, ResumeState
from processor.parsers.event import Event, Fields
from processor.parsers.fingerprint_mysql import fingerprint_latin1_pair
from processor.parsers.masking import mask_secrets
from processor.parsers.scanning import Scan, ScannedParser
from processor.parsers.slow_attrs import AttributeNames
from processor.parsers.slow_lines import event_time, is_server_header, user_host

_EMPTY_SCHEMA = re.compile(r"Schema:\s+(?=\w+: )", re.ASCII)
# pt-query-digest requires `# +[A-Z][A-Za-z_]+: \S+`, which skips `# Schema:  Last_errno: 0`
# (empty schema); we parse that line too.
_ATTR_LINE = re.compile(r"#\s+[A-Za-z][A-Za-z_]*:\s", re.ASCII)
_SET = re.compile(r"SET\s+([^;]*)", re.ASCII)
_SET_SPLIT = re.compile(r",|\s*=\s*", re.ASCII)
# _slowlog_entries.pxi reads `_phase` (STATEMENT_PHASE = 1): keep the two in step.
_HEADER, _STATEMENT = 0, 1


class SlowQueryLogParser(ScannedParser):
    log_type: ClassVar[str] = "slowquery"

    def __init__(self, base_offset: int = 0, max_line_bytes: int = 1 << 20) -> None:
        self._names = AttributeNames()  # bound into the compiled scanner by ScannedParser
        self._max_statement = max_line_bytes
        super().__init__(base_offset, max_line_bytes)
        self._event: Event | None = None
        self._end = 0
        self._phase = _HEADER
        self._ascii = True
        self._truncated = False
        self._stmt: list[str] = []
        self._stmt_size = 0
        self._last_semicolon = False
        self._got_user = False
        self._got_time = False
        self._comments: list[str] = []
        self._flagging = False
        # The database of the last complete entry: MySQL writes `use db;` only when it changes.
        self._db: str | None = None
        self._invalid: list[str] = []
        self._time_line = ""

    def _compiled_scan(self, **bound: object) -> Scan | None:
        compiled = slow_compiled.SLOWLOG
        if compiled is None:
            return None
        scan: Scan = partial(
            compiled.scan_slow,
            parser=self,
            table=self._names.table,
            max_statement=self._max_statement,
            event=Event,
            mask=mask_secrets,
        )
        return scan

    # ------------------------------------------------------------------ resumable state

    def resume_state(self) -> ResumeState:
        return {"db": self._db}

    def _restore(self, state: Mapping[str, str | int | None]) -> set[str]:
        if "db" not in state:
            return set()
        db = state["db"]
        if db is not None and not isinstance(db, str):
            raise InvalidResumeState(f"slowquery: resume state db must be a string, not {db!r}")
        self._db = db
        return {"db"}

    # ------------------------------------------------------------------ line dispatch

    def _line(self, line: str, start: int, end: int, truncated: bool, out: list[Event]) -> None:
        if (truncated or not (self._block_ascii or line.isascii())) and not self._flagging:
            # The flags belong to the entry the line ends up in, known only after dispatch.
            self._flagging = True
            try:
                self._line(line, start, end, False, out)
            finally:
                self._flagging = False
            if self._event is not None:
                self._truncated = self._truncated or truncated
                self._ascii = self._ascii and line.isascii()
            return
        first = line[:1]
        if first == "#":
            if self._phase == _STATEMENT:
                if not (
                    line.startswith(("# Time:", "# User@Host:"))
                    or (self._last_semicolon and line.startswith("# "))
                ):
                    self._statement_line(line, end)
                    return
                self._close(out)
            if self._event is None:
                self._begin(start)
            self._header_line(line, start, end, out)
            return
        if self._phase == _HEADER:
            event = self._event
            if event is not None:
                if first == "S" and line.startswith("SET timestamp="):
                    self._end = end
                    value = line[14:].rstrip().rstrip(";")
                    if value.isdigit():
                        event.fields["timestamp"] = int(value)
                    else:
                        self._set_line(line)
                    return
                if first == "u" and line.startswith("use "):
                    self._end = end
                    db = line[4:].rstrip().rstrip(";").strip("`")
                    event.fields.setdefault("db", db)
                    return
                if first == "S" and line.startswith(("SET insert_id", "SET last_insert_id")):
                    self._end = end
                    self._set_line(line)
                    return
                if not line.strip():
                    self._end = end
                    return
            if (first == "/" or first.isupper()) and is_server_header(line):
                self._close(out)
                self._skip(end, 1, end - start)
                return
            if event is None and not line.strip():
                self._skip_blank(start, end)
                return
            if self._event is None:
                orphan = self._begin(start)
                orphan.fields["error_reason"] = "statement without a header"
                orphan.parse_error = True
            self._phase = _STATEMENT
        elif (first == "/" or first.isupper()) and is_server_header(line):
            self._close(out)
            self._skip(end, 1, end - start)
            return
        self._statement_line(line, end)

    # ------------------------------------------------------------------ entry state

    def _begin(self, start: int) -> Event:
        event = self._event = Event(start, start, {}, None)
        self._phase = _HEADER
        self._ascii = True
        self._truncated = False
        self._stmt = []
        self._stmt_size = 0
        self._last_semicolon = False
        self._got_user = False
        self._got_time = False
        self._comments = []
        self._invalid = []
        self._time_line = ""
        return event

    def _statement_line(self, line: str, end: int) -> None:
        self._end = end
        size = self._stmt_size + len(line) + 1
        if size > self.max_line_bytes:
            self._truncated = True
            room = self.max_line_bytes - self._stmt_size
            if room > 0:
                self._stmt.append(line[:room])
                self._stmt_size = self.max_line_bytes
        else:
            self._stmt_size = size
            self._stmt.append(line)
        self._last_semicolon = line.endswith(";") or line.rstrip().endswith(";")

    def _header_line(self, line: str, start: int, end: int, out: list[Event]) -> None:
        event = self._event
        assert event is not None
        fields = event.fields
        second = line[2:3]
        if second == "Q" and line.startswith("# Query_time: "):
            # The one attribute line every entry has.
            self._end = end
            invalid = self._names.update(fields, line)
            if invalid:
                self._invalid += invalid
            return
        if second == " " or not line.startswith(("# Time:", "# User@Host:")):
            self._end = end
            if line.startswith("# administrator command:"):
                arg = line[2:].rstrip()
                if arg.endswith(";"):
                    arg = arg[:-1]
                fields["cmd"] = "Admin"
                self._stmt = [arg]
                self._stmt_size = len(arg)
                self._phase = _STATEMENT
                self._last_semicolon = True
                return
            if _ATTR_LINE.match(line) is None:
                self._comments.append(line)
                return
            if "Schema:" in line:
                line = _EMPTY_SCHEMA.sub("", line)
            invalid = self._names.update(fields, line)
            if invalid:
                self._invalid += invalid
            return
        if second == "T":
            if self._got_time or self._got_user or fields:
                self._close(out)
                event = self._begin(start)
                fields = event.fields
            self._got_time = True
            self._end = end
            self._time_line = line
            # Old servers may write `# Time: … # User@Host: …` on one line.
            at = line.find("# User@Host:", 7)
            raw = (line[7:at] if at >= 0 else line[7:]).strip()
            event.event_time = event_time(raw)
            if event.event_time is None:
                fields["time_raw"] = raw
                self._invalid.append("time")
            if at >= 0:
                self._got_user = True
                self._user_host(line[at:], fields)
            return
        if self._got_user:
            self._close(out)
            event = self._begin(start)
            fields = event.fields
        self._got_user = True
        self._end = end
        self._user_host(line, fields)

    def _user_host(self, line: str, fields: Fields) -> None:
        if not user_host(line, fields):
            self._comments.append(line)

    def _set_line(self, line: str) -> None:
        event = self._event
        assert event is not None
        m = _SET.match(line)
        if m is None:
            return
        parts = _SET_SPLIT.split(m.group(1))
        for i in range(0, len(parts) - 1, 2):
            key = parts[i].strip().lower()
            value = parts[i + 1].strip()
            if key in ("timestamp", "insert_id", "last_insert_id") and value.isdigit():
                event.fields[key] = int(value)

    def _close(self, out: list[Event]) -> None:
        event = self._event
        if event is None:
            return
        self._event = None
        event.end = self._end
        fields = event.fields
        if self._stmt:
            statement = "\n".join(self._stmt).rstrip()
            if statement.endswith(";"):
                statement = statement[:-1]
            # The id is pt-query-digest's only if computed on the original text; the
            # fingerprint rarely holds a literal, but when it does (an unterminated quote) it is
            # masked like the statement.
            fp, qid = fingerprint_latin1_pair(statement)
            fields["statement"] = mask_secrets(statement)
            if "cmd" not in fields:
                fields["cmd"] = "Query"
            fields["fingerprint"] = mask_secrets(fp) if "'" in fp or '"' in fp else fp
            fields["query_id"] = qid
        elif self._lone_time(fields):
            self._push_lone_time(out, event)
            return
        else:
            fields["statement"] = None
        if "db" not in fields and "schema" in fields:
            fields["db"] = fields["schema"]
        db = fields.get("db")
        if db is not None:
            self._db = db
        elif self._db is not None:
            # pt-query-digest's --inherit-attributes db: the last database seen.
            fields["db"] = self._db
        if self._invalid:
            # A value not of its attribute's type: the field is left out, its text kept in
            # `<name>_raw`, so the column keeps one type and the entry is still counted.
            reason = "invalid " + ", ".join(self._invalid)
            previous = fields.get("error_reason")
            fields["error_reason"] = f"{previous}; {reason}" if previous else reason
            event.parse_error = True
        if event.event_time is None and "timestamp" in fields:
            try:
                event.event_time = datetime.fromtimestamp(fields["timestamp"], UTC)
            except (OverflowError, OSError, ValueError):
                event.event_time = None
        if self._comments:
            fields["comment"] = "\n".join(self._comments)
        if self._truncated:
            fields["truncated"] = True
        self._phase = _HEADER
        self._stmt = []
        self._push(out, event, self._ascii)

    def _lone_time(self, fields: Fields) -> bool:
        """An entry of nothing but a `# Time:` line (a file may end with one)."""
        return (
            self._got_time
            and not self._got_user
            and not self._comments
            and (not fields or fields.keys() == {"time_raw"})
        )

    def _push_lone_time(self, out: list[Event], event: Event) -> None:
        # Not a query (no fake event with a null statement): the line is kept, flagged.
        event.fields = {"message": self._time_line, "error_reason": "a # Time: line alone"}
        event.parse_error = True
        if self._truncated:
            event.fields["truncated"] = True
        self._phase = _HEADER
        self._stmt = []
        self._push(out, event, self._ascii)

    def _finish(self, out: list[Event]) -> None:
        self._close(out)


__all__ = ["SlowQueryLogParser", "is_server_header"]
