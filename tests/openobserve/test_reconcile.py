"""The client against the unkind emulator (issue 9 items 11-13): a partial or young search answer
is unknown, never "not stored, resend"; reconciliation searches the batch's own time range; a
write answered by a 502/504 or a timeout is found stored and not sent again; search errors are
raised as the server answers them, the permanent ones without a retry."""

from __future__ import annotations

from collections import Counter

import pytest
from prometheus_client import REGISTRY

from processor.sinks.openobserve import (
    OpenObserveClient,
    OrganizationNotFound,
    PartialAnswer,
    Presence,
    QueryRefused,
)
from tests.helpers import wait_for
from tests.openobserve.conftest import (
    O2Server,
    client_settings,
    make_events,
    new_stream,
    now_us,
    span,
)

HOUR_US = 3_600_000_000


def metric(name: str, **labels: str) -> float:
    """A counter's value summed over the label values not given."""
    total = 0.0
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def copies(o2: O2Server, stream: str) -> Counter[str]:
    return Counter(o2.truth(stream, event_ids=True)["event_ids"])


async def test_a_partial_answer_proves_presence_never_absence(o2: O2Server) -> None:
    stream = new_stream()
    events = make_events(200, batch_id="partial-batch")
    o2.ingest(stream, events)
    ids = [str(e["event_id"]) for e in events]
    never_sent = ["never-sent-1", "never-sent-2"]
    async with OpenObserveClient(client_settings(o2.url)) as client:
        o2.faults(search_partial_rate=1.0, search_partial_share=0.5, seed=2)
        check = await client.which_stored(
            stream, ids + never_sent, *span(events), last_write_us=None, batch_ids=["partial-batch"]
        )
        assert 0 < len(check.stored) < 200
        assert check.absent == frozenset()  # nothing is called absent on a partial answer
        assert check.unknown == frozenset(ids + never_sent) - check.stored
        assert check.reasons and check.reasons[0].startswith("partial_answer")
        assert check.of("never-sent-1") is Presence.UNKNOWN
        with pytest.raises(PartialAnswer) as partial:
            await client.count_batch(stream, "partial-batch", *span(events))
        assert partial.value.retriable and partial.value.notes
        o2.clear_faults()
        whole = await client.which_stored(
            stream, ids + never_sent, *span(events), last_write_us=None
        )  # by event_id this time: no batch id narrows it
        assert (whole.stored, whole.absent, whole.unknown) == (
            frozenset(ids),
            frozenset(never_sent),
            frozenset(),
        )


async def test_an_answer_younger_than_the_lag_is_unknown(o2: O2Server) -> None:
    stream = new_stream()
    events = make_events(20)
    settings = client_settings(o2.url, openobserve_visibility_lag_sec=1.5)
    o2.faults(visibility_lag_ms=800)
    o2.ingest(stream, events)
    written = now_us()
    ids = [str(e["event_id"]) for e in events]
    async with OpenObserveClient(settings) as client:
        young = await client.which_stored(stream, ids, *span(events), last_write_us=written)
        assert young.absent == frozenset()
        assert young.unknown == frozenset(ids) - young.stored
        assert any(r.startswith("young") for r in young.reasons)

        async def settled() -> bool:
            check = await client.which_stored(stream, ids, *span(events), last_write_us=written)
            assert check.absent == frozenset()  # never absent while young, found once old
            return check.stored == frozenset(ids)

        await wait_for(settled, timeout=15)


async def test_a_long_range_is_searched_in_pieces_the_server_will_not_shorten(
    o2: O2Server,
) -> None:
    stream = new_stream()
    old = make_events(3, batch_id="spread", ts_us=now_us() - 3 * HOUR_US)
    new = make_events(3, batch_id="spread", ts_us=now_us(), start=3)
    o2.ingest(stream, old + new)
    o2.faults(max_query_range_hours=1)
    ids = [str(e["event_id"]) for e in old + new]
    start, end = now_us() - 4 * HOUR_US, now_us() + 1_000_000
    split = client_settings(o2.url, openobserve_search_max_range_hours=1)
    async with OpenObserveClient(split) as client:
        check = await client.which_stored(stream, ids, start, end, last_write_us=None)
        assert check.stored == frozenset(ids)
    whole = client_settings(o2.url, openobserve_search_max_range_hours=24)
    async with OpenObserveClient(whole) as client:
        check = await client.which_stored(stream, ids, start, end, last_write_us=None)
        assert check.stored == frozenset(str(e["event_id"]) for e in new)
        assert check.unknown == frozenset(str(e["event_id"]) for e in old)  # shortened: unknown
        assert "query range restriction" in check.reasons[0]


