"""What OpenObserve does to a record before it is stored: key and stream-name normalisation,
flattening, `_timestamp` parsing and the ingestion window.

Each rule follows the server's source (`flatten.rs`, `utils/time.rs`, `handle_timestamp`), as
summarised in `docs/reference/openobserve-api.md`; the messages are the server's, word for word,
because clients (ours included) match on them.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

TIMESTAMP_COL = "_timestamp"

# 1971-01-01T00:00:00Z: the magnitude of an integer against it tells its unit.
_BASE_SEC = 31_536_000
_BASE_MS = _BASE_SEC * 1_000
_BASE_US = _BASE_SEC * 1_000_000
_BASE_NS = _BASE_SEC * 1_000_000_000

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1

_STREAM_BAD_RUN = re.compile(r"[^a-zA-Z0-9_:]+")
_INT_TEXT = re.compile(r"^[+-]?[0-9]+$")
_FLOAT_TEXT = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_NAIVE_FRACTION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3}|\d{6})$")

FLATTEN_NOT_OBJECT = "flatten value must be an object"


class RecordError(ValueError):
    """A record the server counts as `failed`; `kind` is the `_bulk` error type."""

    def __init__(self, message: str, kind: str = "schema_conformance_failed") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Window:
    """`ZO_INGEST_ALLOWED_UPTO` / `ZO_INGEST_ALLOWED_IN_FUTURE`, in hours."""

    upto_hours: float = 5.0
    future_hours: float = 24.0

    def bounds(self, now_us: int) -> tuple[int, int]:
        return (
            now_us - int(self.upto_hours * 3_600_000_000),
            now_us + int(self.future_hours * 3_600_000_000),
        )

    def too_old_message(self) -> str:
        return (
            f"Too old data, only last {_hours(self.upto_hours)} hours data can be ingested. "
            "Data discarded. You can adjust ingestion max time by setting the environment "
            "variable ZO_INGEST_ALLOWED_UPTO=<max_hours>"
        )

    def too_far_message(self) -> str:
        return (
            f"Too far data, only future {_hours(self.future_hours)} hours data can be ingested. "
            "Data discarded. You can adjust ingestion max time by setting the environment "
            "variable ZO_INGEST_ALLOWED_IN_FUTURE=<max_hours>"
        )


def _hours(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def now_micros() -> int:
    return time.time_ns() // 1_000


# Keys repeat across records, so the normalised form of each is computed once.
_KEY_CACHE: dict[str, str] = {}
_KEY_CACHE_MAX = 100_000


def format_key(key: str) -> str:
    """`flatten.rs` `format_key`: ASCII is lower-cased and every ASCII character outside
    `[a-z0-9_]` becomes `_` (no collapsing); a key with any non-ASCII character is mapped
    character by character instead: lower-case letters and numerals are kept, upper-case
    letters lower-cased (`Über` -> `über`), anything else becomes `_`."""
    cached = _KEY_CACHE.get(key)
    if cached is not None:
        return cached
    if key.isascii():
        out = "".join(ch.lower() if (ch.isalnum() or ch == "_") else "_" for ch in key)
    else:
        out = "".join(_unicode_key_char(ch) for ch in key)
    if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
        _KEY_CACHE.clear()
    _KEY_CACHE[key] = out
    return out


def _unicode_key_char(ch: str) -> str:
    # Rust's char::is_lowercase / is_numeric / is_uppercase, then the first char of
    # to_lowercase(). An ASCII `_` is none of these and maps to itself.
    if ch.islower() or unicodedata.category(ch) in _NUMERIC:
        return ch
    if ch.isupper():
        return ch.lower()[0]
    return "_"


_NUMERIC = frozenset({"Nd", "Nl", "No"})


def format_stream_name(name: str) -> str:
    """Each run of characters outside `[a-zA-Z0-9_:]` becomes one `_`, then lower-cased."""
    return _STREAM_BAD_RUN.sub("_", name).lower()


def _to_json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def flatten(record: Any, max_level: int = 3) -> dict[str, Any]:
    """Flatten one record as `flatten.rs` does.

    Nested keys are joined with `_`; an object deeper than `max_level` (0 = unlimited) is kept as
    a JSON string, arrays become JSON strings, nulls, empty objects and empty arrays are dropped, and a
    later key that normalises to the same name overwrites the earlier one.
    """
    if not isinstance(record, dict):
        raise RecordError(FLATTEN_NOT_OBJECT)
    out: dict[str, Any] = {}
    _flatten_into(out, record, "", 1, max_level)
    return out


def _flatten_into(
    out: dict[str, Any], obj: dict[str, Any], prefix: str, depth: int, max_level: int
) -> None:
    # The hot loop of ingestion: plain type checks and the key cache, no isinstance chains.
    cached = _KEY_CACHE.get
    for raw_key, value in obj.items():
        key = cached(raw_key) or format_key(raw_key)
        if prefix:
            key = prefix + "_" + key
        kind = type(value)
        if kind is str or kind is float or kind is bool:
            out[key] = value
        elif kind is int:
            # serde_json without arbitrary precision reads out-of-range integers as f64.
            out[key] = value if _I64_MIN <= value <= _I64_MAX else float(value)
        elif value is None:
            continue
        elif kind is dict:
            if not value:
                continue
            if max_level > 0 and depth >= max_level:
                out[key] = _to_json_text(value)
            else:
                _flatten_into(out, value, key, depth + 1, max_level)
        elif kind is list:
            if value:  # an empty array is dropped, like an empty object
                out[key] = _to_json_text(value)
        else:
            out[key] = value


_SCALARS = frozenset({str, int, float, bool})
# Key tuples (in order) seen before: the index of `_timestamp` among them (-1 when absent) if
# every key is normalised already, None if one is not. Most records of a stream share one.
_SHAPES: dict[tuple[str, ...], int | None] = {}
_SHAPES_MAX = 10_000
_TS_KEY = (TIMESTAMP_COL,)
_UNSEEN = -2

Row = tuple[tuple[str, ...], tuple[Any, ...], int]
"""A prepared record as the store takes it: column names, values, and its `_timestamp` (µs)."""


def _shape(keys: tuple[str, ...]) -> int | None:
    shape: int | None = None
    if all(format_key(k) == k for k in keys):
        shape = keys.index(TIMESTAMP_COL) if TIMESTAMP_COL in keys else -1
    if len(_SHAPES) >= _SHAPES_MAX:
        _SHAPES.clear()
    _SHAPES[keys] = shape
    return shape


def int_to_micros(value: int, now_us: int) -> int:
    """The unit of an integer timestamp is guessed from its magnitude; zero means now."""
    if value == 0:
        return now_us
    if value > _BASE_NS:
        return value // 1_000 if value >= 0 else -((-value) // 1_000)
    if value > _BASE_US:
        return value
    if value > _BASE_MS:
        return value * 1_000
    return value * 1_000_000


def parse_timestamp(value: Any, now_us: int) -> int:
    """`_timestamp` to µs, by the server's rules; raises `RecordError` when it cannot."""
    if isinstance(value, bool):
        raise RecordError("Invalid time format [type]", "timestamp_parsing_failed")
    if isinstance(value, int):
        return int_to_micros(value, now_us)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise RecordError("Invalid time format [timestamp]", "timestamp_parsing_failed")
        return int_to_micros(int(value), now_us)  # truncation, as Rust's `as i64`
    if isinstance(value, str):
        return _parse_text(value, now_us)
    raise RecordError("Invalid time format [type]", "timestamp_parsing_failed")


