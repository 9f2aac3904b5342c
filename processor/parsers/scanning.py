"""The compiled line scanners (`_scan`, built from `_scan.pyx`) and the loops that use them.

A scanner emits the events of the plainest lines from C and stops at the first line it is not
sure of; the loops below give that line to the parser's `_line` (the specification) and call the
scanner again. Without the compiled module (no C compiler where the package was installed, or
`AURORA_PARSERS_PURE=1`), the parsers use their pure-Python passes: same events, about half the
speed. `aurora_parser_compiled_scanners` tells which one a process runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Counter, Gauge

if TYPE_CHECKING:
    from processor.parsers.base import LogParser
    from processor.parsers.event import Event
    from processor.parsers.pending import PendingEntry

PURE_ENV = "AURORA_PARSERS_PURE"
LOG = structlog.get_logger(__name__)
COMPILED = Gauge(
    "aurora_parser_compiled_scanners",
    "1 when the parsers run the compiled line scanners, 0 when pure Python (half the speed).",
)

SCANNER_ERRORS = Counter(
    "aurora_parser_scanner_errors_total",
    "Compiled scanner calls that raised; the lines went to the per-line parser instead.",
    ["log_type"],
)

# (text, pos, start, out) -> offset of the first line left to the parser.
Scan = Callable[[str, int, int, "list[Event]"], int]
# (text, pos) -> True when the line at pos starts an entry (so a pending entry is complete).
EntryAt = Callable[[str, int], bool]


def load_scanners() -> ModuleType | None:
    """The compiled module, or None (logged) when it is missing or switched off."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        LOG.info("parser_scanners_disabled", env=PURE_ENV)
        COMPILED.set(0)
        return None
    try:
        from processor.parsers import _scan
    except ImportError as exc:
        LOG.warning(
            "parser_scanners_not_compiled",
            error=repr(exc),
            hint="reinstall the package where a C compiler is available (pip install -e .)",
        )
        COMPILED.set(0)
        return None
    from processor.parsers.event import Event

    if not _scan.bind_event(Event):
        # Still correct (the scanners then call Event()), only slower: say so.
        LOG.warning("parser_scanners_event_not_bound", hint="Event is no longer a slots class")
    COMPILED.set(1)
    return _scan


# Read by each parser when it is created; tests switch it to compare both implementations.
SCANNERS: ModuleType | None = load_scanners()


def _run_scanner(
    parser: LogParser, scan: Scan, text: str, pos: int, start: int, out: list[Event]
) -> int:
    """`scan(text, pos, start, out)`; if it raises (a scanner bug, or `mask`/`connect`
    failing), the events it appended stand and the caller goes on from the line after them
    with `_line`, which keeps any line it cannot parse: the failure is logged and counted."""
    emitted = len(out)
    try:
        return scan(text, pos, start, out)
    except Exception as exc:  # no line may be lost to a scanner failure: logged, counted
        reached = out[-1].end - start if len(out) > emitted else pos
        SCANNER_ERRORS.labels(parser.log_type).inc()
        LOG.error(
            "parser_scanner_error",
            log_type=parser.log_type,
            offset=start + reached,
            error=repr(exc),
            exc_info=exc,
        )
        return reached


def scan_records(parser: LogParser, text: str, start: int, out: list[Event], scan: Scan) -> None:
    """Whole lines of a one-line-per-entry format: scanner first, `_line` for what it leaves."""
    line_fn = parser._safe_line
    size = len(text)
    pos = 0
    while True:
        reached = _run_scanner(parser, scan, text, pos, start, out)
        if reached > pos:
            parser._committed = start + reached
            pos = reached
        if pos >= size:
            return
        nl = text.index("\n", pos)
        line_fn(text[pos:nl], start + pos, start + nl + 1, out)
        pos = nl + 1


def scan_entries(
    parser: LogParser,
    text: str,
    start: int,
    out: list[Event],
    scan: Scan,
    entry_at: EntryAt,
    pending: PendingEntry,
    push: Callable[[list[Event], Event, bool], None],
) -> None:
    """Whole lines of a multi-line format whose parser holds one pending entry.

    The scanner emits an entry only when the next line starts one. While `_line` holds a
    pending entry, lines go to `_line` until one starts an entry: the pending one is then
    complete (pushed as `_line` would) and the scanner takes over again.
    """
    line_fn = parser._safe_line
    size = len(text)
    pos = 0
    while pos < size:
        if pending.event is not None:
            if entry_at(text, pos):
                push(out, pending.take(), pending.ascii_only)
            else:
                nl = text.index("\n", pos)
                line_fn(text[pos:nl], start + pos, start + nl + 1, out)
                pos = nl + 1
                continue
        reached = _run_scanner(parser, scan, text, pos, start, out)
        if reached > pos:
            parser._committed = start + reached
            pos = reached
            if pos >= size:
                return
        nl = text.index("\n", pos)
        line_fn(text[pos:nl], start + pos, start + nl + 1, out)
        pos = nl + 1
