"""Field text to values: UTF-8 repair of the latin-1 view, and the MySQL/PostgreSQL times."""

from __future__ import annotations

from datetime import UTC, datetime

from processor.parsers.event import Fields


def fix_text(latin1: str) -> tuple[str, bool]:
    """Turn a latin-1 view of bytes into text; the flag is True when the bytes were not UTF-8."""
    raw = latin1.encode("latin-1")
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), True


def fix_fields(fields: Fields) -> bool:
    """Re-decode every non-ASCII string field as UTF-8 in place; True if any was not UTF-8."""
    bad = False
    for key, value in fields.items():
        if type(value) is str and not value.isascii():
            fields[key], invalid = fix_text(value)
            bad = bad or invalid
    return bad


def parse_iso_utc(text: str) -> datetime | None:
    """An ISO 8601 time (MySQL 8 style, `Z` or an offset) as aware UTC; None if malformed."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is not UTC:
        return value.astimezone(UTC)
    return value


def parse_mysql56_time(text: str) -> datetime | None:
    """`YYMMDD H:MM:SS` (MySQL 5.6 error/general/slow logs, server time taken as UTC)."""
    try:
        day, clock = text.split(None, 1)
        hh, mm, ss = clock.strip().split(":")
        return datetime(
            2000 + int(day[0:2]),
            int(day[2:4]),
            int(day[4:6]),
            int(hh),
            int(mm),
            int(ss),
            tzinfo=UTC,
        )
    except ValueError:
        return None
