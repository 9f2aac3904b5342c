"""Generation identity: the active name and its rotated copy share one key; names are parsed
(padded or unpadded hours), never built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.log_files import (
    LogNameError,
    family_of,
    generation_of,
    hour_of_marker,
    log_type_of,
    succession_key,
)
from common.log_types import LogType

BASES = (
    "error/mysql-error-running.log",
    "slowquery/mysql-slowquery.log",
    "general/mysql-general.log",
)
H = 3_600_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize("base", BASES)
def test_active_and_rotated_names_share_a_generation(base: str) -> None:
    active = generation_of(base, ms("2024-01-04T09:41:07.123"), 5000)
    padded = generation_of(f"{base}.2024-01-04.09", ms("2024-01-04T09:59:59.500"), 9000)
    unpadded = generation_of(f"{base}.2024-01-04.9", ms("2024-01-04T09:59:59.500"), 9000)
    assert active.key == padded.key == unpadded.key == f"{base}@2024-01-04T09"
    assert not active.rotated_name and padded.rotated_name and unpadded.rotated_name
    following = generation_of(base, ms("2024-01-04T10:00:00"), 0)
    assert following.key == f"{base}@2024-01-04T10"


def test_last_written_on_the_hour_belongs_to_the_hour_it_closes_when_the_file_has_bytes() -> None:
    base = "error/mysql-error-running.log"
    assert generation_of(base, ms("2024-01-04T10:00:00"), 120).key.endswith("@2024-01-04T09")
    assert generation_of(base, ms("2024-01-04T10:00:00"), 0).key.endswith("@2024-01-04T10")


def test_other_files_are_their_own_generation_and_gz_is_the_same_file() -> None:
    pg = "error/postgresql.log.2024-01-01-1400"
    assert generation_of(pg, 1, 10).key == pg
    assert generation_of(pg + ".gz", 1, 10).key == pg
    audit = "audit/audit.log.2.2024-01-01-14-05.3"
    assert generation_of(audit, 1, 10).key == audit
    assert family_of(audit) == "audit/audit.log.2"
    assert succession_key(audit) > succession_key("audit/audit.log.2.2024-01-01-13-55.2")


def test_rds_mysql_daily_names_take_the_date_from_last_written() -> None:
    g = generation_of("slowquery/mysql-slowquery.log.7", ms("2024-01-04T07:59:00"), 10)
    assert g.key == "slowquery/mysql-slowquery.log@2024-01-04T07"
    late = generation_of("slowquery/mysql-slowquery.log.23", ms("2024-01-05T00:00:00"), 10)
    assert late.key == "slowquery/mysql-slowquery.log@2024-01-04T23"


@pytest.mark.parametrize(
    "name",
    ["slowquery/mysql-slowquery.log.2024-13-04.09", "general/mysql-general.log.2024-01-04.24"],
)
def test_bad_suffix_is_a_clear_error(name: str) -> None:
    with pytest.raises(LogNameError, match="bad"):
        generation_of(name, 0, 1)


def test_markers() -> None:
    assert hour_of_marker("2024-01-04.9:0", 0) == datetime(2024, 1, 4, 9, tzinfo=UTC)
    assert hour_of_marker("9:326043", ms("2024-01-04T09:30:00")) == datetime(
        2024, 1, 4, 9, tzinfo=UTC
    )
    assert hour_of_marker("23:5", ms("2024-01-05T00:10:00")) == datetime(2024, 1, 4, 23, tzinfo=UTC)
    assert hour_of_marker("0", 0) is None


def test_log_types() -> None:
    assert (
        log_type_of("aurora-mysql", "error/mysql-error-running.log.2024-01-04.09") is LogType.ERROR
    )
    assert log_type_of("aurora-mysql", "error/mysql-error.log") is None
    assert (
        log_type_of("aurora-postgresql", "error/postgresql.log.2024-01-01-1400.gz")
        is LogType.POSTGRESQL
    )


@given(
    base=st.sampled_from(BASES),
    hour=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
    ),
    offset_ms=st.integers(min_value=1, max_value=H - 1),
    size=st.integers(min_value=0, max_value=10**9),
    padded=st.booleans(),
)
def test_property_rotation_keeps_the_generation(
    base: str, hour: datetime, offset_ms: int, size: int, padded: bool
) -> None:
    """Whatever the hour and LastWritten inside it, the active file and the rotated name that
    RDS gives it an hour later (padded or not) map to one key; the next hour maps elsewhere."""
    start = int(hour.timestamp() * 1000)
    active = generation_of(base, start + offset_ms, size)
    suffix = f"{hour:%Y-%m-%d}.{hour.hour:02d}" if padded else f"{hour:%Y-%m-%d}.{hour.hour}"
    rotated = generation_of(f"{base}.{suffix}", start + offset_ms, size)
    assert active.key == rotated.key
    nxt = generation_of(base, int((hour + timedelta(hours=1)).timestamp() * 1000) + 1, size)
    assert nxt.key != active.key
