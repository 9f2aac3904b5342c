"""The raw archive: one S3 object per file range, compressed as it streams, memory bounded.

Why this shape (docs/design.md §3, §5):

* **Deterministic keys** (`s3_keys.archive_key`): a retried upload of the same range overwrites
  the same object, so an archive write is idempotent and needs no intent of its own.
* **Bounded memory.** Compressed bytes accumulate up to one part (`part_bytes`); a range whose
  compressed size stays under it is one PutObject, a bigger one becomes a multipart upload whose
  parts leave as they fill. Nothing ever holds a whole file.
* **sha256 and event count in the object's metadata, end offset in its key.** S3 fixes the key
  and the metadata when an upload starts, and a streamed range knows its end, digest and count
  only at its end. A single-part object is one PutObject under its final key. A multipart
  object is uploaded under a staging key (`{prefix}staging/…`, which the bucket's lifecycle rule
  expires) and then copied server-side to its final key with its metadata — one request, no
  bytes through us — and the staging object deleted. The archive cursor moves only after the
  final object exists, so an object without its metadata is never "archived".
* **Every failed attempt is counted**, not only the calls that fail after botocore's retries:
  a 500/503 or a reset that botocore retried away is invisible to the caller, and an S3 having
  a bad hour must show on the dashboard before the retries run out
  (`aurora_processor_s3_failures_total`).
"""

from __future__ import annotations

import hashlib
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
import zstandard
from botocore import xform_name
from botocore.exceptions import ClientError

from processor import metrics

log = structlog.get_logger(__name__)

PART_BYTES = 8 * 1024 * 1024  # S3's minimum part is 5 MiB; 8 keeps requests few and memory low


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


def _compressor(kind: str) -> _Compressor:
    if kind == "zst":
        compressor: _Compressor = zstandard.ZstdCompressor(level=3).compressobj()
        return compressor
    if kind == "gz":
        return zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip member
    raise ValueError(f"unknown archive compression {kind!r}; expected zst or gz")


def decompress(kind: str, data: bytes) -> bytes:
    """The raw bytes of an archive object (tests, `verify`)."""
    if kind == "zst":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    if kind == "gz":
        return zlib.decompress(data, 31)
    raise ValueError(f"unknown archive compression {kind!r}")


@dataclass(frozen=True)
class ArchivedObject:
    """What one range became in S3."""

    key: str
    raw_bytes: int
    stored_bytes: int
    sha256: str
    events: int
    parts: int
    seconds: float


def count_failed_attempts(s3: Any) -> None:
    """Count every failed attempt of the client's requests (botocore retries them unseen).

    Registered once per client (botocore ignores a second registration of the same id)."""
    s3.meta.events.register(
        "needs-retry.s3", _count_failed_attempt, unique_id="aurora-s3-failed-attempts"
    )


def _count_failed_attempt(
    response: Any = None, operation: Any = None, caught_exception: Any = None, **_: Any
) -> None:
    status = response[0].status_code if response is not None else 0
    if caught_exception is None and status < 500:
        return None  # a success, or a 4xx the caller decides on (it is counted in `_call`)
    name = xform_name(operation.name) if operation is not None else "unknown"
    metrics.S3_FAILURES.labels(name).inc()
    log.info("s3_attempt_failed", operation=name, status=status, error=repr(caught_exception))
    return None