@pytest.mark.parametrize("lie", ["502", "504", "timeout"])
async def test_a_write_answered_by_an_error_is_found_stored_and_not_resent(
    o2: O2Server, lie: str
) -> None:
    stream = new_stream()
    events = make_events(50)
    o2.faults(after_write=[lie], after_write_next=1, after_write_stall_ms=2_000)
    settings = client_settings(o2.url, openobserve_timeout_sec=0.5)
    async with OpenObserveClient(settings) as client:
        result = await client.ship(stream, events)
    assert result.ok
    assert sorted(result.delivered) == sorted(str(e["event_id"]) for e in events)
    assert result.requests == 1  # reconciled by search, never sent twice
    assert copies(o2, stream) == Counter(str(e["event_id"]) for e in events)


async def test_reconciliation_searches_the_batch_own_time_range(o2: O2Server) -> None:
    """Events two hours old, a server whose max query range is one hour: a search from 0 to
    now+25 h would be shortened to the last hour and find nothing, so the batch would end up
    unknown; the batch's own range is answered in full."""
    stream = new_stream()
    events = make_events(30, ts_us=now_us() - 2 * HOUR_US)
    o2.faults(max_query_range_hours=1, after_write=["502"], after_write_next=1)
    async with OpenObserveClient(client_settings(o2.url)) as client:
        result = await client.ship(stream, events)
    assert (result.ok, result.requests, result.unknown) == (True, 1, [])
    assert copies(o2, stream) == Counter(str(e["event_id"]) for e in events)


async def test_events_that_stay_unknown_are_reported_unknown_never_resent(o2: O2Server) -> None:
    stream = new_stream()
    events = make_events(20)
    o2.faults(
        after_write=["502"],
        after_write_next=1,
        search_partial_rate=1.0,
        search_partial_share=1.0,  # every answer partial and empty
    )
    settings = client_settings(o2.url, openobserve_reconcile_attempts=3)
    asked_again = metric("aurora_openobserve_retries_total", operation="reconcile")
    async with OpenObserveClient(settings) as client:
        result = await client.ship(stream, events)
    assert result.delivered == [] and result.failed == []
    assert metric("aurora_openobserve_events_total", stream=stream, outcome="unknown") == 20
    # asked three times: twice again (partial answers, and young ones at first)
    assert metric("aurora_openobserve_retries_total", operation="reconcile") == asked_again + 2
    assert sorted(u.event_id for u in result.unknown) == sorted(str(e["event_id"]) for e in events)
    assert all("partial_answer" in u.reason for u in result.unknown)
    assert result.requests == 1
    assert copies(o2, stream) == Counter(str(e["event_id"]) for e in events)  # stored once


async def test_a_sql_execution_error_is_permanent_and_not_retried(o2: O2Server) -> None:
    stream = new_stream()
    o2.ingest(stream, make_events(1))
    before = o2.stats()["requests"].get("_search", 0)
    async with OpenObserveClient(client_settings(o2.url)) as client:
        with pytest.raises(QueryRefused) as refused:
            await client.search(f"SELECT histogram(_timestamp, 'fortnight') FROM \"{stream}\"")
    assert (refused.value.status, refused.value.code, refused.value.retriable) == (
        400,
        20008,
        False,
    )
    assert o2.stats()["requests"]["_search"] == before + 1


async def test_an_unknown_organization_is_raised_as_such(o2: O2Server) -> None:
    async with OpenObserveClient(client_settings(o2.url, openobserve_org="nope")) as client:
        with pytest.raises(OrganizationNotFound) as missing:
            await client.search('SELECT * FROM "x"', 0, 10)
    assert (missing.value.status, missing.value.body) == (404, "Organization not found")
