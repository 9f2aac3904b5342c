"""`Preparer.row`, the ingest fast path, against `prepare` (the reference rules): the same columns,
values and `_timestamp` for every record, or the same `RecordError`."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devstack.openobserve.ingest import Preparer, RecordError, Row, Window, prepare

NOW = 1_763_900_000_000_000  # 2025-11-23T12:13:20Z in µs
HOUR = 3_600_000_000
WINDOW = Window()


def _i64(value: Any) -> Any:
    # The fast path leaves out-of-range integers to the store, which converts them like this.
    if type(value) is int and not (-(2**63) <= value < 2**63):
        return float(value)
    return value


def _reference(record: Any) -> Row | str:
    try:
        row = prepare(record, WINDOW, NOW)
    except RecordError as exc:
        return f"{exc.kind}: {exc}"
    return tuple(row), tuple(row.values()), row["_timestamp"]


def _fast(record: Any, preparer: Preparer | None = None) -> Row | str:
    try:
        keys, values, ts = (preparer or Preparer(WINDOW, NOW)).row(record)
    except RecordError as exc:
        return f"{exc.kind}: {exc}"
    return keys, tuple(map(_i64, values)), ts


@pytest.mark.parametrize(
    "record",
    [
        {"_timestamp": NOW - HOUR, "msg": "flat, µs", "n": 1, "ok": True, "q": 1.5},
        {"msg": "no timestamp"},
        {"_timestamp": (NOW - HOUR) // 1000, "msg": "ms"},
        {"_timestamp": "2025-11-23T11:00:00Z", "msg": "text"},
        {"_timestamp": NOW - 6 * HOUR, "msg": "too old"},
        {"_timestamp": NOW + 25 * HOUR, "msg": "too far"},
        {"_timestamp": True, "msg": "bool"},
        {"_timestamp": NOW, "big": 2**70, "neg": -(2**70)},
        {"Query_Time": 1.5, "a.b": "x", "_timestamp": NOW},
        {"nested": {"a": {"b": {"c": 1}}}, "list": [1, 2], "none": None, "_timestamp": NOW},
        {"@timestamp": NOW - HOUR},
        {"_timestamp": 0},
        {},
        "not an object",
        [1, 2],
    ],
)
def test_row_matches_prepare(record: Any) -> None:
    assert _fast(record) == _reference(record)


_keys = st.sampled_from(["_timestamp", "msg", "Msg", "a.b", "a_b", "@timestamp", "n", "x y"])
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.integers(NOW - 6 * HOUR, NOW + 25 * HOUR)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_keys, inner, max_size=2),
    max_leaves=6,
)


@given(st.dictionaries(_keys, _values, max_size=6))
def test_row_matches_prepare_for_any_record(record: dict[str, Any]) -> None:
    assert _fast(record) == _reference(record)


@given(st.lists(st.dictionaries(_keys, _scalars, max_size=5), max_size=5))
def test_row_is_stable_across_records_of_one_shape(records: list[dict[str, Any]]) -> None:
    """The shape cache must not carry one record's answer over to another of the same keys."""
    preparer = Preparer(WINDOW, NOW)
    for record in records:
        assert _fast(record, preparer) == _reference(record)
