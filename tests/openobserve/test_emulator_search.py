"""`_search` and `streams` against the real subprocess, and data surviving a restart."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from devstack.procs import stop_group
from tests.openobserve.conftest import PASSWORD, USER, O2Server, new_stream, start_emulator

BASE = 1_900_000_000_000_000  # µs; search windows are explicit, so any time will do


def load(o2: O2Server, stream: str, records: list[dict[str, object]]) -> None:
    # _timestamp far from now would be refused by the window; widen it for these fixtures.
    o2.faults(ingest_allowed_upto_hours=10**6, ingest_allowed_in_future_hours=10**6)
    resp = httpx.post(
        f"{o2.url}/api/default/{stream}/_json",
        content=json.dumps(records),
        auth=(USER, PASSWORD),
    )
    assert resp.json()["status"][0]["successful"] == len(records), resp.text
    o2.clear_faults()


def test_window_is_start_inclusive_end_exclusive_and_default_order_desc(o2: O2Server) -> None:
    stream = new_stream()
    load(o2, stream, [{"_timestamp": BASE + i, "i": i} for i in range(10)])
    hits = o2.hits(f'SELECT i FROM "{stream}"', start_time=BASE + 2, end_time=BASE + 7)
    assert [h["i"] for h in hits] == [6, 5, 4, 3, 2]
    limited = o2.hits(f'SELECT * FROM "{stream}" LIMIT 3', start_time=BASE, end_time=BASE + 10)
    assert [h["i"] for h in limited] == [9, 8, 7]
    ordered = o2.hits(
        f'SELECT i FROM "{stream}" ORDER BY i ASC', start_time=BASE, end_time=BASE + 10
    )
    assert [h["i"] for h in ordered] == list(range(10))


def test_size_defaults_to_1000_and_total_is_len_hits(o2: O2Server) -> None:
    stream = new_stream()
    load(o2, stream, [{"_timestamp": BASE + i, "i": i} for i in range(1_100)])
    resp = o2.search(f'SELECT * FROM "{stream}"').json()
    assert len(resp["hits"]) == 1000
    assert resp["total"] == 1000
    assert resp["size"] == 1000
    assert {"took", "from", "is_partial", "scan_size", "cached_ratio"} <= resp.keys()
    tracked = o2.search(f'SELECT * FROM "{stream}"', size=10, track_total_hits=True).json()
    assert (len(tracked["hits"]), tracked["total"]) == (10, 1100)
    page = o2.search(f'SELECT i FROM "{stream}"', size=5, **{"from": 5}).json()
    assert [h["i"] for h in page["hits"]] == [1094, 1093, 1092, 1091, 1090]


def test_where_group_by_aggregates_and_text_functions(o2: O2Server) -> None:
    stream = new_stream()
    records: list[dict[str, object]] = [
        {"_timestamp": BASE + i, "level": "Error" if i % 3 == 0 else "Note", "n": i,
         "message": f"InnoDB: page {i} Corrupted" if i % 5 == 0 else f"ok {i}"}
        for i in range(30)
    ]  # fmt: skip
    load(o2, stream, records)
    groups = o2.hits(
        f'SELECT level, count(*) AS c, max(n) AS top FROM "{stream}" GROUP BY level ORDER BY level'
    )
    assert groups == [{"level": "Error", "c": 10, "top": 27}, {"level": "Note", "c": 20, "top": 29}]
    assert len(o2.hits(f"SELECT * FROM \"{stream}\" WHERE match_all('corrupted')")) == 6
    assert len(o2.hits(f"SELECT * FROM \"{stream}\" WHERE match_all('inno*page')")) == 6
    assert len(o2.hits(f"SELECT * FROM \"{stream}\" WHERE str_match(message, 'corrupted')")) == 0
    assert len(o2.hits(f"SELECT * FROM \"{stream}\" WHERE str_match(message, 'Corrupted')")) == 6
    assert (
        len(o2.hits(f"SELECT * FROM \"{stream}\" WHERE str_match_ignore_case(message, 'CORR')"))
        == 6
    )
    assert len(o2.hits(f"SELECT * FROM \"{stream}\" WHERE re_match(message, '^ok 1[0-9]$')")) == 8
    assert len(o2.hits(f"SELECT * FROM \"{stream}\" WHERE NOT re_match(message, '^ok')")) == 6
    buckets = o2.hits(
        f"SELECT histogram(_timestamp, '1 minute') AS t, count(*) AS c FROM \"{stream}\" GROUP BY t"
    )
    assert sum(int(b["c"]) for b in buckets) == 30


def test_search_errors_have_codes(o2: O2Server) -> None:
    stream = new_stream()
    load(o2, stream, [{"_timestamp": BASE, "a": 1}])
    cases = {
        f'SELEC * FROM "{stream}"': (400, 20001),
        f'SELECT nope FROM "{stream}"': (400, 20004),
        'SELECT * FROM "no_such_stream_here"': (400, 20002),
        f'SELECT no_such_fn(a) FROM "{stream}"': (400, 20005),
        f'DELETE FROM "{stream}"': (400, 20001),
    }
    for sql, (status, code) in cases.items():
        resp = o2.search(sql)
        assert resp.status_code == status, (sql, resp.text)
        body = resp.json()
        assert body["code"] == code, (sql, body)
        assert {"message", "error_detail"} <= body.keys()
    assert len(o2.hits(f'SELECT * FROM "{stream}"')) == 1


def test_streams_list_with_stats_and_schema(o2: O2Server) -> None:
    stream = new_stream()
    load(o2, stream, [{"_timestamp": BASE + i, "msg": "x", "n": i} for i in range(4)])
    resp = httpx.get(
        f"{o2.url}/api/default/streams",
        params={"type": "logs", "fetchSchema": "true"},
        auth=(USER, PASSWORD),
    )
    entry = next(s for s in resp.json()["list"] if s["name"] == stream)
    assert entry["stream_type"] == "logs"
    assert entry["stats"]["doc_num"] == 4
    assert (entry["stats"]["doc_time_min"], entry["stats"]["doc_time_max"]) == (BASE, BASE + 3)
    assert {"name": "n", "type": "Int64"} in entry["schema"]
    assert resp.json()["total"] == len(resp.json()["list"])


def test_data_survives_a_restart(tmp_path: Path) -> None:
    server = start_emulator(tmp_path / "data", tmp_path / "first.log")
    try:
        resp = httpx.post(
            f"{server.url}/api/default/kept/_json",
            content=json.dumps([{"k": i} for i in range(5)]),
            auth=(USER, PASSWORD),
        )
        assert resp.json()["status"][0]["successful"] == 5
    finally:
        stop_group(server.pid)
    again = start_emulator(tmp_path / "data", tmp_path / "second.log")
    try:
        assert sorted(h["k"] for h in again.hits('SELECT k FROM "kept"')) == list(range(5))
    finally:
        stop_group(again.pid)


def test_admin_reset_clears_data_stats_and_faults(tmp_path: Path) -> None:
    server = start_emulator(tmp_path / "data", tmp_path / "o2.log")
    try:
        httpx.post(
            f"{server.url}/api/default/gone/_json", content=b'[{"a":1}]', auth=(USER, PASSWORD)
        )
        server.faults(latency_ms=5)
        assert server.stats()["stored_records"] == 1
        assert server.admin("POST", "reset") == {"reset": True}
        stats = server.stats()
        assert (stats["stored_records"], stats["requests"]["total"]) == (0, 0)
        assert server.admin("GET", "faults")["latency_ms"] == 0
        assert server.search('SELECT * FROM "gone"').json()["code"] == 20002
    finally:
        stop_group(server.pid)
