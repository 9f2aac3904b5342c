"""What a parser did: counts per parser (for the job record) and the same as metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import Counter

EVENTS = Counter("aurora_parser_events_total", "Events produced by the parsers.", ["log_type"])
PARSE_ERRORS = Counter(
    "aurora_parser_parse_errors_total",
    "Events whose text did not match the format (kept raw with parse_error=true).",
    ["log_type"],
)
TRUNCATED = Counter(
    "aurora_parser_truncated_lines_total", "Lines cut at max_line_bytes.", ["log_type"]
)
INVALID_UTF8 = Counter(
    "aurora_parser_invalid_utf8_total",
    "Events holding bytes that are not UTF-8 (decoded with replacement).",
    ["log_type"],
)
SKIPPED_HEADERS = Counter(
    "aurora_parser_skipped_header_lines_total",
    "Server header lines (re-inserted by RDS at each flush) skipped by design.",
    ["log_type"],
)
INTERNAL_ERRORS = Counter(
    "aurora_parser_internal_errors_total",
    "Lines on which a parser raised; they are kept raw with parse_error=true.",
    ["log_type"],
)


@dataclass(slots=True)
class ParserStats:
    """What a parser did, for the caller's job record (the metrics above count the same)."""

    events: int = 0
    parse_errors: int = 0
    truncated_lines: int = 0
    invalid_utf8: int = 0
    skipped_header_lines: int = 0
    skipped_header_bytes: int = 0
    internal_errors: int = 0
    blank_lines: int = 0
    blank_bytes: int = 0
    bytes_seen: int = 0
    _reported: dict[str, int] = field(default_factory=dict, repr=False)


def report(log_type: str, stats: ParserStats) -> None:
    """Add to the metrics what `stats` counted since the last report."""
    seen = stats._reported
    for name, counter, value in (
        ("events", EVENTS, stats.events),
        ("parse_errors", PARSE_ERRORS, stats.parse_errors),
        ("truncated", TRUNCATED, stats.truncated_lines),
        ("invalid_utf8", INVALID_UTF8, stats.invalid_utf8),
        ("skipped", SKIPPED_HEADERS, stats.skipped_header_lines),
        ("internal", INTERNAL_ERRORS, stats.internal_errors),
    ):
        delta = value - seen.get(name, 0)
        if delta:
            counter.labels(log_type).inc(delta)
            seen[name] = value
