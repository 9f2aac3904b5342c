"""The jobs table against moto: rows written with a TTL, read back by time."""

from __future__ import annotations

import uuid
from typing import Any

from common.aws import AwsClients
from common.settings import Settings
from common.tables import TableSpec
from processor.jobs import JOB_TTL_SEC, Job, JobsLog


def _job(start: int, at: float, outcome: Any = "ok") -> Job:
    return Job(
        instance_id="orders-1",
        resource_id="db-X",
        generation="g",
        log_file_name="error/mysql-error-running.log",
        log_type="error",
        sink="openobserve",
        start=start,
        end=start + 10,
        events=3,
        outcome=outcome,
        duration_s=0.25,
        started_at=at,
    )


async def test_jobs_are_kept_30_days_and_listed_by_time(settings: Settings) -> None:
    spec = TableSpec("jobs-" + uuid.uuid4().hex[:8], "instance_id", "job_id", "expires_at")
    async with AwsClients(settings.aws).client("dynamodb") as ddb:
        await ddb.create_table(**spec.create_kwargs())
        log = JobsLog(ddb, spec, clock=lambda: 1_000.0)
        for at, start in ((300.0, 20), (100.0, 0), (200.0, 10)):
            await log.record(_job(start, at, "failed" if start == 10 else "ok"))
        recent = await log.recent(since=150.0)
        assert [(j.start, j.outcome) for j in recent] == [(10, "failed"), (20, "ok")]
        raw = await ddb.scan(TableName=spec.name)
        assert {int(i["expires_at"]["N"]) for i in raw["Items"]} == {1_000 + JOB_TTL_SEC}
        await ddb.delete_table(TableName=spec.name)
