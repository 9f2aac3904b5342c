"""The raw archive writer against moto's S3: one object per range, bounded parts, metadata."""

from __future__ import annotations

import hashlib
import itertools
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from common.aws import AwsClients
from common.settings import Settings
from processor.sinks.s3_archive import RangeArchiver, decompress, read_archived_file

MiB = 1024 * 1024
LOG = b"2026-11-25T10:00:00.000000Z 12 [Note] [MY-010000] [Server] hello world\n"


@pytest.fixture
async def s3(settings: Settings) -> AsyncIterator[Any]:
    async with AwsClients(settings.aws).client("s3") as client:
        yield client


@pytest.fixture
async def bucket(s3: Any) -> str:
    name = "archive-" + uuid.uuid4().hex[:8]
    await s3.create_bucket(Bucket=name)
    return name


async def _get(s3: Any, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
    answer = await s3.get_object(Bucket=bucket, Key=key)
    async with answer["Body"] as body:
        return await body.read(), answer["Metadata"]


@pytest.mark.parametrize("kind", ["zst", "gz"])
async def test_a_small_range_is_one_put_with_its_sha256_and_event_count(
    s3: Any, bucket: str, kind: str
) -> None:
    data = LOG * 1000
    writer = RangeArchiver(s3, bucket, kind)
    for i in range(0, len(data), 777):
        await writer.write(data[i : i + 777])
    stored = await writer.close(f"raw/x.000000000000-{len(data):012d}.{kind}", events=1000)
    assert (stored.parts, stored.raw_bytes, stored.events) == (1, len(data), 1000)
    assert stored.stored_bytes < len(data) / 10  # log text compresses
    body, meta = await _get(s3, bucket, stored.key)
    assert decompress(kind, body) == data
    assert meta == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "events": "1000",
        "raw-bytes": str(len(data)),
    }


async def test_a_large_range_streams_as_parts_and_still_gets_its_metadata(
    s3: Any, bucket: str
) -> None:
    data = os.urandom(13 * MiB)  # incompressible: three 5 MiB parts
    writer = RangeArchiver(s3, bucket, "zst", part_bytes=5 * MiB)
    for i in range(0, len(data), MiB):
        await writer.write(data[i : i + MiB])
        assert len(writer._buffer) < 6 * MiB  # memory stays within a part
    stored = await writer.close("raw/big.000000000000-000013631488.zst", events=None)
    assert stored.parts == 3
    body, meta = await _get(s3, bucket, stored.key)
    assert decompress("zst", body) == data
    assert meta["sha256"] == hashlib.sha256(data).hexdigest() and "events" not in meta
    listed = await s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == [stored.key]  # the staging copy is gone


async def test_an_aborted_range_leaves_no_object_and_no_open_upload(s3: Any, bucket: str) -> None:
    writer = RangeArchiver(s3, bucket, "zst", part_bytes=5 * MiB)
    await writer.write(os.urandom(6 * MiB))
    await writer.abort()
    assert (await s3.list_multipart_uploads(Bucket=bucket)).get("Uploads", []) == []
    assert (await s3.list_objects_v2(Bucket=bucket)).get("KeyCount", 0) == 0
    with pytest.raises(RuntimeError, match="closed"):
        await writer.write(b"more")


async def test_a_retried_range_overwrites_the_same_object(s3: Any, bucket: str) -> None:
    key = "raw/i/error/dt=2026-11-25/f.log.000000000000-000000000073.zst"
    for _ in range(2):
        writer = RangeArchiver(s3, bucket, "zst")
        await writer.write(LOG)
        await writer.close(key, events=1)
    listed = await s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == [key]


@hsettings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(LOG) * 50), max_size=6))
async def test_ranges_read_back_in_offset_order_give_the_file(
    s3: Any, bucket: str, cuts: list[int]
) -> None:
    data = LOG * 50
    bounds = sorted({0, len(data), *cuts})
    prefix = f"raw/{uuid.uuid4().hex}/f.log"
    for start, end in itertools.pairwise(bounds):
        writer = RangeArchiver(s3, bucket, "zst")
        await writer.write(data[start:end])
        await writer.close(f"{prefix}.{start:012d}-{end:012d}.zst", events=0)
    ranges = await read_archived_file(s3, bucket, prefix)
    assert [(s, e) for s, e, _ in ranges] == list(itertools.pairwise(bounds))
    assert b"".join(chunk for _, _, chunk in ranges) == data
