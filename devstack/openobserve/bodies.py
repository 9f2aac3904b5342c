"""Request bodies of the ingestion routes: decompression under the payload limit, and parsing of
`_json`, `_multi` and `_bulk` payloads.

Parsing is all-or-nothing, like the server: one bad line anywhere is a 400 for the whole request
and nothing is written.
"""

from __future__ import annotations

import io
import json
import zlib
from dataclasses import dataclass
from typing import Any

import brotli
import zstandard

from devstack.openobserve.ingest import format_stream_name


class PayloadTooLarge(Exception):
    """The (decompressed) body is over the payload limit: 413."""


class UnsupportedEncoding(Exception):
    """A `Content-Encoding` the server does not decode: 415."""


class BadBody(Exception):
    """The body cannot be decoded or parsed: 400 for the whole request."""


SUPPORTED_ENCODINGS = ("gzip", "x-gzip", "deflate", "zstd", "br", "identity")


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo `Content-Encoding` (possibly a list, applied in order) without exceeding `limit`."""
    if len(body) > limit:
        raise PayloadTooLarge
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding not in SUPPORTED_ENCODINGS:
            raise UnsupportedEncoding(coding)
        if coding in ("gzip", "x-gzip"):
            body = _zlib(body, 31, limit)
        elif coding == "deflate":
            try:
                body = _zlib(body, 15, limit)
            except BadBody:
                body = _zlib(body, -15, limit)  # some clients send raw deflate
        elif coding == "zstd":
            body = _zstd(body, limit)
        elif coding == "br":
            body = _brotli(body, limit)
    return body


def _zlib(data: bytes, wbits: int, limit: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BadBody(f"Failed to buffer the request body: {exc}") from exc
    if len(out) > limit or decoder.unconsumed_tail:
        raise PayloadTooLarge
    if not decoder.eof:
        raise BadBody("Failed to buffer the request body: truncated compressed stream")
    return out


def _zstd(data: bytes, limit: int) -> bytes:
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
        out: bytes = reader.read(limit + 1)
    except zstandard.ZstdError as exc:
        raise BadBody(f"Failed to buffer the request body: {exc}") from exc
    if len(out) > limit:
        raise PayloadTooLarge
    return out


def _brotli(data: bytes, limit: int) -> bytes:
    decoder = brotli.Decompressor()
    try:
        out: bytes = decoder.process(data, output_buffer_limit=limit + 1)
    except brotli.error as exc:
        raise BadBody(f"Failed to buffer the request body: {exc}") from exc
    if len(out) > limit:
        raise PayloadTooLarge
    if not decoder.is_finished():
        raise BadBody("Failed to buffer the request body: truncated compressed stream")
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: bytes | str) -> Any:
    """Strict JSON (no NaN/Infinity, as serde_json); raises `BadBody` with serde's prefix."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadBody(f"SerdeJsonError# {exc}") from exc


def parse_json_records(body: bytes) -> list[Any]:
    """`_json`: an array of records, or one record. Any other JSON value is one record too, which
    then fails as "flatten value must be an object" (HTTP 200, `failed: 1`), as on the server."""
    if not body.strip():
        raise BadBody("SerdeJsonError# EOF while parsing a value at line 1 column 0")
    value = loads(body)
    return value if isinstance(value, list) else [value]


def parse_multi_records(body: bytes) -> list[Any]:
    """`_multi`: NDJSON, blank lines skipped."""
    return [loads(line) for line in body.splitlines() if line.strip()]


@dataclass
class BulkDoc:
    action: str
    stream: str
    doc_id: str
    record: Any


_BULK_ACTIONS = ("index", "create", "update")


def parse_bulk(body: bytes) -> list[BulkDoc]:
    """Elasticsearch `_bulk`: action line then document line; actions without `_index` skip."""
    docs: list[BulkDoc] = []
    lines = [line for line in body.splitlines() if line.strip()]
    expecting: tuple[str, str, str] | None = None
    skipping = False
    for line in lines:
        value = loads(line)
        if expecting is None and not skipping:
            action, meta = _bulk_action(value)
            index = meta.get("_index") if isinstance(meta, dict) else None
            if action == "delete":
                continue
            if not isinstance(index, str) or not index:
                skipping = True
                continue
            doc_id = meta.get("_id") if isinstance(meta, dict) else None
            expecting = (action, format_stream_name(index), str(doc_id or ""))
            continue
        if skipping:
            skipping = False
            continue
        assert expecting is not None
        action, stream, doc_id = expecting
        if action == "update" and isinstance(value, dict) and isinstance(value.get("doc"), dict):
            value = value["doc"]
        docs.append(BulkDoc(action, stream, doc_id, value))
        expecting = None
    return docs


def _bulk_action(value: Any) -> tuple[str, Any]:
    if isinstance(value, dict) and len(value) == 1:
        action, meta = next(iter(value.items()))
        if action in (*_BULK_ACTIONS, "delete"):
            return action, meta
    raise BadBody("SerdeJsonError# bulk action line must be one of index, create, update, delete")
