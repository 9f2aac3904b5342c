"""The incremental interface shared by every log parser.

A parser is fed byte chunks cut anywhere (mid-line, mid-UTF-8 character) and returns the events
whose entries are complete; `flush()` at end of file returns the rest. Each event carries the byte
range `[start, end)` of the file it came from (offsets start at `base_offset`, so a parser can
begin mid-file at a checkpoint), so the events never depend on where the chunks were cut.

Lines are handled as latin-1 text: one character per byte, so string offsets are byte offsets and
decoding a megabyte costs a copy. Fields that are not ASCII are re-decoded as UTF-8 when the event
is built (with replacement characters and `invalid_utf8=true` when the bytes are not UTF-8).

A line longer than `max_line_bytes` is cut to that length and flagged `truncated=true`; its range
still covers all of its bytes, and no more than the limit is ever held in memory for it.

Complete lines reach the subclass as whole texts (`_lines`), never with a line over the limit. The
default hands them one by one to `_line`; the busiest formats (error, general, audit) derive from
`ScannedParser` (scanning.py), which gives them first to a compiled scanner for their common line
shape and any other line to `_line`, so the events are exactly the per-line ones
(tests/parsers/test_fast_paths.py checks this), at a fraction of the cost.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

import structlog

from processor.parsers.event import Event, Fields
from processor.parsers.gc_pause import gc_paused
from processor.parsers.masking import mask_secrets
from processor.parsers.stats import ParserStats, report
from processor.parsers.values import fix_fields

DEFAULT_MAX_LINE_BYTES = 1 << 20

# What a parser carries from one entry to the next (the slow log's database): small, JSON-able,
# stored in the checkpoint beside the offset it belongs to.
ResumeState = dict[str, str | int | None]


class InvalidResumeState(ValueError):
    """A resume state this parser did not produce (unknown key, wrong type, or after feeding)."""


LOG = structlog.get_logger(__name__)


class LogParser(ABC):
    """Buffers bytes into lines and hands each complete line to `_line`.

    Subclasses keep at most one pending (multi-line) entry, emit it when the next entry starts,
    and emit it from `_finish` at end of input. They call `_skip` for bytes dropped by design.
    """

    log_type: ClassVar[str]

    def __init__(self, base_offset: int = 0, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be positive")
        self.base_offset = base_offset
        self.max_line_bytes = max_line_bytes
        self.stats = ParserStats()
        self._rest = b""
        self._pos = base_offset
        self._overlong: str | None = None
        self._overlong_start = 0
        self._committed = base_offset
        self._block_ascii = True

    # ---------------------------------------------------------------- public interface

    def feed(self, chunk: bytes) -> list[Event]:
        """Parse more bytes; returns the events whose entries are now known to be complete."""
        with gc_paused():
            return self._feed(chunk)

    def flush(self) -> list[Event]:
        """End of input: returns the pending entry and a last line without a newline."""
        with gc_paused():
            return self._flush()

    def _feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        self.stats.bytes_seen += len(chunk)
        if self._overlong is not None:
            nl = chunk.find(b"\n")
            if nl < 0:
                self._pos += len(chunk)
                return out
            end = self._pos + nl + 1
            self._one_line(self._overlong, self._overlong_start, end, True, out)
            self._overlong = None
            chunk = chunk[nl + 1 :]
            self._pos = end
        if self._rest:
            # The held partial line is completed by the chunk's first line: that short block
            # goes first, on its own, so the chunk itself is never copied.
            nl = chunk.find(b"\n")
            if nl >= 0:
                head = self._rest + chunk[: nl + 1]
                self._block(head, 0, len(head), self._pos, out)
                self._pos += len(head)
                self._rest = b""
                begin = nl + 1
            else:
                chunk = self._rest + chunk
                begin = 0
        else:
            begin = 0
        nl = chunk.rfind(b"\n", begin)
        if nl >= 0:
            self._block(chunk, begin, nl + 1, self._pos, out)
            self._pos += nl + 1 - begin
            begin = nl + 1
        buf = chunk[begin:] if begin else chunk
        if len(buf) > self.max_line_bytes:
            self._overlong = buf[: self.max_line_bytes].decode("latin-1")
            self._overlong_start = self._pos
            self._pos += len(buf)
            buf = b""
        self._rest = buf
        self.stats.events += len(out)
        self._report()
        return out

    def _flush(self) -> list[Event]:
        out: list[Event] = []
        if self._overlong is not None:
            self._one_line(self._overlong, self._overlong_start, self._pos, True, out)
            self._overlong = None
        elif self._rest:
            rest = self._rest
            self._rest = b""
            truncated = len(rest) > self.max_line_bytes
            text = rest[: self.max_line_bytes].decode("latin-1")
            self._one_line(text, self._pos, self._pos + len(rest), truncated, out)
            self._pos += len(rest)
        self._finish(out)
        self._committed = self._pos
        self.stats.events += len(out)
        self._report()
        return out

    @property
    def committed_offset(self) -> int:
        """Offset up to which every byte fed belongs to a returned event (or a skipped header).

        The bytes from here on hold the pending entry: the next range starts at this offset.
        """
        return self._committed

    def resume_state(self) -> ResumeState:
        """The state a parser resuming at `committed_offset` needs (JSON-able and small).

        It is the state after the last complete entry, never after pending bytes, so it goes in
        the checkpoint together with `committed_offset`; `parser_for(..., state=...)` takes it.
        """
        return {}

    def restore_state(self, state: Mapping[str, str | int | None]) -> None:
        """Start from `state` (what `resume_state` returned at this parser's `base_offset`).

        Raises InvalidResumeState for keys this parser does not know, values of the wrong type,
        or a parser that was already fed.
        """
        if self.position != self.base_offset:
            raise InvalidResumeState(f"{self.log_type}: state restored after bytes were fed")
        unknown = set(state) - self._restore(state)
        if unknown:
            raise InvalidResumeState(
                f"{self.log_type}: unknown resume state keys {sorted(unknown)}"
            )

    def _restore(self, state: Mapping[str, str | int | None]) -> set[str]:
        """Take the keys of `state` this parser knows (validated); returns their names."""
        return set()

    @property
    def position(self) -> int:
        """Offset just past the last byte fed."""
        return self._pos + len(self._rest)

    # ---------------------------------------------------------------- subclass hooks

    @abstractmethod
    def _line(self, line: str, start: int, end: int, truncated: bool, out: list[Event]) -> None:
        """Handle one line (latin-1 text without its newline) spanning [start, end)."""

    @abstractmethod
    def _finish(self, out: list[Event]) -> None:
        """Emit the pending entry, if any."""

    # ---------------------------------------------------------------- helpers for subclasses

    def _emit(
        self,
        out: list[Event],
        start: int,
        end: int,
        fields: Fields,
        event_time: datetime | None,
        parse_error: bool,
        ascii_only: bool,
    ) -> None:
        if not ascii_only and fix_fields(fields):
            fields["invalid_utf8"] = True
            self.stats.invalid_utf8 += 1
        if parse_error:
            self.stats.parse_errors += 1
        out.append(Event(start, end, fields, event_time, parse_error))
        self._committed = end

    def _push(self, out: list[Event], event: Event, ascii_only: bool) -> None:
        """Emit an event built by the subclass (a pending entry now complete)."""
        if not ascii_only and fix_fields(event.fields):
            event.fields["invalid_utf8"] = True
            self.stats.invalid_utf8 += 1
        if event.parse_error:
            self.stats.parse_errors += 1
        out.append(event)
        self._committed = event.end

    def _commit(self, end: int) -> None:
        """Every byte up to `end` belongs to an event the subclass appended to `out` itself."""
        self._committed = end

    def _skip(self, end: int, lines: int = 1, nbytes: int = 0) -> None:
        """Bytes up to `end` are dropped by design (server header lines); count them."""
        self.stats.skipped_header_lines += lines
        self.stats.skipped_header_bytes += nbytes
        self._committed = end

    def _skip_blank(self, start: int, end: int) -> None:
        """An empty line between entries: it belongs to no event; counted, range committed."""
        self.stats.blank_lines += 1
        self.stats.blank_bytes += end - start
        self._committed = end

    def _raw_event(
        self, out: list[Event], line: str, start: int, end: int, truncated: bool, reason: str
    ) -> None:
        # Raw text is SQL as often as not: it is masked like any parsed field.
        fields: Fields = {"message": mask_secrets(line), "error_reason": reason}
        if truncated:
            fields["truncated"] = True
        self._emit(out, start, end, fields, None, True, line.isascii())

    # ---------------------------------------------------------------- internals

    def _block(self, data: bytes, begin: int, end: int, start: int, out: list[Event]) -> None:
        """Complete lines `data[begin:end]` (file offset `start`), handed to `_lines` in pieces
        whose lines all fit the limit. Decoding a view of `data` is the only copy made."""
        limit = self.max_line_bytes
        view = memoryview(data)
        while end - begin > limit:
            nl = data.rfind(b"\n", begin, begin + limit)
            if nl < 0:
                # The first line is longer than the limit: it alone takes the truncating path.
                nl = data.find(b"\n", begin)
                text = str(view[begin : nl + 1], "latin-1")
                self._block_ascii = text.isascii()
                self._checked_lines(text, start, out)
            else:
                text = str(view[begin : nl + 1], "latin-1")
                self._block_ascii = text.isascii()
                self._lines(text, start, out)
            start += nl + 1 - begin
            begin = nl + 1
        if begin < end:
            text = str(view[begin:end], "latin-1")
            # O(1): CPython records whether a str is ASCII when it builds it.
            self._block_ascii = text.isascii()
            self._lines(text, start, out)

    def _lines(self, text: str, start: int, out: list[Event]) -> None:
        """Whole lines (each ending with a newline, none longer than the limit) from `start`.

        `ScannedParser` overrides this with its compiled scanner, handing any other line to
        `_safe_line`, so the events are those `_line` would give.
        """
        lines = text.split("\n")
        lines.pop()
        line_fn = self._line
        pos = start
        for line in lines:
            end = pos + len(line) + 1
            try:
                line_fn(line, pos, end, False, out)
            except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the line
                self._internal_error(exc, line, pos, end, out)
            pos = end

    def _safe_line(self, line: str, start: int, end: int, out: list[Event]) -> None:
        """`_line` for one line that fits the limit, keeping the line if the parser raises."""
        try:
            self._line(line, start, end, False, out)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the line
            self._internal_error(exc, line, start, end, out)

    def _checked_lines(self, text: str, start: int, out: list[Event]) -> None:
        """Whole lines, any of which may be longer than the limit (cut and flagged)."""
        limit = self.max_line_bytes
        lines = text.split("\n")
        lines.pop()
        line_fn = self._line
        pos = start
        for line in lines:
            end = pos + len(line) + 1
            try:
                if len(line) > limit:
                    self.stats.truncated_lines += 1
                    line_fn(line[:limit], pos, end, True, out)
                else:
                    line_fn(line, pos, end, False, out)
            except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the line
                self._internal_error(exc, line[:limit], pos, end, out)
            pos = end

    def _one_line(self, line: str, start: int, end: int, truncated: bool, out: list[Event]) -> None:
        self._block_ascii = line.isascii()
        if truncated:
            self.stats.truncated_lines += 1
        try:
            self._line(line, start, end, truncated, out)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the line
            self._internal_error(exc, line, start, end, out)

    def _internal_error(
        self, exc: Exception, line: str, start: int, end: int, out: list[Event]
    ) -> None:
        self.stats.internal_errors += 1
        LOG.error(
            "parser_internal_error",
            log_type=self.log_type,
            offset=start,
            error=repr(exc),
            exc_info=exc,
        )
        try:
            self._finish(out)
        except Exception as again:  # noqa: BLE001 - keep going; the line below is still kept
            LOG.error("parser_finish_failed", log_type=self.log_type, error=repr(again))
        self._raw_event(out, line, start, end, False, f"internal error: {exc!r}")

    def _report(self) -> None:
        report(self.log_type, self.stats)
