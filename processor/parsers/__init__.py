"""Streaming parsers for every Aurora log format (pure code over bytes, no I/O).

parser = parser_for("slowquery", base_offset=checkpoint, state=checkpointed_state)
for chunk in chunks:
    for event in parser.feed(chunk):
        ...                        # event.start/end, event.fields, event.event_time
for event in parser.flush():       # end of a rotated file
    ...
checkpoint, checkpointed_state = parser.committed_offset, parser.resume_state()
"""

from processor.parsers.base import (
    DEFAULT_MAX_LINE_BYTES,
    InvalidResumeState,
    LogParser,
    ResumeState,
)
from processor.parsers.event import Event
from processor.parsers.fingerprint_mysql import fingerprint
from processor.parsers.fingerprint_pg import fingerprint_pg, normalize_query
from processor.parsers.masking import mask_secrets
from processor.parsers.registry import (
    LOG_TYPES,
    PARSERS,
    UnknownLogType,
    last_entry_boundary,
    parser_for,
)
from processor.parsers.stats import ParserStats

__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "LOG_TYPES",
    "PARSERS",
    "Event",
    "InvalidResumeState",
    "LogParser",
    "ParserStats",
    "ResumeState",
    "UnknownLogType",
    "fingerprint",
    "fingerprint_pg",
    "last_entry_boundary",
    "mask_secrets",
    "normalize_query",
    "parser_for",
]
