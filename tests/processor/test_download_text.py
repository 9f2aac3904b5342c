"""Pure pieces of the download: a `.gz` file's complete download read as its text however the
stream is chunked (processor/download/complete.py `text_of`), and the generation a portion
marker's segment names (common/log_files.py `generation_of_marker`)."""

from __future__ import annotations

import asyncio
import gzip
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.log_files import generation_of, generation_of_marker
from processor.download.complete import text_of
from processor.download.errors import ServerError

LINE = b"2026-11-23 09:00:01 UTC:10.0.2.55(57562):app@db:[29735]:LOG:  duration: 1.5 ms\n"


async def _chunks(data: bytes, sizes: list[int]) -> AsyncIterator[bytes]:
    i = 0
    for n in sizes:
        if i >= len(data):
            break
        yield data[i : i + n]
        i += n
    if i < len(data):
        yield data[i:]


def _read(data: bytes, sizes: list[int], out: int) -> bytes:
    async def run() -> bytes:
        return b"".join([c async for c in text_of(_chunks(data, sizes), out)])

    return asyncio.run(run())


@settings(max_examples=30, deadline=None)
@given(
    lines=st.integers(min_value=0, max_value=3000),
    members=st.integers(min_value=1, max_value=3),
    sizes=st.lists(st.integers(min_value=1, max_value=70_000), min_size=1, max_size=20),
    out=st.sampled_from([7, 4096, 65536]),
)
def test_gzip_bytes_read_as_their_text_however_chunked(
    lines: int, members: int, sizes: list[int], out: int
) -> None:
    text = LINE * lines
    cut = [len(text) * k // members for k in range(members + 1)]
    data = b"".join(gzip.compress(text[a:b]) for a, b in itertools.pairwise(cut))
    assert _read(data, sizes, out) == text
    assert _read(text, sizes, out) == text  # bytes that are not gzip pass as they are


def test_gzip_cut_short_or_damaged_is_an_error() -> None:
    data = gzip.compress(LINE * 500)
    with pytest.raises(ServerError, match="ended in the middle"):
        _read(data[:-20], [100], 1 << 20)
    with pytest.raises(ServerError, match="damaged"):
        _read(data[:20] + b"\x00" * 200 + data[220:], [1000], 1 << 20)


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_the_generation_a_marker_names() -> None:
    slow = "slowquery/mysql-slowquery.log"
    last = _ms("2026-11-23T09:55:00")
    own = generation_of(slow, last, 100).key
    assert generation_of_marker(slow, "9:4096", last) == own
    assert generation_of_marker(slow, "10:12", last) != own  # the next hour's file
    assert generation_of_marker(slow, "0", last) is None  # a segment's end names no hour
    error = "error/mysql-error-running.log"
    assert generation_of_marker(error, "2026-11-23.9:0", last) == generation_of(error, last, 1).key
    late = _ms("2026-11-23T23:59:00")
    assert generation_of_marker(slow, "0:5", late) != generation_of(slow, late, 1).key
    assert generation_of_marker("error/postgresql.log.2026-11-23-0900", "9:1", last) is None
