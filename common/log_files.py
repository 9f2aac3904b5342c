"""RDS log file names: which log type a file is, whether it is complete, and its *generation*.

Names per engine (docs/reference/rds-api.md §2): aurora-mysql
`error/mysql-error-running.log[.YYYY-MM-DD.HH]`, `slowquery/mysql-slowquery.log[.YYYY-MM-DD.HH]`,
`general/mysql-general.log[.…]` (the hour padded on real Aurora, unpadded in older listings: both
are accepted), `audit/audit.log.N.YYYY-MM-DD-HH-MM.SEQ`; aurora-postgresql
`error/postgresql.log.YYYY-MM-DD-HHMM` (`.csv` with csvlog, `.gz` when Aurora compressed it).
`error/mysql-error.log` is a 5-minute staging file whose content reappears in the running log, so
it is not followed.

A *generation* is the identity of one file's bytes across its names. The three reused active
MySQL names are a new file every hour, and an hour later the same bytes are listed as
`….YYYY-MM-DD.HH`; both names must map to one checkpoint. The generation of a rotated name is
parsed from its suffix; the generation of the active name is the hour its LastWritten falls in
(a LastWritten exactly on the hour belongs to the hour it closes when the file holds bytes, to the
hour it opens when the file is empty). Every other file is its own generation (its name, without
a `.gz` that Aurora adds when it compresses an old PostgreSQL file). Generations are parsed from
the names RDS lists, never used to build a name: the processor always reads the listed name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common.log_types import LOG_TYPES, LogType

__all__ = [
    "LOG_TYPES",
    "Generation",
    "LogNameError",
    "LogType",
    "family_of",
    "generation_of",
    "generation_of_marker",
    "hour_of_marker",
    "is_active_name",
    "log_type_of",
    "succession_key",
    "text_name",
]

_ACTIVE_NAMES = {
    "error/mysql-error-running.log",
    "slowquery/mysql-slowquery.log",
    "general/mysql-general.log",
}
_BASES = "|".join(re.escape(n) for n in sorted(_ACTIVE_NAMES))
# Aurora: base.YYYY-MM-DD.H or base.YYYY-MM-DD.HH (real listings pad, older ones did not).
_AURORA_ROTATED = re.compile(
    rf"^(?P<base>{_BASES})\.(?P<date>\d{{4}}-\d{{2}}-\d{{2}})\.(?P<hour>\d{{1,2}})$"
)
# RDS MySQL (not Aurora): base.H, the hour of the day, reused every day.
_RDS_ROTATED = re.compile(rf"^(?P<base>{_BASES})\.(?P<hour>\d{{1,2}})$")
# Portion markers: `2024-01-04.9:0` (error log) or `9:326043` (hour only).
_MARKER = re.compile(r"^(?:(?P<date>\d{4}-\d{2}-\d{2})\.)?(?P<hour>\d{1,2}):(?P<off>\d+)$")
_AUDIT = re.compile(r"^audit/audit\.log\.(?P<lane>\d+)\.(?P<stamp>[\d-]+)\.(?P<seq>\d+)$")
_HOUR_MS = 3_600_000


class LogNameError(ValueError):
    """A file name (or marker) that looks like a followed family but does not parse."""


@dataclass(frozen=True)
class Generation:
    """One file's identity across its names. `key` is the tracking table's sort key."""

    key: str
    family: str
    rotated_name: bool  # the name is a rotated (complete) name by its own shape


def log_type_of(engine: str, name: str) -> LogType | None:
    """The log type of file `name` on `engine`, or None for files the system does not follow."""
    if "postgres" in engine:
        return LogType.POSTGRESQL if name.startswith("error/postgresql.log") else None
    if name.startswith("error/mysql-error-running.log"):
        return LogType.ERROR
    if name.startswith("slowquery/mysql-slowquery.log"):
        return LogType.SLOWQUERY
    if name.startswith("general/mysql-general.log"):
        return LogType.GENERAL
    if name.startswith(("audit/audit.log", "audit/server_audit.log")):
        return LogType.AUDIT
    return None


def text_name(name: str) -> str:
    """The name of a file's text: without the `.gz` Aurora adds when it compresses an old
    PostgreSQL file (the same bytes, decompressed, under the name it was listed by before)."""
    return name[:-3] if name.endswith(".gz") else name


def is_active_name(name: str) -> bool:
    """True for the MySQL names that keep growing and are reused after each rotation."""
    return name in _ACTIVE_NAMES


def _hour_key(base: str, hour: datetime) -> str:
    return f"{base}@{hour:%Y-%m-%dT%H}"


def _parse_hour(date: str, hour: str, name: str) -> datetime:
    try:
        day = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise LogNameError(f"bad date in {name!r}") from None
    h = int(hour)
    if h > 23:
        raise LogNameError(f"bad hour in {name!r}")
    return day + timedelta(hours=h)


def _active_hour(last_written_ms: int, size: int) -> datetime:
    ms = last_written_ms
    if ms % _HOUR_MS == 0 and size > 0:
        ms -= _HOUR_MS  # written up to the hour's end: it is the hour that closes there
    return datetime.fromtimestamp((ms - ms % _HOUR_MS) / 1000, UTC)


def generation_of(name: str, last_written_ms: int, size: int) -> Generation:
    """The generation of file `name` as listed with `last_written_ms` and `size`."""
    if name in _ACTIVE_NAMES:
        return Generation(_hour_key(name, _active_hour(last_written_ms, size)), name, False)
    m = _AURORA_ROTATED.match(name)
    if m:
        hour = _parse_hour(m["date"], m["hour"], name)
        return Generation(_hour_key(m["base"], hour), m["base"], True)
    m = _RDS_ROTATED.match(name)
    if m:
        h = int(m["hour"])
        if h > 23:
            raise LogNameError(f"bad hour in {name!r}")
        last = datetime.fromtimestamp((last_written_ms - 1) / 1000, UTC)
        hour = last.replace(hour=h, minute=0, second=0, microsecond=0)
        if hour > last:
            hour -= timedelta(days=1)
        return Generation(_hour_key(m["base"], hour), m["base"], True)
    key = text_name(name)
    return Generation(key, family_of(key), False)


def family_of(name: str) -> str:
    """Files of one family succeed each other: a member older than the newest is complete."""
    m = _AUDIT.match(name)
    if m:
        return f"audit/audit.log.{m['lane']}"
    if name.startswith("error/postgresql.log"):
        return "error/postgresql.log" + (".csv" if name.endswith(".csv") else "")
    return name


def succession_key(name: str) -> tuple[int, str]:
    """Orders a family's members from oldest to newest (audit by set number, others by name)."""
    m = _AUDIT.match(name)
    if m:
        return (int(m["seq"]), m["stamp"])
    return (0, text_name(name))


def generation_of_marker(name: str, marker: str, last_written_ms: int) -> str | None:
    """For a reused active name: the generation key of the segment a portion marker names (a
    page of the next hour, once the name has moved on), or None when the marker has no hour."""
    hour = hour_of_marker(marker, last_written_ms) if is_active_name(name) else None
    return None if hour is None else _hour_key(name, hour)


def hour_of_marker(marker: str, last_written_ms: int) -> datetime | None:
    """For a reused active name: the hour its portion marker's segment names (`2024-01-04.9:0`,
    or `9:326043` with the date taken from LastWritten); None for another shape (`0`)."""
    m = _MARKER.match(marker)
    if m is None:
        return None
    if m["date"]:
        return _parse_hour(m["date"], m["hour"], marker)
    h = int(m["hour"])
    if h > 23:
        return None
    last = datetime.fromtimestamp(last_written_ms / 1000, UTC)
    hour = last.replace(hour=h, minute=0, second=0, microsecond=0)
    return hour - timedelta(days=1) if hour > last else hour
