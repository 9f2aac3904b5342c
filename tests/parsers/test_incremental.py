"""The incremental interface: chunking independence, offsets, boundaries, limits, bad input."""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.parsers import LOG_TYPES, last_entry_boundary, parser_for
from tests.parsers.generate import WRITERS
from tests.parsers.helpers import as_records, parse_all, sample

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _generated(log_type: str) -> bytes:
    buf = io.BytesIO()
    WRITERS[log_type](buf, 6000, seed=3)
    return buf.getvalue()


INPUTS = {t: sample(t) + _generated(t) for t in LOG_TYPES}
REFERENCE = {t: as_records(parse_all(t, data)) for t, data in INPUTS.items()}


def _feed_cut(log_type: str, data: bytes, cuts: list[int]) -> list[dict[str, object]]:
    parser = parser_for(log_type)
    events = []
    prev = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += parser.feed(data[prev:cut])
        prev = cut
    events += parser.flush()
    return as_records(events)


@pytest.mark.parametrize("log_type", LOG_TYPES)
@SETTINGS
@given(data=st.data())
def test_events_do_not_depend_on_chunking(log_type: str, data: st.DataObject) -> None:
    raw = INPUTS[log_type]
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=40))
    assert _feed_cut(log_type, raw, cuts) == REFERENCE[log_type]


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_byte_by_byte_equals_one_shot(log_type: str) -> None:
    raw = sample(log_type)
    assert as_records(parse_all(log_type, raw, chunk=1)) == as_records(parse_all(log_type, raw))


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_cut_inside_a_utf8_character(log_type: str) -> None:
    raw = sample(log_type) + "é日本\n".encode() * 3
    positions = [i for i in range(len(raw)) if raw[i] >= 0x80]
    cuts = [p + 1 for p in positions if raw[p + 1 : p + 2] and raw[p + 1] >= 0x80]
    assert cuts, "the input must have multi-byte characters to cut"
    assert _feed_cut(log_type, raw, cuts) == as_records(parse_all(log_type, raw))


