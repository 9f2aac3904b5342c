"""Times PostgreSQL prints in a named zone become the right UTC instant (issue 10, item 3)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import pytest

from processor.parsers.pg_zones import AMBIGUOUS, OFFSETS, ZoneFlag, local_to_utc
from tests.parsers.helpers import parse_all

# (zone as printed, wall clock, UTC instant, flag)
CASES = [
    ("UTC", "2020-03-11 20:40:43", "2020-03-11T20:40:43", None),
    ("GMT", "2020-03-11 20:40:43", "2020-03-11T20:40:43", None),
    ("CET", "2020-03-11 20:40:43", "2020-03-11T19:40:43", None),
    ("CEST", "2020-07-11 20:40:43", "2020-07-11T18:40:43", None),
    ("EST", "2020-03-11 20:40:43", "2020-03-12T01:40:43", None),
    ("PDT", "2020-07-11 20:40:43", "2020-07-12T03:40:43", None),
    ("NST", "2020-01-11 20:40:43", "2020-01-12T00:10:43", None),
    ("AEDT", "2020-01-01 05:00:00", "2019-12-31T18:00:00", None),
    ("ChST", "2020-01-01 05:00:00", "2019-12-31T19:00:00", None),
    ("+03", "2020-03-11 20:40:43", "2020-03-11T17:40:43", None),
    ("-0330", "2020-03-11 20:40:43", "2020-03-12T00:10:43", None),
    ("+05:30", "2020-03-11 20:40:43", "2020-03-11T15:10:43", None),
    ("Japan", "2020-03-11 20:40:43", "2020-03-11T11:40:43", None),  # an IANA key
    ("IST", "2020-03-11 20:40:43", "2020-03-11T18:40:43", ZoneFlag.AMBIGUOUS),  # Israel, as PG
    ("CST", "2020-03-11 20:40:43", "2020-03-12T02:40:43", ZoneFlag.AMBIGUOUS),  # US, as PG
    ("XYZ", "2020-03-11 20:40:43", "2020-03-11T20:40:43", ZoneFlag.UNKNOWN),  # kept as UTC
]


@pytest.mark.parametrize(("zone", "wall", "utc", "flag"), CASES, ids=[c[0] for c in CASES])
def test_event_time_in_utc(zone: str, wall: str, utc: str, flag: ZoneFlag | None) -> None:
    line = f"{wall} {zone}:10.0.0.1(5000):u@d:[42]:LOG:  duration: 1.0 ms  statement: SELECT 1\n"
    (event,) = parse_all("postgresql", line.encode())
    assert not event.parse_error
    assert event.event_time == datetime.fromisoformat(utc).replace(tzinfo=UTC)
    named = zone[0] not in "+-"
    assert event.fields.get("time_zone") == (zone if named and zone not in ("UTC", "GMT") else None)
    for f in ZoneFlag:
        assert event.fields.get(f) == (True if f is flag else None)


def test_milliseconds_and_no_space_forms() -> None:
    data = b"2020-03-11 20:40:43.250 CET:[local]:u@d:[1]:LOG:  checkpoint starting: time\n"
    (event,) = parse_all("postgresql", data)
    assert event.event_time == datetime(2020, 3, 11, 19, 40, 43, 250000, tzinfo=UTC)


def _printed_today() -> dict[str, set[int]]:
    """Each abbreviation the tz database prints in 2024, with its offsets in minutes."""
    seen: dict[str, set[int]] = {}
    for key in zoneinfo.available_timezones():
        tz = zoneinfo.ZoneInfo(key)
        for month in (1, 7):
            local = datetime(2024, month, 15, 12, tzinfo=UTC).astimezone(tz)
            name, offset = local.tzname(), local.utcoffset()
            if name and offset is not None and name[0] not in "+-":
                seen.setdefault(name, set()).add(int(offset.total_seconds()) // 60)
    return seen


def test_table_covers_the_tz_database() -> None:
    seen = _printed_today()
    if not seen:
        pytest.skip("no tz database here")
    for name, offsets in seen.items():
        assert name in OFFSETS, name
        if len(offsets) > 1:
            assert set(AMBIGUOUS[name]) == offsets, name
        else:
            assert OFFSETS[name] in offsets, name
    for name, readings in AMBIGUOUS.items():
        assert OFFSETS[name] in readings


def test_iana_zone_inside_a_shift_is_ambiguous() -> None:
    # 2024-11-03 01:30 happens twice in New York.
    when, flag = local_to_utc(datetime(2024, 11, 3, 1, 30), "America/New_York")
    assert when == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    assert flag is ZoneFlag.AMBIGUOUS
