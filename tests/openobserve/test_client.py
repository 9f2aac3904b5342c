"""The OpenObserve client against the real emulator: batching, gzip, retries, 413 splits,
permanent failures, the ingestion window, the time-bounded buffer, search helpers, metrics."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from prometheus_client import REGISTRY

from devstack.procs import free_port
from processor.sinks.openobserve import OpenObserveBuffer, OpenObserveClient, ShipResult
from tests.helpers import wait_for
from tests.openobserve.conftest import O2Server, client_settings, make_events, new_stream, span

HOUR_US = 3_600_000_000


def stored(o2: O2Server, stream: str) -> Counter[str]:
    hits = o2.hits(f'SELECT event_id FROM "{stream}"', size=100_000)
    return Counter(h["event_id"] for h in hits)


def accounted(result: ShipResult) -> list[str]:
    return result.delivered + [f.event_id for f in result.failed] + result.s3_only


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_ship_delivers_every_event_once_in_byte_bounded_gzip_batches(o2: O2Server) -> None:
    stream = new_stream()
    events = make_events(300)
    before = o2.stats()
    settings = client_settings(o2.url, openobserve_batch_bytes=16 * 1024)
    async with OpenObserveClient(settings) as client:
        result = await client.ship(stream, events)
    assert result.ok
    assert sorted(result.delivered) == sorted(e["event_id"] for e in events)
    assert stored(o2, stream) == Counter(e["event_id"] for e in events)
    after = o2.stats()
    requests = after["requests"]["_json"] - before["requests"].get("_json", 0)
    assert requests == result.requests > 1
    wire = after["bytes"]["received"] - before["bytes"]["received"]
    plain = after["bytes"]["decompressed"] - before["bytes"]["decompressed"]
    assert wire < plain / 3  # gzip on the wire
    assert plain / requests <= 16 * 1024


async def test_transient_statuses_are_retried(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(statuses=[503], status_next=3)
    retries_before = metric(
        "aurora_openobserve_retries_total", operation="ingest", reason="http_503"
    )
    async with OpenObserveClient(client_settings(o2.url)) as client:
        result = await client.ship(stream, make_events(20))
        assert result.ok
        assert result.retries == 3
        for status in (408, 429, 500, 502):
            o2.faults(statuses=[status], status_next=1)
            again = await client.ship(stream, make_events(5, batch_id=f"after-{status}"))
            assert (again.ok, again.retries, again.requests) == (True, 1, 2)
    assert len(stored(o2, stream)) == 40
    retries_after = metric(
        "aurora_openobserve_retries_total", operation="ingest", reason="http_503"
    )
    assert retries_after - retries_before == 3


async def test_retries_are_bounded_then_a_permanent_failure(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(statuses=[503], status_rate=1.0)
    settings = client_settings(o2.url, openobserve_max_retries=2)
    async with OpenObserveClient(settings) as client:
        result = await client.ship(stream, make_events(5))
    assert result.delivered == []
    assert {f.reason for f in result.failed} == {"retries_exhausted:http_503"}
    assert {f.status for f in result.failed} == {503}
    assert result.requests == 3


async def test_client_errors_are_not_retried_and_carry_the_body(o2: O2Server) -> None:
    stream = new_stream()
    for status in (400, 403):
        o2.faults(statuses=[status], status_next=1)
        async with OpenObserveClient(client_settings(o2.url)) as client:
            result = await client.ship(stream, make_events(3))
        assert result.requests == 1
        assert {f.reason for f in result.failed} == {f"http_{status}"}
        assert all(str(status) in f.body for f in result.failed)
    settings = client_settings(o2.url, OPENOBSERVE_PASS="wrong")
    async with OpenObserveClient(settings) as client:
        result = await client.ship(stream, make_events(3))
    assert result.requests == 1
    assert [(f.reason, f.body) for f in result.failed] == [("http_401", "Unauthorized Access")] * 3


async def test_413_splits_the_batch_and_a_lone_oversized_event_fails(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(payload_limit=3_000)
    events = make_events(40)
    huge = make_events(1, batch_id="huge")[0] | {"pad": "x" * 5_000}
    async with OpenObserveClient(client_settings(o2.url)) as client:
        result = await client.ship(stream, [*events, huge])
    assert sorted(result.delivered) == sorted(e["event_id"] for e in events)
    assert [(f.event_id, f.reason, f.status) for f in result.failed] == [
        (huge["event_id"], "payload_too_large", 413)
    ]
    assert stored(o2, stream) == Counter(e["event_id"] for e in events)


async def test_connection_errors_are_retried_then_reported(o2: O2Server) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with OpenObserveClient(client_settings(dead, openobserve_max_retries=2)) as client:
        result = await client.ship("anything", make_events(2))
    assert result.requests == 3
    assert {f.reason for f in result.failed} == {"retries_exhausted:connect_error"}


async def test_invalid_and_duplicate_events_are_returned_not_dropped(o2: O2Server) -> None:
    stream = new_stream()
    good = make_events(2)
    bad: list[Any] = [{"event_id": "no-batch", "_timestamp": 1}, {**good[0]}, {"nan": float("nan"),
                      "event_id": "nan", "batch_id": "b", "_timestamp": 1}]  # fmt: skip
    async with OpenObserveClient(client_settings(o2.url)) as client:
        result = await client.ship(stream, [*good, *bad])
    assert sorted(result.delivered) == sorted(e["event_id"] for e in good)
    reasons = sorted((f.event_id, f.reason) for f in result.failed)
    assert reasons == [
        (good[0]["event_id"], "duplicate_event_id"),
        ("nan", "invalid_event"),
        ("no-batch", "invalid_event"),
    ]


async def test_old_events_are_sent_at_ingest_time_keeping_event_time(o2: O2Server) -> None:
    stream = new_stream()
    old_ts = time.time_ns() // 1000 - 7 * HOUR_US
    events = make_events(3, ts_us=old_ts)
    async with OpenObserveClient(client_settings(o2.url)) as client:
        result = await client.ship(stream, events)
    assert result.ok
    assert (
        sorted(result.retimed) == sorted(result.delivered) == sorted(e["event_id"] for e in events)
    )
    hits = o2.hits(f'SELECT event_id, event_time, _timestamp FROM "{stream}"')
    by_id = {h["event_id"]: h for h in hits}
    for event in events:
        hit = by_id[event["event_id"]]
        assert hit["event_time"] == event["event_time"]
        assert hit["_timestamp"] > old_ts + 6 * HOUR_US
    assert events[0]["_timestamp"] == old_ts  # the caller's dicts are untouched


async def test_old_events_can_be_kept_for_s3_only(o2: O2Server) -> None:
    stream = new_stream()
    now = time.time_ns() // 1000
    old = make_events(2, batch_id="old", ts_us=now - 30 * HOUR_US)
    future = make_events(1, batch_id="future", ts_us=now + 30 * HOUR_US)
    fresh = make_events(2, batch_id="fresh")
    settings = client_settings(o2.url, openobserve_old_events="s3_only")
    async with OpenObserveClient(settings) as client:
        result = await client.ship(stream, [*old, *future, *fresh])
    assert sorted(result.s3_only) == sorted(e["event_id"] for e in old + future)
    assert sorted(result.delivered) == sorted(e["event_id"] for e in fresh)
    assert set(stored(o2, stream)) == {e["event_id"] for e in fresh}


async def test_a_server_window_smaller_than_configured_is_detected(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(ingest_allowed_upto_hours=1)  # the client still believes 5 h
    events = make_events(4, ts_us=time.time_ns() // 1000 - 2 * HOUR_US)
    async with OpenObserveClient(client_settings(o2.url)) as client:
        result = await client.ship(stream, events)
    assert result.ok
    assert sorted(result.retimed) == sorted(e["event_id"] for e in events)
    assert stored(o2, stream) == Counter(e["event_id"] for e in events)


async def test_records_failed_inside_200_are_resent_alone(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(record_fail_rate=0.3, seed=3)
    events = make_events(200)
    async with OpenObserveClient(client_settings(o2.url)) as client:
        result = await client.ship(stream, events)
    assert result.ok
    assert result.retries >= 1
    assert stored(o2, stream) == Counter(e["event_id"] for e in events)


async def test_buffer_ships_on_time_and_on_size(o2: O2Server) -> None:
    stream = new_stream()
    results: list[ShipResult] = []

    async def collect(result: ShipResult) -> None:
        results.append(result)

    settings = client_settings(
        o2.url, openobserve_batch_interval_sec=0.2, openobserve_batch_bytes=8 * 1024
    )
    async with OpenObserveClient(settings) as client:
        async with OpenObserveBuffer(client, stream, collect) as buffer:
            await buffer.add(make_events(3, batch_id="timed"))
            assert buffer.buffered == 3
            await wait_for(_async(lambda: len(results) == 1), timeout=10)
            assert sorted(results[0].delivered) == sorted(
                e["event_id"] for e in make_events(3, batch_id="timed")
            )
            await buffer.add(make_events(100, batch_id="sized"))
            assert len(results) > 2  # full batches went out while adding
        delivered = [i for r in results for i in r.delivered]
    assert len(delivered) == len(set(delivered)) == 103
    assert len(stored(o2, stream)) == 103


def _async(predicate: Any) -> Any:
    async def probe() -> bool:
        return bool(predicate())

    return probe


async def test_search_helpers(o2: O2Server) -> None:
    stream = new_stream()
    events = make_events(25, batch_id="helper-batch") + make_events(5, batch_id="other-batch")
    async with OpenObserveClient(client_settings(o2.url)) as client:
        assert (await client.ship(stream, events)).ok
        assert await client.count_batch(stream, "helper-batch", *span(events)) == 25
        ids = await client.stored_event_ids(stream, ["helper-batch", "other-batch"], *span(events))
        assert ids == {e["event_id"] for e in events}
        result = await client.search(
            f'SELECT batch_id, count(*) AS n FROM "{stream}" GROUP BY batch_id ORDER BY n DESC'
        )
        assert result.hits == [
            {"batch_id": "helper-batch", "n": 25},
            {"batch_id": "other-batch", "n": 5},
        ]


async def test_metrics_count_requests_events_and_bytes(o2: O2Server) -> None:
    stream = new_stream()
    before = metric("aurora_openobserve_events_total", stream=stream, outcome="delivered")
    async with OpenObserveClient(client_settings(o2.url)) as client:
        await client.ship(stream, make_events(7))
    assert (
        metric("aurora_openobserve_events_total", stream=stream, outcome="delivered") == before + 7
    )
    assert metric("aurora_openobserve_bytes_total", stream=stream, encoding="raw") > 0
    assert metric("aurora_openobserve_requests_total", operation="ingest", outcome="200") > 0
    assert metric("aurora_openobserve_request_seconds_count", operation="ingest") > 0


def test_every_event_is_accounted_once_helper() -> None:
    result = ShipResult("s", delivered=["a"], s3_only=["b"])
    assert accounted(result) == ["a", "b"]
