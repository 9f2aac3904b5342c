"""The zone PostgreSQL prints after `%t`/`%m` times, turned into a UTC offset.

PostgreSQL writes log times in `log_timezone` with the zone's abbreviation from the tz database
(`2020-03-11 20:40:43 CET`), or a numeric one where the zone has none (`+03`, `-0330`). RDS
defaults to UTC, but `log_timezone` is a parameter, and reading `CET` as UTC puts every event an
hour off. An abbreviation is a fixed offset (`CET` is +01:00 all year; summer time prints
`CEST`), so a table maps them, rather than a zone with rules. It holds every abbreviation the tz
database prints today (tests/parsers/test_pg_zones.py checks that against zoneinfo); a name
missing from it that is an IANA zone key (`Japan`, `Eire`) is read through zoneinfo.

Four abbreviations mean different offsets in different zones today: `IST` (India +05:30, Israel
+02:00, Ireland +01:00), `CST` (US -06:00, China +08:00, Cuba -05:00), `CDT` (US -05:00, Cuba
-04:00), `PST` (US -08:00, Philippines +08:00). They are read the way PostgreSQL itself reads
them on input (its `Default` abbreviation set) and the event is flagged `time_zone_ambiguous`;
a name nobody knows keeps the wall-clock time as UTC and is flagged `time_zone_unknown`. Either
way the printed name stays in the event's `time_zone` field.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

# Minutes east of UTC, for each abbreviation the tz database prints (2024 rules).
OFFSETS: dict[str, int] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60,
    "CEST": 120, "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "WAT": 60,
    "CAT": 120, "SAST": 120, "EAT": 180, "IDT": 180, "PKT": 300, "WIB": 420, "WITA": 480,
    "WIT": 540, "HKT": 480, "JST": 540, "KST": 540, "AWST": 480, "ACST": 570, "ACDT": 630,
    "AEST": 600, "AEDT": 660, "ChST": 600, "NZST": 720, "NZDT": 780, "NST": -210, "NDT": -150,
    "AST": -240, "ADT": -180, "EST": -300, "EDT": -240, "MST": -420, "MDT": -360, "PDT": -420,
    "AKST": -540, "AKDT": -480, "HST": -600, "HDT": -540, "SST": -660,
    # Ambiguous: PostgreSQL's `Default` reading here, the others in AMBIGUOUS.
    "IST": 120, "CST": -360, "CDT": -300, "PST": -480,
}  # fmt: skip
AMBIGUOUS: dict[str, tuple[int, ...]] = {
    "IST": (330, 120, 60),
    "CST": (-360, 480, -300),
    "CDT": (-300, -240),
    "PST": (-480, 480),
}
# Spellings of UTC itself: the time needs no conversion and no field.
UTC_NAMES = frozenset({"UTC", "GMT", "UT", "Z", ""})


class ZoneFlag(StrEnum):
    """The event field set (to true) when the zone could not be read for sure."""

    AMBIGUOUS = "time_zone_ambiguous"
    UNKNOWN = "time_zone_unknown"


def local_to_utc(wall: datetime, zone: str) -> tuple[datetime, ZoneFlag | None]:
    """The UTC instant of naive `wall` printed with zone name `zone` (not a numeric offset)."""
    minutes = OFFSETS.get(zone)
    if minutes is not None:
        when = (wall - timedelta(minutes=minutes)).replace(tzinfo=UTC)
        return when, ZoneFlag.AMBIGUOUS if zone in AMBIGUOUS else None
    tz = _iana(zone)
    if tz is None:
        return wall.replace(tzinfo=UTC), ZoneFlag.UNKNOWN
    first = wall.replace(tzinfo=tz)
    # Inside a shift (a repeated or skipped hour) the name alone does not tell which.
    shifted = first.utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset()
    flag = ZoneFlag.AMBIGUOUS if shifted else None
    return first.astimezone(UTC), flag


@lru_cache(maxsize=64)
def _iana(name: str) -> zoneinfo.ZoneInfo | None:
    if not name.isascii():
        return None
    try:  # ZoneInfo refuses paths that leave the tz database (`..`, absolute)
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None
