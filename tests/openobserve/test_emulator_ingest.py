"""The emulator's ingestion API against the real subprocess: auth, encodings, limits, response
shapes, normalisation, the window, all-or-nothing requests and the injected faults."""

from __future__ import annotations

import gzip
import json
import time
import zlib
from typing import Any

import brotli
import httpx
import zstandard

from tests.openobserve.conftest import PASSCODE, PASSWORD, USER, O2Server, new_stream

HOUR_US = 3_600_000_000


def post(
    o2: O2Server,
    path: str,
    body: bytes,
    auth: tuple[str, str] | None = (USER, PASSWORD),
    encoding: str | None = None,
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    return httpx.post(f"{o2.url}{path}", content=body, headers=headers, auth=auth, timeout=10)


def rows(records: Any) -> bytes:
    return json.dumps(records).encode()


def now_us() -> int:
    return time.time_ns() // 1_000


def test_healthz_needs_no_auth(o2: O2Server) -> None:
    resp = httpx.get(f"{o2.url}/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_bad_credentials_get_401_plain_text(o2: O2Server) -> None:
    stream = new_stream()
    for auth in [(USER, "wrong"), ("other@example.com", PASSWORD), (USER, ""), None]:
        resp = post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}]), auth=auth)
        assert resp.status_code == 401
        assert resp.text == "Unauthorized Access"
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="openobserve"'
    assert o2.search(f'SELECT * FROM "{stream}"').json()["code"] == 20002


def test_passcode_works_on_ingestion_only(o2: O2Server) -> None:
    stream = new_stream()
    resp = post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}]), auth=(USER, PASSCODE))
    assert resp.status_code == 200
    search = httpx.post(
        f"{o2.url}/api/default/_search",
        json={"query": {"sql": f'SELECT * FROM "{stream}"'}},
        auth=(USER, PASSCODE),
    )
    assert search.status_code == 401
    passcode = httpx.get(f"{o2.url}/api/default/passcode", auth=(USER, PASSWORD)).json()
    assert passcode["data"] == {"user": USER, "passcode": PASSCODE}


def test_json_response_shape_and_partial_failure_inside_200(o2: O2Server) -> None:
    stream = new_stream()
    resp = post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}, 5, {"b": None}]))
    assert resp.status_code == 200
    assert resp.json() == {
        "code": 200,
        "status": [
            {
                "name": stream,
                "successful": 2,
                "failed": 1,
                "error": "flatten value must be an object",
            }
        ],
    }
    empty = post(o2, f"/api/default/{stream}/_json", b"[]")
    assert empty.json()["status"] == [{"name": stream, "successful": 0, "failed": 0}]
    single = post(o2, f"/api/default/{stream}/_json", rows({"one": 1}))
    assert single.json()["status"][0]["successful"] == 1


def test_stream_names_and_keys_are_normalised_and_flattened(o2: O2Server) -> None:
    raw_stream = "Norm-" + new_stream() + ".Logs"
    record = {"Query.Time": 1.5, "a": {"b": {"c": {"d": 1}}}, "tags": [1, "x"], "gone": None}
    resp = post(o2, f"/api/default/{raw_stream}/_json", rows([record]))
    name = resp.json()["status"][0]["name"]
    assert name == raw_stream.replace("-", "_").replace(".", "_").lower()
    (hit,) = o2.hits(f'SELECT * FROM "{name}"')
    assert hit["query_time"] == 1.5
    assert hit["a_b_c"] == '{"d":1}'
    assert hit["tags"] == '[1,"x"]'
    assert "gone" not in hit
    assert isinstance(hit["_timestamp"], int)


def test_gzip_zstd_deflate_and_brotli_bodies(o2: O2Server) -> None:
    stream = new_stream()
    body = rows([{"codec": "any"}])
    encoded = {
        "gzip": gzip.compress(body),
        "zstd": zstandard.ZstdCompressor().compress(body),
        "deflate": zlib.compress(body),
        "br": brotli.compress(body),
    }
    for encoding, data in encoded.items():
        resp = post(o2, f"/api/default/{stream}/_json", data, encoding=encoding)
        assert resp.status_code == 200, (encoding, resp.text)
        assert resp.json()["status"][0]["successful"] == 1
    assert len(o2.hits(f'SELECT * FROM "{stream}"')) == 4
    unknown = post(o2, f"/api/default/{stream}/_json", body, encoding="compress")
    assert unknown.status_code == 415
    broken = post(o2, f"/api/default/{stream}/_json", b"not gzip", encoding="gzip")
    assert broken.status_code == 400


