"""The compiled line scanners (`_scan`, built from `_scan.pyx`) and `ScannedParser`, which runs them.

Two implementations of the error, general and audit parsers, no more: the per-line `_line` (the
specification, and the pure-Python implementation) and a compiled scanner that emits the events
of the plainest lines from C and stops at the first line it is not sure of, handing that line to
`_line`. Which one a process runs is chosen once, at import, as aiokafka chooses its record code
(`aiokafka/util.py`, `AIOKAFKA_NO_EXTENSIONS`): the compiled module unless `AURORA_PARSERS_PURE=1`
or it was not built (no C compiler where the package was installed). Nothing is logged at import
(a command line configures its logging later, on stderr); the first parser created says which
implementation runs, and the gauge `aurora_parser_compiled_scanners` tells it too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

import structlog
from prometheus_client import Counter, Gauge

from processor.parsers.base import DEFAULT_MAX_LINE_BYTES, LogParser
from processor.parsers.event import Event
from processor.parsers.masking import mask_secrets
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

NO_EXTENSIONS = os.environ.get(PURE_ENV, "") not in ("", "0")


def _load() -> tuple[ModuleType | None, str, dict[str, Any]]:
    """The compiled module (or None), the log event saying why, and its context."""
    if NO_EXTENSIONS:
        return None, "parser_scanners_disabled", {"env": PURE_ENV}
    try:
        from processor.parsers import _scan
    except ImportError as exc:
        return (
            None,
            "parser_scanners_not_compiled",
            {
                "error": repr(exc),
                "hint": "reinstall the package where a C compiler is available (pip install -e .)",
            },
        )
    if not _scan.bind_event(Event):
        # Still correct (the scanners then call Event()), only slower: say so.
        return _scan, "parser_scanners_event_not_bound", {"hint": "Event is not a slots class"}
    return _scan, "", {}


# Chosen once, here. Tests swap it to create parsers of the other implementation in-process.
SCANNERS, _WHY, _WHY_CONTEXT = _load()
COMPILED.set(0 if SCANNERS is None else 1)
_announced = False


def _announce() -> None:
    """Log, once per process, when the parsers do not run the plain compiled scanners."""
    global _announced
    if _announced:
        return
    _announced = True
    if _WHY == "parser_scanners_disabled":
        LOG.info(_WHY, **_WHY_CONTEXT)
    elif _WHY:
        LOG.warning(_WHY, **_WHY_CONTEXT)


class ScannedParser(LogParser):
    """A parser whose whole lines go first to its compiled scanner, then to `_line`.

    A scanner emits the events of the lines it is sure of and returns where it stopped; that
    line goes to `_line` and the scanner is called again. For a format whose entries may span
    lines, `pending` is the entry `_line` holds and the compiled module's `<log_type>_entry_at`
    tells whether a line starts an entry: while `_line` holds one, lines go to `_line` until
    one does; the pending entry is then complete (pushed as `_line` would) and the scanner
    takes over. Without the compiled module, `_lines` is the base class's: `_line` alone.
    """

    def __init__(
        self,
        base_offset: int = 0,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        pending: PendingEntry | None = None,
        **bound: Any,
    ) -> None:
        super().__init__(base_offset, max_line_bytes)
        _announce()
        self.__pending = pending
        self.__scan: Scan | None = self._compiled_scan(**bound)
        self.__entry_at: EntryAt | None = None
        if self.__scan is not None and pending is not None:
            self.__entry_at = getattr(SCANNERS, f"{self.log_type}_entry_at", None)
            if self.__entry_at is None:
                raise TypeError(f"{self.log_type}: a format with pending entries needs entry_at")

    def _compiled_scan(self, **bound: Any) -> Scan | None:
        """This format's compiled scanner with its arguments bound, or None (pure Python).

        The default is `scan_<log_type>` of `_scan`; a format with a compiled module of its own
        (the slow log's `_slowlog`) overrides this and keeps the same loop."""
        if SCANNERS is None:
            return None
        scan: Scan = partial(
            getattr(SCANNERS, f"scan_{self.log_type}"), event=Event, mask=mask_secrets, **bound
        )
        return scan

    @property
    def scanned(self) -> bool:
        """True when this parser runs its compiled scanner."""
        return self.__scan is not None

    def _lines(self, text: str, start: int, out: list[Event]) -> None:
        if self.__scan is None:
            super()._lines(text, start, out)
            return
        pending = self.__pending
        entry_at = self.__entry_at
        size = len(text)
        pos = 0
        while pos < size:
            if pending is not None and pending.event is not None:
                assert entry_at is not None  # checked in __init__
                if not entry_at(text, pos):
                    pos = self.__to_line(text, pos, start, out)
                    continue
                self._push(out, pending.take(), pending.ascii_only)
            reached = self.__run_scan(text, pos, start, out)
            if reached > pos:
                self._commit(start + reached)
                pos = reached
                if pos >= size:
                    return
            pos = self.__to_line(text, pos, start, out)

    def __to_line(self, text: str, pos: int, start: int, out: list[Event]) -> int:
        """The line at `pos` through `_line`; returns where the next line starts."""
        nl = text.index("\n", pos)
        self._safe_line(text[pos:nl], start + pos, start + nl + 1, out)
        return nl + 1

    def __run_scan(self, text: str, pos: int, start: int, out: list[Event]) -> int:
        """The scanner from `pos`; if it raises (a scanner bug, or `mask`/`connect` failing),
        the events it appended stand and the caller goes on from the line after them with
        `_line`, which keeps any line it cannot parse: the failure is logged and counted."""
        scan = self.__scan
        assert scan is not None
        emitted = len(out)
        try:
            return scan(text, pos, start, out)
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
