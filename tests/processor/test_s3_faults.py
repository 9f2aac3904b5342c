"""S3 errors during the archive are retried without a duplicate (issue 12's test list).

The S3 calls go through the fault proxy (`devstack/s3faults`) in front of the session's moto:
500 InternalError, 503 SlowDown and connection resets before the request reaches S3, and the
same after S3 applied it (the write happened, the answer lies). botocore retries most of them;
a burst longer than its attempts fails the message, which the consumer retries from the
checkpoint. Afterwards the archive equals the emulator's ground truth byte for byte, OpenObserve
holds each event once, and every failed attempt was counted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from common.aws import AwsClients
from common.messages import LogFileMessage
from devstack.procs import free_port, start_http_server, stop_group
from processor.file_worker import FileResult
from processor.sinks.s3_archive import RangeArchiver, read_archived_file
from tests.processor.conftest import World, archived, expected_ids, rotated_messages

MiB = 1024 * 1024


class S3Faults:
    """The proxy's admin API, in the OpenObserve emulator's request shape."""

    def __init__(self, url: str) -> None:
        self.url = url

    def set(self, **faults: Any) -> None:
        httpx.post(f"{self.url}/_admin/faults", json=faults, timeout=10).raise_for_status()

    def clear(self) -> None:
        httpx.delete(f"{self.url}/_admin/faults", timeout=10).raise_for_status()

    def reset(self) -> None:
        """Faults cleared and counts zeroed."""
        httpx.post(f"{self.url}/_admin/reset", timeout=10).raise_for_status()

    def injected(self) -> dict[str, int]:
        stats = httpx.get(f"{self.url}/_admin/stats", timeout=10).json()
        return {k: v for k, v in stats["injected"].items() if k != "total"}


@pytest.fixture
def s3_faults(stack_env: dict[str, str], tmp_path: Path) -> Iterator[S3Faults]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "devstack.s3faults", "--port", str(port),
            "--upstream", stack_env["AWS_ENDPOINT_URL_S3"]]  # fmt: skip
    proc = start_http_server(argv, tmp_path / "s3faults.log", f"{url}/_admin/healthz", "s3faults")
    try:
        yield S3Faults(url)
    finally:
        stop_group(proc.pid)


@pytest.fixture
async def faulty_s3(world: World, s3_faults: S3Faults) -> AsyncIterator[Any]:
    aws = AwsClients(world.settings.aws)
    async with aws.session.create_client(
        "s3", region_name=world.settings.aws.aws_region, endpoint_url=s3_faults.url,
        config=aws.config(),
    ) as client:  # fmt: skip
        yield client


def _failures() -> float:
    return sum(
        s.value
        for m in REGISTRY.collect()
        for s in m.samples
        if s.name == "aurora_processor_s3_failures_total"
    )


async def _handle_until_done(world: World, msg: LogFileMessage, attempts: int = 5) -> FileResult:
    """What the consumer does: retry the message (from the checkpoint) while it fails."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return await world.worker("p1").handle(msg)
        except Exception as exc:  # noqa: BLE001 - the consumer retries any error
            last = exc
    raise AssertionError(f"{msg.log_file_name} still failing: {last!r}")


async def test_s3_errors_during_archive_are_retried_without_a_duplicate(
    world: World, s3_faults: S3Faults, faulty_s3: Any
) -> None:
    world.s3 = faulty_s3
    msgs = await rotated_messages(world, "aurora-mysql", ("slowquery", "error"))
    msgs += await rotated_messages(world, "aurora-postgresql", ("postgresql",))
    before = _failures()
    # Every archive PutObject meets trouble: some before S3 (500, 503, reset), some after S3
    # wrote the object; then, for the first file, a burst longer than botocore's 5 attempts.
    s3_faults.set(operations=["PutObject"], seed=7, status_rate=0.3, reset_rate=0.15,
                  after_write_rate=0.3, after_write=["500", "503", "reset"])  # fmt: skip
    results = []
    for i, msg in enumerate(msgs):
        if i == 0:
            s3_faults.set(status_next=6)
        results.append(await _handle_until_done(world, msg))
    injected = s3_faults.injected()
    s3_faults.clear()
    assert [r.outcome for r in results] == ["complete"] * len(msgs)
    for msg in msgs:
        truth = world.truth(msg.instance_id, msg.log_file_name)
        assert await archived(world, msg) == truth, msg.log_file_name
        copies = world.o2_copies(world.settings.openobserve.streams()[str(msg.log_type)])
        ids = expected_ids(msg, truth)
        assert [e for e in ids if copies.get(e, 0) != 1] == [], msg.log_file_name
    kinds = {k.split(":", 1)[1] for k in injected}
    assert {"500:before", "reset:before", "500:after_write"} <= kinds, injected
    # Every 5xx attempt is counted, botocore's retries included (a reset may be retried by the
    # HTTP client itself, unseen by botocore: those are not required to show).
    refused = sum(n for k, n in injected.items() if k.split(":")[1] in ("500", "503"))
    assert _failures() - before >= refused


async def test_a_multipart_range_survives_faults_on_each_of_its_requests(
    world: World, s3_faults: S3Faults, faulty_s3: Any
) -> None:
    data = os.urandom(6 * MiB)  # incompressible: a multipart upload of two parts
    bucket = world.settings.s3.s3_bucket
    for operation in ("UploadPart", "CompleteMultipartUpload", "CopyObject", "DeleteObject"):
        prefix = f"{world.prefix}raw/{operation}/f.log"
        key = f"{prefix}.000000000000-{len(data):012d}.zst"
        # Refused once before S3 sees it, then answered 503 once after S3 applied it.
        s3_faults.set(operations=[operation], status_next=1, after_write_next=1,
                      after_write=["503"])  # fmt: skip
        for _attempt in range(3):  # the processor's retry: the range again, from its start
            writer = RangeArchiver(faulty_s3, bucket, "zst", f"{world.prefix}staging/", 5 * MiB)
            try:
                for i in range(0, len(data), MiB):
                    await writer.write(data[i : i + MiB])
                await writer.close(key, events=None)
                break
            except Exception:  # noqa: BLE001 - past botocore's attempts: the caller retries
                await writer.abort()
        injected = s3_faults.injected()
        s3_faults.reset()
        ranges = await read_archived_file(world.s3, bucket, prefix)
        assert [(s, e) for s, e, _ in ranges] == [(0, len(data))], operation
        assert ranges[0][2] == data, operation
        assert injected == {f"{operation}:500:before": 1, f"{operation}:503:after_write": 1}
