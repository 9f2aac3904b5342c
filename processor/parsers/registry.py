"""Log type -> parser class, and the entry-boundary helper the processor cuts ranges with."""

from __future__ import annotations

from collections.abc import Mapping

from common.log_types import LOG_TYPES, LogType
from processor.parsers.audit import AuditLogParser
from processor.parsers.base import DEFAULT_MAX_LINE_BYTES, LogParser
from processor.parsers.error import ErrorLogParser
from processor.parsers.general import GeneralLogParser
from processor.parsers.postgresql import PostgresLogParser
from processor.parsers.slowquery import SlowQueryLogParser

__all__ = ["LOG_TYPES", "PARSERS", "UnknownLogType", "last_entry_boundary", "parser_for"]

PARSERS: dict[str, type[LogParser]] = {
    LogType.ERROR: ErrorLogParser,
    LogType.SLOWQUERY: SlowQueryLogParser,
    LogType.GENERAL: GeneralLogParser,
    LogType.AUDIT: AuditLogParser,
    LogType.POSTGRESQL: PostgresLogParser,
}
assert set(PARSERS) == set(LogType), "every log type needs a parser"


class UnknownLogType(ValueError):
    """The log type has no parser; the message lists the known ones."""


def parser_for(
    log_type: str,
    base_offset: int = 0,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    state: Mapping[str, str | int | None] | None = None,
) -> LogParser:
    """A fresh parser for `log_type` whose offsets start at `base_offset`.

    `state` is what a previous parser's `resume_state()` returned when its `committed_offset`
    was `base_offset` (from the checkpoint); without it, state carried across entries (the slow
    log's database) starts empty.
    """
    try:
        cls = PARSERS[log_type]
    except KeyError:
        raise UnknownLogType(
            f"unknown log type {log_type!r}; expected one of {', '.join(LOG_TYPES)}"
        ) from None
    parser = cls(base_offset, max_line_bytes)
    if state:
        parser.restore_state(state)
    return parser


def last_entry_boundary(log_type: str, buffer: bytes) -> int:
    """Length of the longest prefix of `buffer` made only of complete entries.

    The entry still open at the end of the buffer (it may get more continuation lines) is not
    part of the prefix, so a range cut there never splits a multi-line entry. At the end of a
    rotated file the whole buffer is complete: use `len(buffer)` (or the parser's `flush`).
    A processor already running a parser over the bytes gets the same number, for free, from
    `parser.committed_offset`.
    """
    parser = parser_for(log_type, 0)
    parser.feed(buffer)
    return parser.committed_offset
