"""The figures of one pipeline run, taken from outside the services, as a `Measurement`.

`make demo` prints one as its report; `bench/pipeline.py` writes them to JSON. Each figure comes
from the place that knows it, never from what a service says about itself alone:

* **generated**: the RDS emulator's ground truth (`/_admin/ground-truth/{instance}`): every
  file's size now; RDS calls and throttles by operation from its `/_admin/stats`;
* **archived**: the S3 objects under `raw/` (their keys hold the byte range of the file);
* **shipped**: the tracking rows' `shipped_offset` (DynamoDB), and the events OpenObserve holds
  (`/_admin/truth`: stored, acknowledged, copies per `event_id`);
* the services' Prometheus samples (`Services.metrics()`): downloads by API, events shipped,
  the cache, throttles seen, cycles, Kafka messages announced; `/proc` for the processors' CPU.

**Freshness**, as measured here: for a sample of the events OpenObserve holds, the time from the
line's write to its arrival. The write time is the event's own timestamp (`event_time`), which
is on the RDS emulator's clock, mapped back to wall time with that clock's speed
(`figures.ClockMap`); the arrival is the OpenObserve emulator's ingest time
(`/_admin/arrivals`). Lines written before the services started (the emulated history) are left
out: they measure catching up, not freshness. Nothing in the services depends on this.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx

from common.aws import AwsClients
from common.log_files import LogNameError, generation_of
from common.log_types import LOG_TYPES
from common.settings import Settings, load_settings
from devstack.figures import ClockMap, covered, per_gb, percentile
from devstack.provision import scoped_environ
from devstack.services import Services
from processor.sinks.openobserve.client import OpenObserveClient

FRESHNESS_SAMPLE = 20_000  # events per stream whose arrival is looked at
TOP_QUERIES_SQL = (
    "SELECT fingerprint, count(*) AS calls, sum(query_time) AS total_time, "
    'max(query_time) AS max_time FROM "{stream}" GROUP BY fingerprint '
    "ORDER BY total_time DESC LIMIT {limit}"
)


@dataclass(frozen=True)
class TypeVolume:
    """One log type's bytes and events, from the ground truth, S3, DynamoDB and OpenObserve."""

    log_type: str
    files: int = 0
    generated: int = 0  # bytes of every file of the type (ground truth, now)
    rotated: int = 0  # of which in rotated (complete) files
    archived: int = 0  # raw bytes in S3, ranges of rotated files (union)
    archived_twice: int = 0  # raw bytes in more than one S3 object
    rotated_unarchived: int = 0  # rotated bytes not (yet) in S3
    shipped: int = 0  # tracking rows' shipped_offset (bytes whose events are in OpenObserve)
    # generated - shipped, explained: rotated files not yet read to their end, open files read
    # while active but behind, open files of a type read only once rotated (FOLLOW_ACTIVE).
    rotated_unshipped: int = 0
    open_unshipped: int = 0
    waiting_rotation: int = 0
    events_stored: int = 0
    events_acknowledged: int = 0
    duplicate_events: int = 0  # copies beyond the first of an event_id
    freshness_p50: float | None = None
    freshness_p95: float | None = None
    freshness_samples: int = 0


@dataclass(frozen=True)
class QueryClass:
    fingerprint: str
    calls: int
    total_time: float
    max_time: float


