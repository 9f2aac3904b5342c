"""The report's verdicts from a measurement (devstack/demo/report.py): what holds is ticked, what
does not is said with its figures — never a tick over a difference."""

from __future__ import annotations

from rich.console import Console

from common.log_types import LOG_TYPES
from devstack.demo.report import render
from devstack.measure import Measurement, QueryClass, TypeVolume


def measurement(**slow: int) -> Measurement:
    volumes = {t: TypeVolume(log_type=t) for t in LOG_TYPES}
    base = {
        "files": 2,
        "generated": 1_500,
        "rotated": 1_000,
        "archived": 1_000,
        "shipped": 1_200,
        "open_unshipped": 300,
        "events_stored": 10,
        "events_acknowledged": 10,
    }
    volumes["slowquery"] = TypeVolume(log_type="slowquery", **{**base, **slow})
    return Measurement(
        taken_at=0.0,
        elapsed_sec=10.0,
        volumes=volumes,
        rds_calls={"DescribeDBLogFiles": 3, "DownloadCompleteDBLogFile": 1},
        rds_throttled={"DescribeDBLogFiles": 1},
        downloaded={"complete": 1_000.0},
        cache={"hit": 3.0, "miss": 1.0},
        throttles_seen=1.0,
        discovery_cycles=2.0,
        discovery_rds_calls=3.0,
        kafka_messages=2.0,
        dynamodb_writes=6,
        processor_cpu_sec=0.5,
        processors=2,
        events_shipped=10.0,
        top_queries=[QueryClass("select ?", 4, 2.5, 1.0)],
        top_queries_sql="SELECT fingerprint ...",
    )


def text_of(m: Measurement) -> str:
    console = Console(record=True, width=200)
    render(m, console)
    return console.export_text()


def test_equalities_that_hold_are_ticked() -> None:
    m = measurement()
    assert m.total("generated") == 1_500 and m.cache_hit_rate == 0.75
    out = text_of(m)
    assert "✓ archived == generated for rotated files (1,000 bytes)" in out
    assert "generated − shipped = 300 bytes" in out and "active files behind 300" in out
    assert "✓ every event in OpenObserve exactly once: 10 stored" in out
    assert "select ?" in out and "SELECT fingerprint" in out


def test_differences_are_reported_with_their_figures() -> None:
    out = text_of(measurement(archived=900, rotated_unarchived=100, duplicate_events=2))
    assert "✓ archived" not in out and "100 bytes not yet in S3" in out
    assert "exactly once" not in out and "2 duplicate copies" in out
