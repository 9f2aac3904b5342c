"""The `jobs` table: one row per processing run of a file range — the audit trail.

It answers "what happened to this file, and when" for `aurora-processor stats`, and it is the
ledger `aurora-processor verify` holds OpenObserve against (events per file and range). Rows
expire after 30 days (TTL), long after any question about a range is still worth asking.

`job_id` starts with the run's UTC time, so one instance's rows sort by time in a Query.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from common.tables import TableSpec
from processor.checkpoint.codec import from_attr, to_attr

JOB_TTL_SEC = 30 * 24 * 3600

Sink = Literal["openobserve", "s3"]
Outcome = Literal["ok", "recovered", "failed", "dead_lettered", "lease_lost"]


@dataclass(frozen=True)
class Job:
    instance_id: str
    resource_id: str
    generation: str
    log_file_name: str
    log_type: str
    sink: Sink
    start: int
    end: int
    events: int
    outcome: Outcome
    duration_s: float
    attempts: int = 1
    batch_id: str = ""
    error: str = ""
    owner: str = ""
    parser_state: str = ""  # JSON: the parser's state at `start` (verify parses the range again)
    s3_key: str = ""  # the archive object of an S3 job
    started_at: float = field(default_factory=time.time)
    job_id: str = ""

    def with_id(self) -> Job:
        if self.job_id:
            return self
        when = datetime.fromtimestamp(self.started_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return Job(**{**asdict(self), "job_id": f"{when}#{uuid.uuid4().hex[:12]}"})


class JobsLog:
    def __init__(self, ddb: Any, spec: TableSpec, clock: Any = time.time) -> None:
        self._ddb = ddb
        self._spec = spec
        self._clock = clock

    async def record(self, job: Job) -> Job:
        job = job.with_id()
        item = {k: to_attr(v) for k, v in asdict(job).items() if v != ""}
        item[self._spec.hash_key] = {"S": job.instance_id}
        if self._spec.range_key:
            item[self._spec.range_key] = {"S": job.job_id}
        if self._spec.ttl_attribute:
            item[self._spec.ttl_attribute] = to_attr(int(self._clock()) + JOB_TTL_SEC)
        await self._ddb.put_item(TableName=self._spec.name, Item=item)
        return job

    async def recent(self, since: float) -> list[Job]:
        """Every job that started at or after `since` (a Scan: the table is small and TTL'd)."""
        jobs: list[Job] = []
        names = {f.name for f in Job.__dataclass_fields__.values()}
        paginator = self._ddb.get_paginator("scan")
        async for page in paginator.paginate(
            TableName=self._spec.name,
            FilterExpression="started_at >= :since",
            ExpressionAttributeValues={":since": to_attr(since)},
        ):
            for item in page.get("Items", []):
                row = {k: from_attr(v) for k, v in item.items() if k in names}
                jobs.append(Job(**row))
        return sorted(jobs, key=lambda j: j.job_id)
