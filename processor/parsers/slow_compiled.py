"""The slow log's compiled code (`_slowlog`, built from `_slowlog.pyx`), loaded once.

It parses the plainest slow-log entries and computes pt-query-digest's fingerprint from C. Without
it (no C compiler where the package was installed, or AURORA_PARSERS_PURE=1) the Python code, the
specification, does all of it: same events, a third of the speed.
"""

from __future__ import annotations

import os
from types import ModuleType

import structlog
from prometheus_client import Gauge

from processor.parsers.event import Event
from processor.parsers.scanning import PURE_ENV

LOG = structlog.get_logger(__name__)
COMPILED = Gauge(
    "aurora_parser_compiled_slowlog",
    "1 when the slow log runs its compiled scanner and fingerprint, 0 when pure Python.",
)


def load() -> ModuleType | None:
    """The compiled module, or None (logged) when it is missing or switched off."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        COMPILED.set(0)
        return None
    try:
        from processor.parsers import _slowlog
    except ImportError as exc:
        LOG.warning(
            "slowlog_not_compiled",
            error=repr(exc),
            hint="reinstall the package where a C compiler is available (pip install -e .)",
        )
        COMPILED.set(0)
        return None
    if not _slowlog.bind_event(Event):
        # Still correct (the scanner then calls Event()), only slower: say so.
        LOG.warning("slowlog_event_not_bound", hint="Event is no longer a slots class")
    COMPILED.set(1)
    return _slowlog


# Read when a parser is created and when fingerprint_mysql is imported; tests switch it.
SLOWLOG: ModuleType | None = load()