def test_payload_limit_applies_to_the_decompressed_body(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(payload_limit=2_000)
    big = rows([{"pad": "x" * 3_000}])
    assert len(gzip.compress(big)) < 2_000
    resp = post(o2, f"/api/default/{stream}/_json", gzip.compress(big), encoding="gzip")
    assert resp.status_code == 413
    small = post(o2, f"/api/default/{stream}/_json", rows([{"pad": "x"}]))
    assert small.status_code == 200


def test_one_bad_line_fails_the_whole_request_and_writes_nothing(o2: O2Server) -> None:
    stream = new_stream()
    body = b'{"a":1}\n{"a":2\n{"a":3}\n'
    resp = post(o2, f"/api/default/{stream}/_multi", body)
    assert resp.status_code == 400
    assert resp.json()["code"] == 400
    assert resp.json()["message"].startswith("SerdeJsonError#")
    nan = post(o2, f"/api/default/{stream}/_json", b'[{"a":1},{"a":NaN}]')
    assert nan.status_code == 400
    assert o2.search(f'SELECT * FROM "{stream}"').json()["code"] == 20002  # never created


def test_multi_skips_blank_lines(o2: O2Server) -> None:
    stream = new_stream()
    resp = post(o2, f"/api/default/{stream}/_multi", b'{"a":1}\n\n  \n{"a":2}\n')
    assert resp.json()["status"] == [{"name": stream, "successful": 2, "failed": 0}]


def test_window_rejections_are_failed_inside_200_with_the_exact_message(o2: O2Server) -> None:
    stream = new_stream()
    old = {"_timestamp": now_us() - 6 * HOUR_US, "m": "old"}
    future = {"_timestamp": now_us() + 25 * HOUR_US, "m": "future"}
    fine = {"_timestamp": now_us() - 4 * HOUR_US, "m": "fine"}
    resp = post(o2, f"/api/default/{stream}/_json", rows([fine, old, future]))
    (status,) = resp.json()["status"]
    assert (status["successful"], status["failed"]) == (1, 2)
    assert status["error"].startswith("Too far data, only future 24 hours data can be ingested.")
    resp = post(o2, f"/api/default/{stream}/_json", rows([old]))
    assert resp.json()["status"][0]["error"] == (
        "Too old data, only last 5 hours data can be ingested. Data discarded. You can adjust "
        "ingestion max time by setting the environment variable ZO_INGEST_ALLOWED_UPTO=<max_hours>"
    )
    o2.faults(ingest_allowed_upto_hours=3)
    resp = post(o2, f"/api/default/{stream}/_json", rows([fine]))
    assert "only last 3 hours" in resp.json()["status"][0]["error"]
    assert [h["m"] for h in o2.hits(f'SELECT m FROM "{stream}"')] == ["fine"]


def test_bulk_answers_in_the_elasticsearch_shape(o2: O2Server) -> None:
    stream = new_stream()
    lines = [
        {"index": {"_index": stream, "_id": "d1"}},
        {"msg": "ok"},
        {"create": {"_index": stream}},
        {"msg": "old", "_timestamp": now_us() - 10 * HOUR_US},
        {"index": {"_id": "no-index"}},
        {"msg": "skipped silently"},
    ]
    body = b"\n".join(json.dumps(line).encode() for line in lines) + b"\n"
    resp = post(o2, "/api/default/_bulk", body)
    assert resp.status_code == 200
    out = resp.json()
    assert out["errors"] is True
    ok, failed = out["items"]
    assert ok["index"]["status"] == 200
    assert ok["index"]["_id"] == "d1"
    assert ok["index"]["result"] == "created"
    assert failed["create"]["status"] == 422
    assert failed["create"]["error"]["type"] == "timestamp_parsing_failed"
    assert failed["create"]["error"]["reason"].startswith("Too old data")
    assert failed["create"]["originalRecord"]["msg"] == "old"
    assert [h["msg"] for h in o2.hits(f'SELECT msg FROM "{stream}"')] == ["ok"]
    bad = post(o2, "/api/default/_bulk", body + b"{broken\n")
    assert bad.status_code == 400


def test_injected_statuses_then_recovery(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(statuses=[503], status_next=1)
    first = post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}]))
    assert first.status_code == 503
    assert first.json()["code"] == 503
    second = post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}]))
    assert second.status_code == 200
    o2.faults(statuses=[429], status_rate=1.0)
    assert post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}])).status_code == 429
    assert o2.stats()["failures"]["injected_429"] >= 1