@pytest.mark.parametrize("log_type", LOG_TYPES)
@SETTINGS
@given(blob=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_random_bytes_never_raise_and_lose_nothing(
    log_type: str, blob: bytes, cuts: list[int]
) -> None:
    parser = parser_for(log_type)
    prev = 0
    events = []
    for cut in [*sorted(c for c in set(cuts) if c <= len(blob)), len(blob)]:
        events += parser.feed(blob[prev:cut])
        prev = cut
    events += parser.flush()
    assert parser.stats.internal_errors == 0
    assert all(a.end <= b.start for a, b in itertools.pairwise(events))
    assert all(e.start < e.end for e in events)
    # Every byte is in exactly one event, a skipped header line, or a blank line between entries.
    covered = sum(e.end - e.start for e in events)
    skipped = parser.stats.skipped_header_bytes + parser.stats.blank_bytes
    assert covered + skipped == len(blob)
    assert parser.committed_offset == len(blob)


SOUP = [line for t in LOG_TYPES for line in sample(t).split(b"\n")] + [
    b"",
    b"#",
    b"# Query_time: x  Lock_time:",
    b"SET timestamp=notanumber;",
    b"SELECT 'unterminated",
    b"\tcontinued",
    b"1,2,3,4,5,6,7,8",
    b"\xff\xfe bad utf8",
    "é日本".encode(),
]


@pytest.mark.parametrize("log_type", LOG_TYPES)
@SETTINGS
@given(
    lines=st.lists(st.sampled_from(SOUP), max_size=30),
    cuts=st.lists(st.integers(0, 4000), max_size=8),
    limit=st.sampled_from([7, 40, 1 << 20]),
)
def test_line_soup_is_chunking_independent_and_loses_nothing(
    log_type: str, lines: list[bytes], cuts: list[int], limit: int
) -> None:
    raw = b"\n".join(lines)
    whole = parser_for(log_type, 0, limit)
    reference = whole.feed(raw) + whole.flush()
    parser = parser_for(log_type, 0, limit)
    events = []
    prev = 0
    for cut in [*sorted(c for c in set(cuts) if c <= len(raw)), len(raw)]:
        events += parser.feed(raw[prev:cut])
        prev = cut
    events += parser.flush()
    assert as_records(events) == as_records(reference)
    assert parser.stats.internal_errors == 0
    covered = sum(e.end - e.start for e in events)
    skipped = parser.stats.skipped_header_bytes + parser.stats.blank_bytes
    assert covered + skipped == len(raw)


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_base_offset_shifts_every_range(log_type: str) -> None:
    raw = INPUTS[log_type]
    plain = parse_all(log_type, raw)
    shifted = parse_all(log_type, raw, base_offset=1_000_000)
    assert [(e.start + 1_000_000, e.end + 1_000_000) for e in plain] == [
        (e.start, e.end) for e in shifted
    ]


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_resuming_at_the_boundary_gives_the_same_events(log_type: str) -> None:
    raw = INPUTS[log_type]
    whole = as_records(parse_all(log_type, raw))
    for cut in (len(raw) // 3, len(raw) // 2, len(raw) - 100):
        boundary = last_entry_boundary(log_type, raw[:cut])
        assert 0 < boundary <= cut
        parser = parser_for(log_type)
        parser.feed(raw[:cut])
        assert parser.committed_offset == boundary
        # What the processor checkpoints beside the offset (the slow log's carried database).
        state = parser.resume_state()
        first = parse_all(log_type, raw[:boundary])
        second = parse_all(log_type, raw[boundary:], base_offset=boundary, state=state)
        assert as_records(first + second) == whole
        assert any(r["offset"] == boundary for r in whole)


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_resuming_anywhere_in_the_sample_with_its_state_gives_the_same_events(
    log_type: str,
) -> None:
    """Every committed offset a cut can produce, not three: carried state (the slow log's
    database, the general log's time for lines without one) must travel in `resume_state`."""
    raw = sample(log_type)
    whole = as_records(parse_all(log_type, raw))
    resumed = 0
    for cut in [*range(1, len(raw), 23), len(raw)]:
        parser = parser_for(log_type)
        parser.feed(raw[:cut])
        boundary = parser.committed_offset
        if boundary == 0:
            continue
        first = parse_all(log_type, raw[:boundary])
        second = parse_all(
            log_type, raw[boundary:], base_offset=boundary, state=parser.resume_state()
        )
        assert as_records(first + second) == whole, f"resumed at {boundary}"
        resumed += 1
    assert resumed > 10


def test_boundary_never_splits_a_multi_line_entry() -> None:
    raw = sample("slowquery")
    inside = raw.index(b"  JOIN customers")
    boundary = last_entry_boundary("slowquery", raw[:inside])
    assert raw[boundary:].startswith(b"# Time: 2024-01-03T07:15:39")


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_long_line_is_truncated_and_flagged_but_its_bytes_are_covered(log_type: str) -> None:
    long_line = b"x" * 5000
    raw = long_line + b"\n" + sample(log_type)
    for chunk in (0, 333):
        parser = parser_for(log_type, 0, max_line_bytes=1000)
        events = []
        if chunk:
            for i in range(0, len(raw), chunk):
                events += parser.feed(raw[i : i + chunk])
        else:
            events += parser.feed(raw)
        events += parser.flush()
        first = events[0]
        assert first.fields.get("truncated") is True
        assert first.start == 0
        assert first.end >= 5001
        assert parser.stats.truncated_lines == 1
        text = " ".join(str(v) for v in first.fields.values())
        assert "x" * 1000 in text
        assert "x" * 1001 not in text


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_unterminated_long_last_line_is_truncated_at_flush(log_type: str) -> None:
    parser = parser_for(log_type, 0, max_line_bytes=100)
    events = parser.feed(b"y" * 250) + parser.feed(b"y" * 250) + parser.flush()
    assert len(events) == 1
    assert events[0].fields.get("truncated") is True
    assert (events[0].start, events[0].end) == (0, 500)


def test_invalid_utf8_is_replaced_and_flagged() -> None:
    raw = (
        b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-010116] [Server] bad \xff\xfe bytes\n"
        b"2023-11-28T09:13:23.104678Z 0 [Note] [MY-010116] [Server] good \xc3\xa9\n"
    )
    bad, good = parse_all("error", raw)
    assert bad.fields["invalid_utf8"] is True
    assert bad.fields["message"] == "bad \ufffd\ufffd bytes"
    assert "invalid_utf8" not in good.fields
    assert good.fields["message"] == "good é"
