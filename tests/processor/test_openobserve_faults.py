"""OpenObserve's faults while the FileWorker ships a rotated file, injected into the emulator
through `/_admin/faults`: whatever the server does, every event ends stored once and the S3 copy
is the file byte for byte.

Transient refusals are retried (and counted in `aurora_openobserve_retries_total`); an answer
that may hide a write (a gateway error after it, counts short of what was sent) is reconciled
by asking which events are stored before anything is sent again; a recovery after a crash
trusts neither a partial nor a young search answer; a 200 that hid a lost write is found and
repaired by `aurora-processor verify` from S3. A permanent refusal (400/401/403) is not retried:
the range is dead-lettered with the server's answer and its bytes stay in S3. The client's own
handling of each answer is tested in tests/openobserve; here it is the processor's protocol
around it (intent, checkpoint, recovery, jobs, dead letters) that must hold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from common.messages import LogFileMessage
from common.settings import load_settings
from processor.checkpoint import CheckpointStore, FileKey
from processor.errors import DeliveryUnsettled
from processor.file_worker import FileResult
from processor.jobs import JobsLog
from processor.verify import verify
from tests.processor.conftest import World, archived, expected_ids, one_rotated_file
from tests.processor.test_file_worker import CrashAfterSend

SEED = 20261125  # the emulator's fault generator: the same draws for the same requests


@dataclass(frozen=True)
class Fault:
    name: str
    faults: dict[str, Any]  # set on the emulator while the worker ships (or recovers)
    struck: tuple[str, str] | None  # (group, key) of the emulator's /_admin/stats that must grow
    retried: tuple[str, str] | None = None  # (operation, reason) of the client's retries
    crash_first: bool = False  # a first run dies after its first batch left: the fault is on
    # during the recovery of that batch
    heal_after: int = 0  # the fault is cleared after this many unsettled attempts
    verify: bool = False  # the loss is invisible to the sender: `verify` must repair it
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    Fault("503 before the write", {"statuses": [503], "status_next": 3},
          ("failures", "injected_503"), ("ingest", "http_503")),
    Fault("429 with Retry-After", {"statuses": [429], "status_next": 1, "retry_after_sec": 1},
          ("failures", "injected_429"), ("ingest", "http_429"), extra={"waited_at_least": 1.0}),
    Fault("502 after the write", {"after_write": ["502"], "after_write_next": 2},
          ("failures", "after_write_502"), ("ingest", "http_502")),
    Fault("200 with records silently dropped", {"silent_loss_rate": 0.1},
          ("records", "lost"), ("ingest", "count_mismatch")),
    Fault("200 hiding a lost write, then verify", {"hidden_loss_rate": 0.1},
          ("records", "lost_after_ack"), verify=True),
    # Recovery after a crash between sending a batch and its checkpoint: a partial answer is
    # not taken for absence (unsettled until a querier is back), and the search is asked only
    # once the server's visibility lag (under OPENOBSERVE_VISIBILITY_LAG_SEC) has passed.
    Fault("partial and lagging search during recovery",
          {"search_partial_rate": 1.0, "search_partial_share": 1.0, "visibility_lag_ms": 800},
          ("failures", "search_partial"), crash_first=True, heal_after=2),
]  # fmt: skip


def _o2_stats(world: World) -> dict[str, dict[str, int]]:
    url = f"{world.settings.openobserve.openobserve_url}/_admin/stats"
    resp = httpx.get(url, timeout=30)
    resp.raise_for_status()
    stats: dict[str, dict[str, int]] = resp.json()
    return stats


def _retries(operation: str, reason: str) -> float:
    labels = {"operation": operation, "reason": reason}
    return REGISTRY.get_sample_value("aurora_openobserve_retries_total", labels) or 0.0


async def _settle(world: World, msg: LogFileMessage, case: Fault) -> tuple[FileResult, int]:
    """Handle `msg` as the consumer does: again after each unsettled delivery (the intent
    stays, the next attempt asks OpenObserve again). Returns the result and the attempts that
    ended unsettled."""
    unsettled = 0
    while True:
        try:
            return await world.worker("p2").handle(msg), unsettled
        except DeliveryUnsettled:
            unsettled += 1
            assert unsettled < 10, "never settled"
            if unsettled == case.heal_after:
                world.o2_faults("POST", {"search_partial_rate": 0.0})  # the querier is back


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_openobserve_faults_lose_and_duplicate_nothing(world: World, case: Fault) -> None:
    msg = await one_rotated_file(world, "aurora-mysql", "slowquery")
    truth = world.truth(msg.instance_id, msg.log_file_name)
    stream = world.settings.openobserve.streams()["slowquery"]
    if case.crash_first:
        with pytest.raises(RuntimeError, match="killed"):
            await world.worker("p1", sink=CrashAfterSend(world.o2)).handle(msg)
    before = _o2_stats(world)
    retries = _retries(*case.retried) if case.retried else 0.0
    world.o2_faults("POST", {**case.faults, "seed": SEED})
    started = time.monotonic()
    try:
        result, unsettled = await _settle(world, msg, case)
    finally:
        world.o2_faults("DELETE")
    elapsed = time.monotonic() - started
    after = _o2_stats(world)
    assert result.outcome == "complete" and result.shipped_offset == len(truth)
    if case.struck:
        group, key = case.struck
        assert after[group].get(key, 0) > before[group].get(key, 0), "the fault never struck"
    if case.retried:
        assert _retries(*case.retried) > retries
    assert unsettled == case.heal_after  # a partial answer is never taken for absence
    assert elapsed >= case.extra.get("waited_at_least", 0.0)  # Retry-After was honoured
    expected = expected_ids(msg, truth)
    if case.verify:
        acknowledged = world.o2_copies(stream)
        lost = [e for e in expected if acknowledged.get(e, 0) == 0]
        assert lost, "the fault lost nothing: the case proves nothing"
        mine = load_settings(tracking_table=world.tracking.name, jobs_table=world.jobs.name)
        report = await verify(mine, since_sec=3600)
        assert (report.missing, report.reshipped, report.unknown) == (len(lost), len(lost), 0)
        assert report.ok and report.not_archived == 0 and report.events_checked >= len(expected)
        again = await verify(mine, since_sec=3600)
        assert again.missing == 0 and again.ok  # repaired once, then nothing to do
    copies = world.o2_copies(stream)
    duplicated = [e for e in expected if copies.get(e, 0) > 1]
    lost = [e for e in expected if copies.get(e, 0) == 0]
    assert (duplicated, lost) == ([], [])
    assert await archived(world, msg) == truth


async def test_a_permanent_refusal_dead_letters_the_range_and_keeps_the_s3_copy(
    world: World,
) -> None:
    """400, 401, 403: each a file of its own (the same bytes under three generations)."""
    sample = await one_rotated_file(world, "aurora-mysql", "slowquery")
    truth = world.truth(sample.instance_id, sample.log_file_name)
    for status in (400, 401, 403):
        msg = sample.model_copy(update={"generation": f"{sample.generation}{status}"})
        world.letters.clear()
        retries = _retries("ingest", f"http_{status}")
        world.o2_faults("POST", {"statuses": [status], "status_rate": 1.0})
        try:
            result = await world.worker("p1").handle(msg)
        finally:
            world.o2_faults("DELETE")
        # Not retried: the same request would be refused again; the partition moves on.
        assert _retries("ingest", f"http_{status}") == retries
        assert result.outcome == "complete" and result.shipped_offset == len(truth)
        assert world.letters, f"{status}: nothing dead-lettered"
        refused = sum(len(letter["event_ids"]) for letter in world.letters)
        assert refused == len(expected_ids(msg, truth))
        for letter in world.letters:
            assert (letter["reason"], letter["status"]) == ("openobserve_refused", status)
            assert '"code":' in letter["body"] and "injected failure" in letter["body"]
            assert letter["generation"] == msg.generation and letter["range"][1] > 0
        row = await CheckpointStore(world.ddb, world.tracking, "x", 1).load(
            FileKey(msg.resource_id, msg.generation)
        )
        assert row.pending is None and row.archived_offset == len(truth)
    # The raw bytes stay in S3 (`verify` re-ships them once the cause is fixed): the archive
    # is the same object key for the three generations of one file, and it is the file.
    assert await archived(world, sample) == truth
    jobs = [j for j in await JobsLog(world.ddb, world.jobs).recent(0) if j.sink == "openobserve"]
    assert {j.generation for j in jobs} == {f"{sample.generation}{s}" for s in (400, 401, 403)}
    assert all(j.outcome == "failed" and "refused" in j.error for j in jobs)