class RangeArchiver:
    """Streams one range's raw bytes into one compressed S3 object.

    `write` the bytes in order, then `close(key, events)` — the key holds the range's end, known
    only now; on any failure call `abort` (an open multipart upload costs storage until the
    bucket's lifecycle rule removes it).
    """

    def __init__(
        self,
        s3: Any,
        bucket: str,
        compression: str,
        staging_prefix: str = "staging/",
        part_bytes: int = PART_BYTES,
        extra_metadata: dict[str, str] | None = None,
    ) -> None:
        if part_bytes < 5 * 1024 * 1024:
            raise ValueError("S3 parts are at least 5 MiB")
        self._s3 = s3
        count_failed_attempts(s3)
        self.bucket = bucket
        self._staging_key = f"{staging_prefix}{uuid.uuid4().hex}.{compression}"
        self._compression = compression
        self._compressor = _compressor(compression)
        self._part_bytes = part_bytes
        self._metadata = dict(extra_metadata or {})
        self._sha = hashlib.sha256()
        self._raw = 0
        self._stored = 0
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._started = time.monotonic()
        self._closed = False

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise RuntimeError(f"archive object {self._staging_key} is already closed")
        self._sha.update(data)
        self._raw += len(data)
        self._buffer += self._compressor.compress(data)
        if len(self._buffer) >= self._part_bytes:
            await self._upload_part()

    @property
    def raw_bytes(self) -> int:
        """Raw bytes written so far."""
        return self._raw

    async def close(self, key: str, events: int | None) -> ArchivedObject:
        """Finish the object under `key` with its metadata; returns what was stored.

        `events` is None when this pass did not parse the bytes (they were shipped while the
        file was active): the metadata then has no event count rather than a wrong one."""
        self._closed = True
        self._buffer += self._compressor.flush()
        metadata = {
            **self._metadata,
            "sha256": self._sha.hexdigest(),
            "raw-bytes": str(self._raw),
        }
        if events is not None:
            metadata["events"] = str(events)
        if self._upload_id is None:
            body = bytes(self._buffer)
            await self._call(
                "put_object", Bucket=self.bucket, Key=key, Body=body, Metadata=metadata
            )
            self._stored = len(body)
        else:
            if self._buffer:
                await self._upload_part()
            await self._call(
                "complete_multipart_upload",
                Bucket=self.bucket,
                Key=self._staging_key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
            self._upload_id = None
            await self._call(
                "copy_object",
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": self._staging_key},
                Metadata=metadata,
                MetadataDirective="REPLACE",
            )
            await self._call("delete_object", Bucket=self.bucket, Key=self._staging_key)
        self._buffer = bytearray()
        return ArchivedObject(
            key=key,
            raw_bytes=self._raw,
            stored_bytes=self._stored,
            sha256=metadata["sha256"],
            events=events if events is not None else -1,
            parts=max(1, len(self._parts)),
            seconds=time.monotonic() - self._started,
        )

    async def abort(self) -> None:
        self._closed = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            await self._call(
                "abort_multipart_upload",
                Bucket=self.bucket,
                Key=self._staging_key,
                UploadId=self._upload_id,
            )
            self._upload_id = None

    async def _call(self, operation: str, **kwargs: Any) -> Any:
        """One S3 request, timed and counted (`aurora_processor_s3_*`); failures re-raised."""
        metrics.S3_REQUESTS.labels(operation).inc()
        started = time.monotonic()
        try:
            return await getattr(self._s3, operation)(**kwargs)
        except ClientError as exc:
            if int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) < 500:
                metrics.S3_FAILURES.labels(operation).inc()  # a 5xx was counted per attempt
            raise
        finally:
            metrics.S3_REQUEST_SECONDS.labels(operation).observe(time.monotonic() - started)

    async def _upload_part(self) -> None:
        if self._upload_id is None:
            started = await self._call(
                "create_multipart_upload", Bucket=self.bucket, Key=self._staging_key
            )
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        body = bytes(self._buffer)
        answer = await self._call(
            "upload_part",
            Bucket=self.bucket,
            Key=self._staging_key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"ETag": answer["ETag"], "PartNumber": number})
        self._stored += len(body)
        self._buffer = bytearray()


async def read_archived_file(s3: Any, bucket: str, key_prefix: str) -> list[tuple[int, int, bytes]]:
    """Every archived range under `key_prefix` (one file's objects), decompressed, by offset.

    Returns `(start, end, raw bytes)`; the caller checks that the ranges tile the file.
    """
    found: list[tuple[int, int, bytes]] = []
    paginator = s3.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=key_prefix):
        for listed in page.get("Contents", []):
            key: str = listed["Key"]
            stem, kind = key.rsplit(".", 1)
            span = stem.rsplit(".", 1)[-1]
            start_text, end_text = span.split("-")
            answer = await s3.get_object(Bucket=bucket, Key=key)
            async with answer["Body"] as body:
                data = await body.read()
            found.append((int(start_text), int(end_text), decompress(kind, data)))
    return sorted(found)
