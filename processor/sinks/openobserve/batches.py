"""Events as the OpenObserve client carries them: validated, JSON-encoded once, and cut into
batches bounded by uncompressed bytes (the body is a JSON array, as `_json` expects).

`Accumulator` is the one place that decides where a batch ends; `ship`, `ship_encoded` and the
time-bounded buffer all cut through it.
"""

from __future__ import annotations

import gzip
import json
import json.encoder
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from processor.sinks.openobserve.errors import InvalidEvent

_STREAM_BAD_RUN = re.compile(r"[^a-zA-Z0-9_:]+")
# Built once: `json.dumps` with options makes a new encoder per call, which doubles the cost.
# NaN/Infinity are refused because the server's JSON parser would fail the whole request.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _not_serialisable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _c_encoder() -> Callable[[Any], str]:
    """`_ENCODER.encode` without its per-call set-up (it builds a C encoder on every call):
    the C encoder is built once. Without the circular-reference markers (a shared dict would
    keep stale entries after a failed call), so a cycle is a `RecursionError`."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (another interpreter)
        return _ENCODER.encode
    encoder = make(
        None, _not_serialisable, json.encoder.encode_basestring_ascii, None, ":", ",",
        False, False, False,
    )  # fmt: skip

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


_encode = _c_encoder()


class Encoded(NamedTuple):
    """One event, its identity and its JSON bytes (what is sent, verbatim)."""

    event_id: str
    batch_id: str
    timestamp_us: int
    body: bytes
    event: Mapping[str, Any]


def normalise_stream(name: str) -> str:
    """The stream name as the server stores it (each run of odd characters -> `_`, lower case)."""
    return _STREAM_BAD_RUN.sub("_", name).lower()


def encode(event: Mapping[str, Any]) -> Encoded:
    """Validate and encode one event; raises `InvalidEvent` saying what is wrong."""
    if type(event) is not dict and not isinstance(event, Mapping):
        raise InvalidEvent(f"an event must be a mapping, got {type(event).__name__}")
    event_id = event.get("event_id")
    batch_id = event.get("batch_id")
    ts = event.get("_timestamp")
    if not isinstance(event_id, str) or not event_id:
        raise InvalidEvent("event_id must be a non-empty string")
    if not isinstance(batch_id, str) or not batch_id:
        raise InvalidEvent(f"event {event_id}: batch_id must be a non-empty string")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise InvalidEvent(f"event {event_id}: _timestamp must be an integer (µs)")
    try:
        text = _encode(event)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidEvent(f"event {event_id}: not JSON-serialisable: {exc}") from exc
    return Encoded(event_id, batch_id, ts, text.encode("ascii"), event)


def with_timestamp(item: Encoded, timestamp_us: int) -> Encoded:
    """A copy of the event with another `_timestamp` (the caller's dict is left untouched)."""
    event = dict(item.event)
    event["_timestamp"] = timestamp_us
    return encode(event)


class Accumulator:
    """Events waiting to be sent, and where the current batch must end: `add` returns the
    batch that `item` would have pushed over `max_bytes` (to be sent), else None. A lone big
    event still makes a batch of its own: the server decides with a 413."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.items: list[Encoded] = []
        self.size = 2  # the brackets

    def __len__(self) -> int:
        return len(self.items)

    def add(self, item: Encoded) -> list[Encoded] | None:
        full = None
        extra = len(item.body) + (1 if self.items else 0)
        if self.items and self.size + extra > self.max_bytes:
            full = self.take()
            extra = len(item.body)
        self.items.append(item)
        self.size += extra
        return full

    def take(self) -> list[Encoded]:
        """The batch so far (possibly empty); the accumulator starts a new one."""
        items, self.items, self.size = self.items, [], 2
        return items


def cut(items: Iterable[Encoded], max_bytes: int) -> Iterator[list[Encoded]]:
    """Consecutive batches whose JSON array stays within `max_bytes`."""
    accumulator = Accumulator(max_bytes)
    for item in items:
        full = accumulator.add(item)
        if full:
            yield full
    if accumulator:
        yield accumulator.take()


def payload(items: Sequence[Encoded]) -> bytes:
    return b"[" + b",".join([item.body for item in items]) + b"]"


def compress(body: bytes, level: int) -> bytes:
    return gzip.compress(body, compresslevel=level, mtime=0)
