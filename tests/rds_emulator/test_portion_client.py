"""The processor's DownloadDBLogFilePortion reader (processor/download/portions.py) against the
emulator: it must deliver the ground truth byte for byte under the realistic profile and under
each quirk alone at a high rate, resume from any page it gave, and report what it cannot read."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devstack.rds.errors import BINARY_DATA_MESSAGE as BINARY
from processor.download import EndReason, Page, Position, Tail, read_portions
from processor.download.errors import (
    BinaryData,
    DownloadError,
    FileVanished,
    InstanceNotFound,
    InstanceNotReady,
    LineTooLong,
    MarkerGap,
    RdsError,
    ServerError,
    Stalled,
    Throttled,
    UnexpectedAnswer,
    error_for,
)
from processor.download.portions import marker_offset
from tests.rds_emulator.conftest import Busy, RdsServer, listed_names, read_file

SLOW = "slowquery/mysql-slowquery.log"

# Each quirk of the emulator on its own, at a rate high enough that every read meets it often.
QUIRKS: dict[str, dict[str, Any]] = {
    "pending_false_early": {"enabled": True, "rate": 0.7},
    "pending_false_after_truncation": {"enabled": True},
    "pending_omitted": {"enabled": True, "rate": 1.0},
    "empty_page": {"enabled": True, "rate": 0.5},
    "overlap": {"enabled": True, "rate": 1.0, "bytes": 3500},
    "truncation_marker_off_by_one": {"enabled": True, "rate": 1.0},
    "size_mismatch": {"enabled": True, "rate": 1.0, "delta": 241},
    "error_log_staging_size": {"enabled": True, "rate": 1.0},
}


async def _big_pg_file(client: Any, pg: str) -> str:
    files = (await client.describe_db_log_files(DBInstanceIdentifier=pg))["DescribeDBLogFiles"]
    big = max(files, key=lambda f: f["Size"])
    assert big["Size"] > 1_100_000  # pages of 10000 lines get cut at 1 MiB
    return str(big["LogFileName"])


@pytest.mark.parametrize("profile", ["happy", "realistic"])
async def test_every_listed_file_is_the_ground_truth(
    rds: RdsServer, busy: Busy, client: Any, profile: str
) -> None:
    rds.admin("POST", "faults/profile", {"name": profile})
    for instance in (busy.mysql, busy.pg):
        for name in await listed_names(client, instance):
            got = await read_file(client, instance, name)
            assert got.data == rds.truth(instance, name), name
            assert got.end.reason is EndReason.CAUGHT_UP
            assert got.end.offset == len(got.data)


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
async def test_each_quirk_alone_at_a_high_rate(
    rds: RdsServer, busy: Busy, quiet: str, client: Any, quirk: str
) -> None:
    rds.faults(**{quirk: QUIRKS[quirk]})
    reads = [(busy.pg, await _big_pg_file(client, busy.pg), 10000), (busy.mysql, SLOW, 10000),
             (quiet, SLOW, 700), (quiet, "error/mysql-error-running.log", 300),
             (busy.mysql, "error/mysql-error.log", 10000)]  # fmt: skip
    for instance, name, lines in reads:
        got = await read_file(client, instance, name, lines=lines)
        assert got.data == rds.truth(instance, name), (name, lines)
        assert got.end.reason is EndReason.CAUGHT_UP


async def test_truncated_pages_are_asked_again_for_fewer_lines(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    name = await _big_pg_file(client, busy.pg)
    rds.faults(truncation_marker_off_by_one={"enabled": True, "rate": 1.0})
    rds.admin("POST", "stats/reset")
    got = await read_file(client, busy.pg, name)
    assert got.data == rds.truth(busy.pg, name)
    # The first answer was cut (10000 lines pass 1 MiB): no page of the reader is.
    assert all(len(p.data) <= 1024 * 1024 for p in got.pages)
    assert got.end.calls == rds.admin("GET", "stats")["calls"]["DownloadDBLogFilePortion"]
    assert got.end.calls > len(got.pages)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
# Regression: a page holding only bytes already read that said AdditionalDataPending=false
# used to end the read (overlaps of 3500 bytes on 37-line pages make such pages).
@example(cut=1, lines=37, overlap=1.0, empty=0.0, early=0.5)
@given(
    cut=st.integers(min_value=1, max_value=6),
    lines=st.sampled_from([37, 400, 2500, 10000]),
    overlap=st.sampled_from([0.0, 0.5, 1.0]),
    empty=st.sampled_from([0.0, 0.3]),
    early=st.sampled_from([0.0, 0.5]),
)
async def test_resuming_from_any_page_neither_loses_nor_repeats(
    rds: RdsServer, quiet: str, client: Any,
    cut: int, lines: int, overlap: float, empty: float, early: float,
) -> None:  # fmt: skip
    """Stop after `cut` pages, resume from the last page's (offset, marker) with a new reader:
    the two reads together are the file, whatever the quirks did to the markers."""
    rds.faults(
        overlap={"enabled": overlap > 0, "rate": overlap, "bytes": 3500},
        empty_page={"enabled": empty > 0, "rate": empty},
        pending_false_early={"enabled": early > 0, "rate": early},
        truncation_marker_off_by_one={"enabled": True, "rate": 1.0},
    )
    name = "general/mysql-general.log"
    truth = rds.truth(quiet, name)
    first = await read_file(client, quiet, name, lines=lines, stop_after=cut)
    resume = Position(first.end.offset, first.end.marker)
    rest = await read_file(client, quiet, name, resume, lines=lines)
    assert first.data + rest.data == truth
    assert rest.end.offset == len(truth)


async def test_an_offset_without_a_marker_rereads_from_the_start(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    truth = rds.truth(busy.mysql, SLOW)
    got = await read_file(client, busy.mysql, SLOW, Position(len(truth) // 3), lines=3000)
    assert got.data == truth[len(truth) // 3 :]
    assert got.pages[0].offset == len(truth) // 3


async def test_skipping_to_an_offset_is_progress_not_a_stall(
    rds: RdsServer, quiet: str, client: Any
) -> None:
    """Regression: the pages read again to reach a start offset counted as empty pages, so a
    skip over more than 20 pages raised `Stalled`."""
    truth = rds.truth(quiet, SLOW)
    start = len(truth) - 1000
    got = await read_file(client, quiet, SLOW, Position(start), lines=50)
    assert got.data == truth[start:] and got.end.calls > 30


async def test_tail_mode_over_one_mb_needs_more_calls(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    name = await _big_pg_file(client, busy.pg)
    truth = rds.truth(busy.pg, name)
    rds.faults(pending_omitted={"enabled": True, "rate": 0.5})
    got = await read_file(client, busy.pg, name, Tail(10000))
    assert len(got.data) > 1024 * 1024 and len(got.pages) >= 2
    start = got.pages[0].offset
    assert got.data == truth[start:]
    assert truth[start - 1 : start] == b"\n" and truth[start:].count(b"\n") == 10000


async def test_before_call_hook_runs_before_every_rds_call(
    rds: RdsServer, quiet: str, client: Any
) -> None:
    rds.admin("POST", "faults/profile", {"name": "realistic"})
    rds.admin("POST", "stats/reset")
    waits = []

    async def hook() -> None:
        waits.append(rds.admin("GET", "stats")["total_calls"])

    got = await read_file(client, quiet, SLOW, lines=500, before_call=hook)
    assert got.data == rds.truth(quiet, SLOW)
    # One wait per call, each before its call reached the server.
    assert waits == list(range(got.end.calls))
    assert rds.admin("GET", "stats")["total_calls"] == got.end.calls


async def test_a_vanished_file_is_an_outcome(rds: RdsServer, busy: Busy, client: Any) -> None:
    truth = rds.truth(busy.mysql, SLOW)
    first = await read_file(client, busy.mysql, SLOW, lines=2000, stop_after=2)
    rds.faults(not_found_during_rotation={"enabled": True, "window_sec": 3600})
    rest = await read_file(client, busy.mysql, SLOW, Position(first.end.offset, first.end.marker))
    assert rest.end.reason is EndReason.VANISHED
    assert rest.end.offset == first.end.offset and rest.end.marker is None and not rest.data
    assert truth.startswith(first.data)


async def test_binary_data_is_an_error_that_says_what_to_do(
    rds: RdsServer, busy: Busy, client: Any
) -> None:
    name = "general/mysql-general.log"
    rds.faults(binary_data={"enabled": True, "instance": busy.mysql, "file_contains": "general/",
                            "offset_start": 5000, "offset_end": None})  # fmt: skip
    pages: list[Page] = []
    with pytest.raises(BinaryData) as info:
        async for item in read_portions(client, busy.mysql, name, lines=100):
            assert isinstance(item, Page)
            pages.append(item)
    assert info.value.code == "InvalidParameterValue" and not info.value.retriable
    assert isinstance(info.value, DownloadError)
    assert pages and rds.truth(busy.mysql, name).startswith(b"".join(p.data for p in pages))


async def test_throttling_is_retriable(rds: RdsServer, busy: Busy, client: Any) -> None:
    rds.admin("POST", "throttle", {"enabled": True, "burst": 0, "rate": 0.001})
    with pytest.raises(Throttled) as info:
        await read_file(client, busy.mysql, SLOW)
    assert info.value.retriable and info.value.code == "Throttling"


def test_marker_offsets() -> None:
    assert marker_offset("0") == 0
    assert marker_offset("15:1048577") == 1048577
    assert marker_offset("2024-01-04.9:0") == 0
    assert marker_offset("opaque") is None and marker_offset(None) is None


async def test_a_marker_that_would_skip_bytes_is_refused(
    rds: RdsServer, quiet: str, client: Any
) -> None:
    first = await read_file(client, quiet, SLOW, lines=100, stop_after=1)
    assert first.end.marker is not None
    with pytest.raises(MarkerGap) as info:
        await read_file(client, quiet, SLOW, Position(first.end.offset - 10, first.end.marker))
    assert info.value.offset == first.end.offset - 10 and not info.value.retriable


async def test_endless_empty_pages_stall_retriably(rds: RdsServer, quiet: str, client: Any) -> None:
    rds.faults(empty_page={"enabled": True, "rate": 1.0})
    with pytest.raises(Stalled) as info:
        await read_file(client, quiet, SLOW, lines=100)  # more than one page: data pending
    assert info.value.retriable and info.value.offset == 0


@pytest.mark.parametrize(
    ("code", "status", "message", "cls", "retriable"),
    [
        ("Throttling", 400, "Rate exceeded", Throttled, True),
        ("ThrottlingException", 400, "Rate exceeded", Throttled, True),
        ("DBInstanceNotReady", 400, "not ready", InstanceNotReady, True),
        ("InternalFailure", 500, "oops", ServerError, True),
        ("DBInstanceNotFound", 404, "gone", InstanceNotFound, False),
        ("DBLogFileNotFoundFault", 404, "gone", FileVanished, False),
        ("InvalidParameterValue", 400, BINARY, BinaryData, False),
        ("InvalidParameterValue", 400, "Invalid marker: x", UnexpectedAnswer, False),
    ],
)
def test_error_codes_map_to_the_hierarchy(
    code: str, status: int, message: str, cls: type[RdsError], retriable: bool
) -> None:
    err = error_for(code, status, message, "db-1", "error/x.log")
    assert type(err) is cls and err.retriable is retriable and isinstance(err, DownloadError)
    assert err.code == code and err.status == status and "db-1/error/x.log" in str(err)


async def test_a_line_over_one_mib_is_left_to_the_complete_download(
    rds: RdsServer, client: Any
) -> None:
    """rds-pgbadger #93: halving NumberOfLines never gets a line over 1 MiB through the portion
    API; the reader says where it is instead of looping."""
    iid = rds.admin("POST", "fleet/instances", {"cluster_id": "longline-prod-mysql-950",
                                                "engine": "aurora-mysql", "activity": 0.05})[
        "instance_id"
    ]  # fmt: skip
    name = "general/mysql-general.log"
    before = len(rds.truth(iid, name))
    rds.admin("POST", f"fleet/instances/{iid}/append",
              {"log_type": "general", "text": "SELECT 'x" + "y" * 99, "repeat": 12_000})  # fmt: skip
    rds.admin("POST", f"fleet/instances/{iid}/append", {"log_type": "general", "text": "'\n"})
    try:
        read = []
        with pytest.raises(LineTooLong) as info:
            async for item in read_portions(client, iid, name):
                assert isinstance(item, Page)
                read.append(item.data)
        assert info.value.offset == before and not info.value.retriable
        truth = rds.truth(iid, name)
        assert b"".join(read) == truth[:before] and len(truth) > before + 1_200_000
    finally:
        rds.admin("DELETE", f"fleet/instances/{iid}")
