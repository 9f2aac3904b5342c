"""Property: whatever faults the server injects (503/429/5xx/408, latency, 413 limits, records
failed inside a 200, silent loss), every event of a `ship` call ends up exactly once — stored
in the emulator (by event_id) or returned to the caller as a permanent failure."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from processor.sinks.openobserve import OpenObserveClient, ShipResult
from tests.openobserve.conftest import O2Server, client_settings, make_events

STREAM = "property_stream"

faults = st.fixed_dictionaries(
    {
        "status_rate": st.sampled_from([0.0, 0.2, 0.5]),
        "statuses": st.lists(st.sampled_from([503, 429, 500, 502, 408]), min_size=1, max_size=3),
        "latency_ms": st.sampled_from([0.0, 1.0, 5.0]),
        "payload_limit": st.sampled_from([1_500, 5_000, 209_715_200]),
        "record_fail_rate": st.sampled_from([0.0, 0.1, 0.3]),
        "silent_loss_rate": st.sampled_from([0.0, 0.1, 0.3]),
        "seed": st.integers(0, 2**16),
    }
)


def _ship_under(
    o2: O2Server, injected: dict[str, Any], events: list[dict[str, Any]], **overrides: Any
) -> ShipResult:
    """Ship `events` with these faults switched on (and off again, whatever happens)."""

    async def ship() -> ShipResult:
        options = client_settings(o2.url, openobserve_max_retries=12, **overrides)
        async with OpenObserveClient(options) as client:
            return await client.ship(STREAM, events)

    o2.faults(**injected)
    try:
        return asyncio.run(ship())
    finally:
        o2.clear_faults()


@settings(
    max_examples=int(os.environ.get("O2_PROPERTY_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n=st.integers(1, 60),
    injected=faults,
    batch_bytes=st.sampled_from([2_048, 8_192, 1_048_576]),
    concurrency=st.integers(1, 3),
)
def test_every_event_exactly_once_in_store_or_failed(
    o2: O2Server, n: int, injected: dict[str, Any], batch_bytes: int, concurrency: int
) -> None:
    batch_id = uuid.uuid4().hex
    events = make_events(n, batch_id=batch_id)
    result = _ship_under(
        o2,
        injected,
        events,
        openobserve_batch_bytes=batch_bytes,
        openobserve_concurrency=concurrency,
        openobserve_visibility_lag_sec=0.02,  # the emulator's lag is off here
    )
    hits = o2.hits(f"SELECT event_id FROM \"{STREAM}\" WHERE batch_id = '{batch_id}'", size=100_000)
    in_store = Counter(h["event_id"] for h in hits)
    failed = Counter(f.event_id for f in result.failed)
    for event in events:
        event_id = event["event_id"]
        assert in_store[event_id] + failed[event_id] == 1, (event_id, in_store, result)
    assert Counter(result.delivered) == in_store
    assert not result.s3_only


unkind = st.fixed_dictionaries(
    {
        "search_partial_rate": st.sampled_from([0.0, 0.3, 0.6]),
        "search_partial_share": st.sampled_from([0.5, 1.0]),
        "visibility_lag_ms": st.sampled_from([0.0, 100.0, 300.0]),
        "after_write_rate": st.sampled_from([0.0, 0.3, 0.7]),
        "after_write": st.lists(
            st.sampled_from(["502", "504", "timeout"]), min_size=1, max_size=3, unique=True
        ),
        "after_write_stall_ms": st.just(1_500.0),
        "status_rate": st.sampled_from([0.0, 0.2]),
        "silent_loss_rate": st.sampled_from([0.0, 0.2]),
        "seed": st.integers(0, 2**16),
    }
)


@settings(
    max_examples=int(os.environ.get("O2_PROPERTY_EXAMPLES_UNKIND", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(n=st.integers(1, 60), injected=unkind, batch_bytes=st.sampled_from([2_048, 1_048_576]))
def test_partial_answers_lag_and_write_then_error_never_duplicate(
    o2: O2Server, n: int, injected: dict[str, Any], batch_bytes: int
) -> None:
    """Every event stored exactly once (and reported delivered), or not stored and reported
    failed with its reason; an event no search could settle is reported unknown with the
    reason, and even then is stored at most once (it was never sent again)."""
    batch_id = uuid.uuid4().hex
    events = make_events(n, batch_id=batch_id)
    result = _ship_under(
        o2,
        injected,
        events,
        openobserve_batch_bytes=batch_bytes,
        openobserve_timeout_sec=1.0,  # under the stall: a `timeout` lie is a timeout
        openobserve_visibility_lag_sec=0.5,  # over the emulator's lag
        openobserve_reconcile_attempts=6,
    )
    truth = Counter(o2.truth(STREAM, event_ids=True)["event_ids"])
    delivered = Counter(result.delivered)
    failed = {f.event_id: f for f in result.failed}
    unknown = {u.event_id: u for u in result.unknown}
    note_event(f"unknown events: {'some' if unknown else 'none'}")
    for e in events:
        event_id = e["event_id"]
        assert delivered[event_id] + (event_id in failed) + (event_id in unknown) == 1, event_id
        assert truth[event_id] <= 1, (event_id, result)
        if delivered[event_id]:
            assert truth[event_id] == 1, (event_id, result)
        elif event_id in failed:
            assert truth[event_id] == 0 and failed[event_id].reason, (event_id, result)
        else:
            assert unknown[event_id].reason
