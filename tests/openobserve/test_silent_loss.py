"""Silent loss (HTTP 200 while `successful + failed < sent`) is detected and repaired, and the
repair never duplicates what the server did store."""

from __future__ import annotations

import json
from collections import Counter

import httpx
from prometheus_client import REGISTRY

from processor.sinks.openobserve import OpenObserveClient
from tests.openobserve.conftest import (
    PASSWORD,
    USER,
    O2Server,
    client_settings,
    make_events,
    new_stream,
    span,
)


def stored(o2: O2Server, stream: str) -> Counter[str]:
    hits = o2.hits(f'SELECT event_id FROM "{stream}"', size=100_000)
    return Counter(h["event_id"] for h in hits)


async def test_client_detects_silent_loss_and_resends_only_the_missing(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(silent_loss_rate=0.4, seed=11)
    lost_before = o2.stats()["records"]["lost"]
    mismatches = REGISTRY.get_sample_value(
        "aurora_openobserve_count_mismatches_total", {"stream": stream}
    )
    events = make_events(500)
    async with OpenObserveClient(client_settings(o2.url, openobserve_max_retries=20)) as client:
        result = await client.ship(stream, events)
    assert o2.stats()["records"]["lost"] > lost_before  # the server did lose records
    assert mismatches is None
    assert (
        REGISTRY.get_sample_value("aurora_openobserve_count_mismatches_total", {"stream": stream})
        or 0
    ) >= 1
    assert result.ok
    assert sorted(result.delivered) == sorted(e["event_id"] for e in events)
    assert stored(o2, stream) == Counter(e["event_id"] for e in events)  # once each


async def test_recovery_by_batch_count_then_missing_event_ids(o2: O2Server) -> None:
    """The processor's crash recovery: a batch was sent by a shipper that did not check counts;
    the count by batch_id shows the loss, and only the missing event_ids are sent again."""
    stream = new_stream()
    events = make_events(300, batch_id="recover-me")
    o2.faults(silent_loss_rate=0.3, seed=5)
    async with httpx.AsyncClient(auth=(USER, PASSWORD)) as raw:
        resp = await raw.post(f"{o2.url}/api/default/{stream}/_json", content=json.dumps(events))
    status = resp.json()["status"][0]
    assert resp.status_code == 200
    assert status["successful"] + status["failed"] < len(events)
    async with OpenObserveClient(client_settings(o2.url, openobserve_max_retries=20)) as client:
        count = await client.count_batch(stream, "recover-me", *span(events))
        assert count == status["successful"] < len(events)  # detected
        present = await client.stored_event_ids(stream, "recover-me", *span(events))
        missing = [e for e in events if e["event_id"] not in present]
        assert len(missing) == len(events) - count
        result = await client.ship(stream, missing)  # the loss is still switched on
        assert result.ok
        assert await client.count_batch(stream, "recover-me", *span(events)) == len(events)
    assert stored(o2, stream) == Counter(e["event_id"] for e in events)