@dataclass(frozen=True)
class Measurement:
    """What a run moved and what it cost, at `taken_at` (wall clock), `elapsed_sec` after the
    services started."""

    taken_at: float
    elapsed_sec: float
    volumes: dict[str, TypeVolume]
    rds_calls: dict[str, int]  # the emulator's count, by operation
    rds_throttled: dict[str, int]  # the emulator's Throttling answers, by operation
    downloaded: dict[str, float]  # processors' bytes read from RDS, by API (portion, complete)
    cache: dict[str, float]  # discovery's cache lookups by result (hit, miss, stale)
    throttles_seen: float  # Throttling answers the services retried
    discovery_cycles: float
    discovery_rds_calls: float
    kafka_messages: float  # LogFileMessages discovery published
    dynamodb_writes: int  # tracking-row versions plus jobs rows
    processor_cpu_sec: float
    processors: int
    events_shipped: float  # the processors' own count (OpenObserve confirmed)
    top_queries: list[QueryClass] = field(default_factory=list)
    top_queries_sql: str = ""

    def total(self, name: str) -> int:
        """A `TypeVolume` field summed over the log types (`total("shipped")`)."""
        return sum(int(getattr(v, name)) for v in self.volumes.values())

    @property
    def shipped(self) -> int:
        return self.total("shipped")

    @property
    def total_rds_calls(self) -> int:
        return sum(self.rds_calls.values())

    @property
    def cache_hit_rate(self) -> float | None:
        total = sum(self.cache.values())
        return (
            (self.cache.get("hit", 0.0) + self.cache.get("stale", 0.0)) / total if total else None
        )

    @property
    def mb_per_s(self) -> float:
        return self.shipped / 1e6 / self.elapsed_sec if self.elapsed_sec > 0 else 0.0

    def figures(self) -> dict[str, float | None]:
        """The benchmark's keys (per GB = per 10^9 bytes shipped)."""
        shipped = self.shipped
        freshness = [v for v in self.volumes.values() if v.freshness_samples]
        return {
            "end_to_end_mb_per_s": round(self.mb_per_s, 3),
            "processor_cpu_s_per_gb": _round(per_gb(self.processor_cpu_sec, shipped)),
            "rds_calls_per_gb": _round(per_gb(self.total_rds_calls, shipped)),
            "discovery_calls_per_cycle": _round(
                self.discovery_rds_calls / self.discovery_cycles if self.discovery_cycles else None
            ),
            "freshness_p50_sec": _round(_worst(v.freshness_p50 for v in freshness)),
            "freshness_p95_sec": _round(_worst(v.freshness_p95 for v in freshness)),
            "kafka_messages_per_gb": _round(per_gb(self.kafka_messages, shipped)),
            "dynamodb_writes_per_gb": _round(per_gb(self.dynamodb_writes, shipped)),
        }

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["figures"] = self.figures()
        return body


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _worst(values: Any) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process (`/proc/<pid>/stat`), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command: state is field 3, utime 14 and stime 15 (1-based, proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    env: Mapping[str, str],
    services: Services,
    since_emulated: float,
    elapsed_sec: float,
    top: int = 10,
) -> Measurement:
    """Everything above, now. `since_emulated` is the emulated time at which the services
    started (freshness looks at later lines only)."""
    samples = await asyncio.to_thread(services.metrics)
    discovery = await asyncio.to_thread(services.metrics, "discovery")
    processors = services.processors()
    cpu = sum(cpu_seconds(p.pid) for p in processors if p.alive)
    with scoped_environ(dict(env)):
        settings = load_settings()
        async with httpx.AsyncClient(timeout=120) as http:
            rds = env["AWS_ENDPOINT_URL_RDS"]
            o2 = env["OPENOBSERVE_URL"]
            clock = await _clock(http, rds)
            files = await _ground_truth(http, rds)
            stats = (await http.get(f"{rds}/_admin/stats")).json()
            events = {
                t: await _stream_truth(http, o2, settings.openobserve.streams()[t])
                for t in LOG_TYPES
            }
            freshness = {
                t: await _freshness(http, o2, stream, clock, since_emulated)
                for t, stream in settings.openobserve.streams().items()
            }
        rows, jobs = await _tables(settings)
        archive = await _archive(settings)
        queries, sql = (
            ([], "")
            if not events["slowquery"]["stored"]
            else (await _top_queries(settings, clock, top))
        )
    follow = {t.value for t in settings.processor.follow_active_types}
    volumes = _volumes(files, rows, archive, events, freshness, follow)
    return Measurement(
        taken_at=time.time(),
        elapsed_sec=elapsed_sec,
        volumes=volumes,
        rds_calls={k: int(v) for k, v in stats.get("calls", {}).items()},
        rds_throttled={k: int(v) for k, v in stats.get("throttled", {}).items()},
        downloaded=samples.by_label("aurora_processor_bytes_downloaded_total", "api"),
        cache=samples.by_label("aurora_discovery_cache_requests_total", "result"),
        throttles_seen=samples.total("aurora_rds_throttles_total"),
        discovery_cycles=discovery.total("aurora_discovery_cycles_total"),
        discovery_rds_calls=discovery.total("aurora_rds_api_calls_total"),
        kafka_messages=samples.total("aurora_discovery_files_announced_total"),
        dynamodb_writes=sum(int(r.get("version", 0)) for r in rows) + jobs,
        processor_cpu_sec=cpu,
        processors=len([p for p in processors if p.alive]),
        events_shipped=samples.total("aurora_processor_events_shipped_total"),
        top_queries=queries,
        top_queries_sql=sql,
    )


