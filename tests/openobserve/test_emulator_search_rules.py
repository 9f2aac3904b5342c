"""Search errors and rules as the server answers them (issue 9 item 13)."""

from __future__ import annotations

import httpx

from tests.openobserve.conftest import PASSWORD, USER, O2Server, new_stream


def test_a_sql_execution_error_is_400_code_20008(o2: O2Server) -> None:
    stream = new_stream()
    o2.ingest(stream, [{"a": 1}])
    resp = o2.search(f"SELECT histogram(_timestamp, 'fortnight') AS t FROM \"{stream}\"")
    assert resp.status_code == 400
    assert resp.json()["code"] == 20008


def test_an_unknown_organization_is_404_in_plain_text(o2: O2Server) -> None:
    body = {"query": {"sql": 'SELECT * FROM "x"', "start_time": 0, "end_time": 10}}
    resp = httpx.post(f"{o2.url}/api/no_such_org/_search", json=body, auth=(USER, PASSWORD))
    assert (resp.status_code, resp.text) == (404, "Organization not found")
    assert resp.headers["Content-Type"].startswith("text/plain")


def test_start_and_end_time_are_required(o2: O2Server) -> None:
    for missing in ("start_time", "end_time"):
        query = {"sql": 'SELECT * FROM "x"', "start_time": 0, "end_time": 10}
        del query[missing]
        resp = httpx.post(
            f"{o2.url}/api/default/_search", json={"query": query}, auth=(USER, PASSWORD)
        )
        assert resp.status_code == 422
        assert f"missing field `{missing}`" in resp.text
        assert resp.headers["Content-Type"].startswith("text/plain")


def test_size_zero_or_minus_one_means_the_default_limit(o2: O2Server) -> None:
    stream = new_stream()
    o2.ingest(stream, [{"i": i} for i in range(1_050)])
    for size in (0, -1):
        body = o2.search(f'SELECT i FROM "{stream}"', size=size).json()
        assert (len(body["hits"]), body["size"]) == (1_000, 1_000), size


def test_simple_selects_get_timestamp(o2: O2Server) -> None:
    stream = new_stream()
    o2.ingest(stream, [{"i": i, "k": "x"} for i in range(3)])
    assert all(set(h) == {"_timestamp", "i"} for h in o2.hits(f'SELECT i FROM "{stream}"'))
    assert o2.hits(f'SELECT DISTINCT k FROM "{stream}"') == [{"k": "x"}]
    assert o2.hits(f'SELECT count(*) AS n FROM "{stream}"') == [{"n": 3}]


def test_like_is_case_sensitive_and_quoted_names_are_exact(o2: O2Server) -> None:
    stream = new_stream()
    o2.ingest(stream, [{"level": "Error", "i": 1}, {"level": "error", "i": 2}, {"level": "Note"}])

    def ids(where: str) -> list[int]:
        hits = o2.hits(f'SELECT i FROM "{stream}" WHERE {where} ORDER BY i')
        return [h["i"] for h in hits]

    assert ids("level LIKE 'Err%'") == [1]
    assert ids("level LIKE 'err%'") == [2]
    assert ids("level ILIKE 'ERR%'") == [1, 2]
    assert ids("level NOT LIKE 'E%' AND i IS NOT NULL") == [2]
    assert ids("LEVEL = 'Error'") == [1]  # unquoted names fold to lower case
    resp = o2.search(f'SELECT "Level" FROM "{stream}"')
    assert (resp.status_code, resp.json()["code"]) == (400, 20004)
    resp = o2.search(f'SELECT level FROM "{stream.upper()}"')
    assert (resp.status_code, resp.json()["code"]) == (400, 20002)
