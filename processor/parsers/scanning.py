"""The compiled line scanners (`_scan`, built from `_scan.pyx`) and the loop that runs them.

A scanner emits the events of the plainest lines from C and stops at the first line it is not
sure of; `Scanner.lines` gives that line to the parser's `_line` (the specification) and calls
the scanner again. Without the compiled module (no C compiler where the package was installed,
or `AURORA_PARSERS_PURE=1`), the parsers use their pure-Python passes: same events, about a
third of the speed. `aurora_parser_compiled_scanners` tells which one a process runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import Counter, Gauge

from processor.parsers.event import Event
from processor.parsers.masking import mask_secrets

if TYPE_CHECKING:
    from processor.parsers.base import LogParser
    from processor.parsers.pending import PendingEntry

PURE_ENV = "AURORA_PARSERS_PURE"
LOG = structlog.get_logger(__name__)
COMPILED = Gauge(
    "aurora_parser_compiled_scanners",
    "1 when the parsers run the compiled line scanners, 0 when pure Python (a third the speed).",
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
    if not _scan.bind_event(Event):
        # Still correct (the scanners then call Event()), only slower: say so.
        LOG.warning("parser_scanners_event_not_bound", hint="Event is no longer a slots class")
    COMPILED.set(1)
    return _scan


# Read by each parser when it is created; tests switch it to compare both implementations.
SCANNERS: ModuleType | None = load_scanners()


class Scanner:
    """A compiled scanner with its arguments bound, run over the whole lines of a buffer.

    For a format whose entries may span lines, `entry_at` tells whether a line starts an
    entry: while the parser's `_line` holds a pending entry, lines go to `_line` until one
    does; the pending entry is then complete (pushed as `_line` would) and the scanner takes
    over again. The scanner itself emits an entry only when the line after it starts one.
    """

    def __init__(self, log_type: str, scan: Scan, entry_at: EntryAt | None = None) -> None:
        self.log_type = log_type
        self.scan = scan
        self.entry_at = entry_at

    def lines(
        self,
        parser: LogParser,
        text: str,
        start: int,
        out: list[Event],
        pending: PendingEntry | None = None,
    ) -> None:
        """`parser._lines`: the scanner first, `_line` for each line it leaves."""
        entry_at = self.entry_at
        size = len(text)
        pos = 0
        while pos < size:
            if pending is not None and pending.event is not None:
                assert entry_at is not None, "a format with pending entries needs entry_at"
                if not entry_at(text, pos):
                    pos = self._to_line(parser, text, pos, start, out)
                    continue
                parser._push(out, pending.take(), pending.ascii_only)
            reached = self._scan(text, pos, start, out)
            if reached > pos:
                parser._committed = start + reached
                pos = reached
                if pos >= size:
                    return
            pos = self._to_line(parser, text, pos, start, out)

    @staticmethod
    def _to_line(parser: LogParser, text: str, pos: int, start: int, out: list[Event]) -> int:
        """The line at `pos` through `_line`; returns where the next line starts."""
        nl = text.index("\n", pos)
        parser._safe_line(text[pos:nl], start + pos, start + nl + 1, out)
        return nl + 1

    def _scan(self, text: str, pos: int, start: int, out: list[Event]) -> int:
        """`scan(text, pos, start, out)`; if it raises (a scanner bug, or `mask`/`connect`
        failing), the events it appended stand and the caller goes on from the line after them
        with `_line`, which keeps any line it cannot parse: the failure is logged and counted."""
        emitted = len(out)
        try:
            return self.scan(text, pos, start, out)
        except Exception as exc:  # no line may be lost to a scanner failure: logged, counted
            reached = out[-1].end - start if len(out) > emitted else pos
            SCANNER_ERRORS.labels(self.log_type).inc()
            LOG.error(
                "parser_scanner_error",
                log_type=self.log_type,
                offset=start + reached,
                error=repr(exc),
                exc_info=exc,
            )
            return reached


def compiled(log_type: str, **bound: Any) -> Scanner | None:
    """The compiled scanner of `log_type` (`scan_<log_type>` in `_scan.pyx`, with `event`,
    `mask` and `bound` as arguments), or None when the compiled module is not in use."""
    scanners = SCANNERS
    if scanners is None:
        return None
    scan = partial(getattr(scanners, f"scan_{log_type}"), event=Event, mask=mask_secrets, **bound)
    return Scanner(log_type, scan, getattr(scanners, f"{log_type}_entry_at", None))