async def _clock(http: httpx.AsyncClient, rds: str) -> ClockMap:
    wall = time.time()
    body = (await http.get(f"{rds}/_admin/clock")).json()
    return ClockMap(wall=wall, emulated=float(body["now"]), speed=float(body["speed"]))


async def emulated_now(rds: str) -> float:
    """The RDS emulator's clock now (emulated epoch seconds)."""
    async with httpx.AsyncClient(timeout=10) as http:
        return (await _clock(http, rds)).emulated


async def _ground_truth(http: httpx.AsyncClient, rds: str) -> list[dict[str, Any]]:
    """Every followed file of every instance that has files, with its instance and resource."""
    known = (await http.get(f"{rds}/_admin/ground-truth")).json()["instances"]
    gate = asyncio.Semaphore(8)

    async def one(instance: str) -> list[dict[str, Any]]:
        async with gate:
            body = (await http.get(f"{rds}/_admin/ground-truth/{instance}")).json()
        return [
            {**f, "instance_id": instance, "resource_id": body["resource_id"]}
            for f in body["files"]
            if f["log_type"] in LOG_TYPES
        ]

    found = await asyncio.gather(*(one(i) for i in known))
    return [f for files in found for f in files]


async def _stream_truth(http: httpx.AsyncClient, o2: str, stream: str) -> dict[str, int]:
    params = {"stream": stream, "event_ids": "true"}
    body = (await http.get(f"{o2}/_admin/truth", params=params)).json()
    copies = body.get("event_ids", {}).values()
    return {
        "stored": int(body.get("stored", 0)),
        "acknowledged": int(body.get("acknowledged", 0)),
        "duplicates": sum(max(int(n) - 1, 0) for n in copies),
    }


async def _freshness(
    http: httpx.AsyncClient, o2: str, stream: str, clock: ClockMap, since_emulated: float
) -> list[float]:
    """Seconds from write to arrival of a sample of the stream's events (see the docstring)."""
    params = {"stream": stream, "field": "event_time", "limit": str(FRESHNESS_SAMPLE)}
    body = (await http.get(f"{o2}/_admin/arrivals", params=params)).json()
    return freshness_of(body.get("rows", []), clock, since_emulated)


def freshness_of(
    rows: Sequence[Sequence[Any]], clock: ClockMap, since_emulated: float
) -> list[float]:
    """`[event_time ISO text, arrival µs]` rows as write-to-arrival seconds, lines written
    before `since_emulated` left out."""
    out = []
    for event_time, arrived_us in rows:
        if not isinstance(event_time, str) or arrived_us is None:
            continue
        written = datetime.fromisoformat(event_time).timestamp()
        if written < since_emulated:
            continue
        out.append(int(arrived_us) / 1e6 - clock.to_wall(written))
    return out


async def _tables(settings: Settings) -> tuple[list[dict[str, Any]], int]:
    """Every tracking row (plain values) and the number of jobs rows."""
    rows: list[dict[str, Any]] = []
    jobs = 0
    async with AwsClients(settings.aws).client("dynamodb") as ddb:
        pages = ddb.get_paginator("scan").paginate(TableName=settings.tables.tracking_table)
        async for page in pages:
            rows += [{k: next(iter(v.values())) for k, v in item.items()} for item in page["Items"]]
        counts = ddb.get_paginator("scan").paginate(
            TableName=settings.tables.jobs_table, Select="COUNT"
        )
        async for page in counts:
            jobs += int(page["Count"])
    return rows, jobs


