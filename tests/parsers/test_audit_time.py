"""The audit record time: the cached ISO path gives the exact µs, as `fromtimestamp` did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.parsers import audit
from processor.parsers.audit import epoch_us_time

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BEFORE_2100 = 4_102_444_800_000_000


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("1703817810074458", datetime(2023, 12, 29, 2, 43, 30, 74458, tzinfo=UTC)),
        ("1704265200000000", datetime(2024, 1, 3, 7, 0, tzinfo=UTC)),
        ("1704265199999999", datetime(2024, 1, 3, 6, 59, 59, 999999, tzinfo=UTC)),
        ("0000000000000001", datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)),
        ("4102444799999999", datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        # Not cached: other lengths, and from 2100 on.
        ("4102444800000000", datetime(2100, 1, 1, tzinfo=UTC)),
        ("170381781", datetime(1970, 1, 1, 0, 2, 50, 381781, tzinfo=UTC)),
        ("0", EPOCH),
        ("99999999999999999999999", None),
    ],
)
def test_epoch_us_time(stamp: str, expected: datetime | None) -> None:
    when = epoch_us_time(stamp)
    assert when == expected
    if when is not None:
        assert when.tzinfo is UTC
        assert when.isoformat() == expected.isoformat()  # type: ignore[union-attr]


@given(st.integers(min_value=0, max_value=BEFORE_2100 - 1))
def test_cached_path_is_exact_and_matches_fromtimestamp(micros: int) -> None:
    stamp = f"{micros:016d}"
    when = epoch_us_time(stamp)
    assert when == EPOCH + timedelta(microseconds=micros)
    # The records' time before this cache: the same value, so no event changed.
    assert when == datetime.fromtimestamp(micros / 1e6, UTC)


def test_cache_stays_bounded() -> None:
    audit._ISO_SECONDS.clear()
    for second in range(audit._ISO_SECONDS_MAX + 10):
        assert epoch_us_time(f"{1_700_000_000 + second}000007") is not None
    assert 0 < len(audit._ISO_SECONDS) <= audit._ISO_SECONDS_MAX