def test_an_injected_429_or_503_may_say_when_to_come_back(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(statuses=[429], status_next=1, retry_after_sec=3)
    refused = post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}]))
    assert (refused.status_code, refused.headers.get("Retry-After")) == (429, "3")
    o2.faults(statuses=[500], status_next=1)  # not a status that says when
    assert "Retry-After" not in post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}])).headers
    o2.faults(statuses=[503], status_next=1, retry_after_sec=0)
    assert "Retry-After" not in post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}])).headers


def test_latency_fault_still_answers(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(latency_ms=50)
    resp = post(o2, f"/api/default/{stream}/_json", rows([{"a": 1}]))
    assert resp.status_code == 200
    assert o2.admin("GET", "faults")["latency_ms"] == 50


def test_silent_loss_answers_200_with_fewer_counted_than_sent(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(silent_loss_rate=0.5, seed=7)
    sent = [{"i": i} for i in range(100)]
    resp = post(o2, f"/api/default/{stream}/_json", rows(sent))
    assert resp.status_code == 200
    (status,) = resp.json()["status"]
    assert status["successful"] + status["failed"] < len(sent)
    assert len(o2.hits(f'SELECT i FROM "{stream}"')) == status["successful"]


def test_too_many_columns_is_lost_silently_like_the_server(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(cols_limit=5)
    wide: dict[str, Any] = {f"c{i}": i for i in range(10)}
    resp = post(o2, f"/api/default/{stream}/_json", rows([wide]))
    assert resp.json()["status"] == [{"name": stream, "successful": 0, "failed": 0}]


def test_no_dedupe_and_admin_counters(o2: O2Server) -> None:
    stream = new_stream()
    before = o2.stats()
    for _ in range(2):
        post(o2, f"/api/default/{stream}/_json", rows([{"event_id": "same"}]))
    assert len(o2.hits(f"SELECT * FROM \"{stream}\" WHERE event_id = 'same'")) == 2
    after = o2.stats()
    assert after["requests"]["_json"] - before["requests"].get("_json", 0) == 2
    assert after["records"]["successful"] - before["records"]["successful"] == 2
    assert after["bytes"]["received"] > before["bytes"]["received"]
    assert after["stored_records"] - before["stored_records"] == 2


def test_bad_fault_values_are_refused(o2: O2Server) -> None:
    resp = httpx.post(f"{o2.url}/_admin/faults", json={"status_rate": 2})
    assert resp.status_code == 400
    resp = httpx.post(f"{o2.url}/_admin/faults", json={"no_such_fault": 1})
    assert resp.status_code == 400


def test_integers_beyond_i64_are_stored_as_floats_like_serde(o2: O2Server) -> None:
    stream = new_stream()
    resp = post(o2, f"/api/default/{stream}/_json", b'[{"big": 1180591620717411303424}]')
    assert resp.json()["status"][0]["successful"] == 1
    (hit,) = o2.hits(f'SELECT big FROM "{stream}"')
    assert hit["big"] == float(2**70)


def test_unicode_keys_are_kept_lower_cased_and_empty_arrays_dropped(o2: O2Server) -> None:
    stream = new_stream()
    record = {"café": 1, "Über": 2, "ÉTÉ.x": 3, "tags": [], "ids": [1], "n": 0}
    resp = post(o2, f"/api/default/{stream}/_json", rows([record]))
    assert resp.json()["status"][0]["successful"] == 1
    (hit,) = o2.hits(f'SELECT * FROM "{stream}"')
    del hit["_timestamp"]
    assert hit == {"café": 1, "über": 2, "été_x": 3, "ids": "[1]", "n": 0}


def test_a_scalar_json_body_is_200_with_one_failed_record(o2: O2Server) -> None:
    stream = new_stream()
    for body in (b"42", b'"text"', b"true"):
        resp = post(o2, f"/api/default/{stream}/_json", body)
        assert resp.status_code == 200, resp.text
        (status,) = resp.json()["status"]
        assert (status["successful"], status["failed"]) == (0, 1)
        assert status["error"] == "flatten value must be an object"