async def _archive(settings: Settings) -> dict[tuple[str, str, str], list[tuple[int, int]]]:
    """Archived byte ranges by (instance, log type, file base name), from the raw keys:
    `{prefix}raw/{engine}/{cluster}/{instance}/{type}/dt=…/{base}.{start}-{end}.{ext}`."""
    found: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    prefix = settings.s3.s3_prefix + "raw/"
    async with AwsClients(settings.aws).client("s3") as s3:
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=settings.s3.s3_bucket, Prefix=prefix
        )
        async for page in pages:
            for obj in page.get("Contents", []):
                parts = obj["Key"][len(prefix) :].split("/")
                if len(parts) != 6:
                    continue
                _engine, _cluster, instance, log_type, _day, leaf = parts
                stem = leaf.rsplit(".", 1)[0]
                base, span = stem.rsplit(".", 1)
                start, end = span.split("-")
                found[(instance, log_type, base)].append((int(start), int(end)))
    return found


async def _top_queries(
    settings: Settings, clock: ClockMap, top: int
) -> tuple[list[QueryClass], str]:
    """The slow log's classes by total time, through OpenObserve's `_search` (the client's)."""
    stream = settings.openobserve.streams()["slowquery"]
    sql = TOP_QUERIES_SQL.format(stream=stream, limit=top)
    start_us = int((clock.emulated - 2 * 86_400) * 1e6)
    end_us = int((clock.emulated + 3_600) * 1e6)
    async with OpenObserveClient(settings.openobserve) as client:
        result = await client.search(sql, start_us=start_us, end_us=end_us, size=top)
    classes = [
        QueryClass(
            fingerprint=str(hit.get("fingerprint", "")),
            calls=int(hit.get("calls", 0)),
            total_time=float(hit.get("total_time") or 0.0),
            max_time=float(hit.get("max_time") or 0.0),
        )
        for hit in result.hits
    ]
    return classes, sql


def _volumes(
    files: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    archive: Mapping[tuple[str, str, str], list[tuple[int, int]]],
    events: Mapping[str, Mapping[str, int]],
    freshness: Mapping[str, list[float]],
    follow_active: set[str],
) -> dict[str, TypeVolume]:
    shipped_at = {
        (str(r.get("resource_id")), str(r.get("generation"))): int(r.get("shipped_offset", 0))
        for r in rows
    }
    acc: dict[str, dict[str, int]] = {t: defaultdict(int) for t in LOG_TYPES}
    for f in files:
        a = acc[f["log_type"]]
        size = int(f["size"])
        a["files"] += 1
        a["generated"] += size
        shipped = min(shipped_at.get(_key(f), 0), size)
        a["shipped"] += shipped
        if f["state"] == "open":
            waiting = f["log_type"] not in follow_active
            a["waiting_rotation" if waiting else "open_unshipped"] += size - shipped
            continue
        a["rotated"] += size
        a["rotated_unshipped"] += size - shipped
        base = f["name"].rsplit("/", 1)[-1]
        union, twice = covered(archive.get((f["instance_id"], f["log_type"], base), []))
        a["archived"] += min(union, size)
        a["archived_twice"] += twice
        a["rotated_unarchived"] += max(size - union, 0)
    out = {}
    for t in LOG_TYPES:
        sample = freshness.get(t, [])
        out[t] = TypeVolume(
            log_type=t,
            **acc[t],
            events_stored=events[t]["stored"],
            events_acknowledged=events[t]["acknowledged"],
            duplicate_events=events[t]["duplicates"],
            freshness_p50=percentile(sample, 50),
            freshness_p95=percentile(sample, 95),
            freshness_samples=len(sample),
        )
    return out


def _key(f: Mapping[str, Any]) -> tuple[str, str]:
    """A ground-truth file's tracking key: (resource id, generation of its final name)."""
    try:
        generation = generation_of(f["name"], int(f["last_written"]), int(f["size"])).key
    except LogNameError:
        generation = f["name"]
    return str(f["resource_id"]), generation