def _parse_text(text: str, now_us: int) -> int:
    if _INT_TEXT.match(text):
        number = int(text)
        if _I64_MIN <= number <= _I64_MAX:
            return int_to_micros(number, now_us)
    if _FLOAT_TEXT.match(text):
        return int_to_micros(int(float(text)), now_us)
    try:
        return _parse_time_text(text)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecordError("invalid time format [string]", "timestamp_parsing_failed") from exc


def _micros(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _parse_time_text(text: str) -> int:
    if " " in text and len(text) == 19:
        return _micros(datetime.strptime(text, "%Y-%m-%d %H:%M:%S"))
    if "T" in text and " " not in text:
        if len(text) == 19:
            return _micros(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S"))
        naive = _NAIVE_FRACTION.match(text)
        if naive:
            return _micros(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f"))
        return _parse_rfc3339(text)
    parsed = parsedate_to_datetime(text)
    if parsed is None:
        raise ValueError(text)
    return _micros(parsed)


def _parse_rfc3339(text: str) -> int:
    match = _RFC3339.match(text)
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7) or ""
    zone = match.group(8)
    micros = int((fraction[1:] + "000000")[:6]) if fraction else 0
    base = datetime(year, month, day, hour, minute, min(second, 59), micros, tzinfo=UTC)
    offset = 0
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return _micros(base) - offset * 1_000_000


def prepare(record: Any, window: Window, now_us: int, flatten_level: int = 3) -> dict[str, Any]:
    """Flatten a record and set its `_timestamp` (µs), or raise `RecordError` (counted failed)."""
    return Preparer(window, now_us, flatten_level)(record)


class Preparer:
    """`prepare` for the records of one request (same clock reading and window bounds)."""

    def __init__(self, window: Window, now_us: int, flatten_level: int = 3) -> None:
        self.window = window
        self.now_us = now_us
        self.level = flatten_level
        self.low, self.high = window.bounds(now_us)
        # An integer in here is a µs timestamp inside the window, kept as it is.
        self._fast_low = max(self.low, _BASE_US + 1)
        self._fast_high = min(self.high, _BASE_NS)

    def __call__(self, record: Any) -> dict[str, Any]:
        if type(record) is not dict:
            raise RecordError(FLATTEN_NOT_OBJECT)
        row: dict[str, Any] = {}
        _flatten_into(row, record, "", 1, self.level)
        row[TIMESTAMP_COL] = self._stamp(row.get(TIMESTAMP_COL))
        return row

    def row(self, record: Any) -> Row:
        """What `__call__` does, as the store's `Row`, without building an intermediate dict
        for the common record: flat, of normalised keys and scalar values (out-of-range
        integers there are left to the store, which converts them as serde does)."""
        if type(record) is dict:
            keys = tuple(record)
            at = _SHAPES.get(keys, _UNSEEN)
            if at == _UNSEEN:
                at = _shape(keys)
            if at is not None:
                values = tuple(record.values())
                if _SCALARS.issuperset(map(type, values)):
                    if at < 0:
                        ts = self._stamp(None)
                        return keys + _TS_KEY, (*values, ts), ts
                    raw = values[at]
                    if type(raw) is int and self._fast_low <= raw <= self._fast_high:
                        return keys, values, raw  # µs inside the window: stored as sent
                    ts = self._stamp(raw)
                    if ts is not raw:
                        values = (*values[:at], ts, *values[at + 1 :])
                    return keys, values, ts
        row = self(record)
        return tuple(row), tuple(row.values()), row[TIMESTAMP_COL]

    def _stamp(self, raw: Any) -> int:
        if raw is None:
            ts = self.now_us
        elif type(raw) is int and raw > _BASE_US and raw <= _BASE_NS:
            ts = raw  # already µs: the common case, no conversion
        else:
            ts = parse_timestamp(raw, self.now_us)
        if ts < self.low:
            raise RecordError(self.window.too_old_message(), "timestamp_parsing_failed")
        if ts > self.high:
            raise RecordError(self.window.too_far_message(), "timestamp_parsing_failed")
        return ts
