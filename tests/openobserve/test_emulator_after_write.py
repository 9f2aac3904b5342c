"""Faults after the write (issue 9 item 12): a 502/504 or a timeout that arrives once the records
are stored, and a 200 with matching counts that hides records never written, which only the
ground truth (`/_admin/truth`) shows."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.openobserve.conftest import PASSWORD, USER, O2Server, new_stream


def post(o2: O2Server, stream: str, n: int, timeout: float = 10) -> httpx.Response:
    records = [{"event_id": f"e{i}", "i": i} for i in range(n)]
    return httpx.post(
        f"{o2.url}/api/default/{stream}/_json",
        content=json.dumps(records),
        auth=(USER, PASSWORD),
        timeout=timeout,
    )


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_after_the_write_leaves_the_records_stored(
    o2: O2Server, status: int
) -> None:
    stream = new_stream()
    o2.faults(after_write=[str(status)], after_write_next=1)
    resp = post(o2, stream, 20)
    assert resp.status_code == status
    assert "stored" in resp.text
    assert o2.truth(stream)["stored"] == 20
    assert len(o2.hits(f'SELECT i FROM "{stream}"')) == 20
    assert post(o2, stream, 1).status_code == 200  # only the next request


def test_a_timeout_after_the_write_leaves_the_records_stored(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(after_write=["timeout"], after_write_next=1, after_write_stall_ms=3_000)
    with pytest.raises(httpx.ReadTimeout):
        post(o2, stream, 15, timeout=0.5)
    assert o2.truth(stream)["stored"] == 15  # written before the answer stalled


def test_a_200_with_matching_counts_can_hide_records_never_written(o2: O2Server) -> None:
    stream = new_stream()
    o2.faults(hidden_loss_rate=0.3, seed=7)
    lost_before = o2.stats()["records"]["lost_after_ack"]
    resp = post(o2, stream, 200)
    status = resp.json()["status"][0]
    assert resp.status_code == 200
    assert (status["successful"], status["failed"]) == (200, 0)  # what the sender sees: all good
    truth = o2.truth(stream, event_ids=True)
    assert truth["acknowledged"] == 200
    assert 100 < truth["stored"] < 200  # the ground truth differs from the acknowledgement
    assert truth["stored"] == len(truth["event_ids"]) == len(o2.hits(f'SELECT i FROM "{stream}"'))
    lost = o2.stats()["records"]["lost_after_ack"] - lost_before
    assert lost == 200 - truth["stored"]
