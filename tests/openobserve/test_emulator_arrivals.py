"""`/_admin/arrivals`: when each record arrived (the demo's freshness), kept beside the data."""

from __future__ import annotations

import time

from tests.openobserve.conftest import O2Server, new_stream


def test_arrivals_give_each_records_field_and_its_ingest_time(o2: O2Server) -> None:
    stream = new_stream()
    before = time.time_ns() // 1000
    o2.ingest(stream, [{"event_time": f"t{i}", "n": i} for i in range(3)])
    middle = time.time_ns() // 1000
    o2.ingest(stream, [{"event_time": f"t{i}", "n": i} for i in range(3, 5)])
    after = time.time_ns() // 1000
    body = o2.admin("GET", f"arrivals?stream={stream}&field=event_time")
    assert body["total"] == 5 and body["step"] == 1
    rows = {value: at for value, at in body["rows"]}
    assert set(rows) == {f"t{i}" for i in range(5)}
    assert all(before <= rows[f"t{i}"] <= middle for i in range(3))
    assert all(middle <= rows[f"t{i}"] <= after for i in range(3, 5))
    # Invisible to search: the table of write times is not a stream, nor a field.
    assert all(
        set(hit) <= {"_timestamp", "event_time", "n"}
        for hit in o2.hits(f'SELECT * FROM "{stream}"')
    )


def test_arrivals_sample_evenly_and_know_no_stream(o2: O2Server) -> None:
    stream = new_stream()
    o2.ingest(stream, [{"event_time": str(i)} for i in range(10)])
    body = o2.admin("GET", f"arrivals?stream={stream}&field=event_time&limit=3")
    assert body["total"] == 10 and body["step"] == 4
    assert [v for v, _ in body["rows"]] == ["3", "7"]  # rowids 4 and 8
    assert o2.admin("GET", "arrivals?stream=nope&field=x") == {"total": 0, "step": 1, "rows": []}
