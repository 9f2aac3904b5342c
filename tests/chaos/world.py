"""The chaos suite's world: a private stack (durable Kafka, the S3 fault proxy), discovery and
two processors as real processes, an emulated fleet on an accelerated clock, the admin APIs
that break things, and the judge that holds the result against the emulators' ground truth.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from common.aws import AwsClients
from common.log_files import generation_of
from common.settings import Settings, load_settings
from devstack.pipeline import PACING_DEFAULT_SEC
from devstack.provision import scoped_environ
from devstack.services import Services
from devstack.stack import Stack, StackOptions
from processor.checkpoint.codec import from_attr
from processor.documents import event_id
from processor.parsers import parser_for
from processor.sinks.s3_archive import decompress

# A few instances, an emulated hour per minute, small rates: rotations happen during the run.
RDS_ARGS = (
    "--instances {instances} --seed {seed} --clock-speed {speed} --rate-scale 0.2 "
    "--busy-fraction 0.5 --history-hours 1 --logging all --profile realistic --stopped 0"
)

SERVICE_ENV = {
    "DISCOVERY_INTERVAL_SEC": "2",
    "DISCOVERY_QUIET_MAX_SEC": "4",
    "DISCOVERY_MARGIN_SEC": "600",
    "DISCOVERY_FULL_LISTING_SEC": "6",
    "DISCOVERY_REANNOUNCE_SEC": "8",
    # The default pacing of a growing file's announcements, on RDS's clock at 60x.
    "DISCOVERY_ACTIVE_MAX_DELAY_SEC": f"{PACING_DEFAULT_SEC / 60:g}",
    # Caches scaled to the clock (an emulated hour a minute): a deleted instance leaves the
    # cached fleet, and a new file the cached listing, within seconds.
    "CACHE_TTL_DESCRIBE_SEC": "4",
    "CACHE_TTL_LOG_FILES_SEC": "2",
    # Every instance followed (the emulated fleet opts a tenth out by tag): the judge holds
    # the whole fleet's ground truth.
    "DISCOVERY_OPT_OUT_TAG": "none",
    "KAFKA_SESSION_TIMEOUT_MS": "6000",
    "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    "PROCESSOR_RANGE_BYTES": "16384",
    "PROCESSOR_LEASE_SEC": "10",
    "PROCESSOR_MAX_ATTEMPTS": "5",
    "OPENOBSERVE_VISIBILITY_LAG_SEC": "1",
    "OPENOBSERVE_BACKOFF_MAX_SEC": "2",
    "RDS_BACKOFF_MAX_SEC": "2",
    "SHUTDOWN_TIMEOUT_SEC": "10",
    "LOG_LEVEL": "INFO",
}


@dataclass
class FileTruth:
    """One generated file as the RDS emulator's ground truth lists it."""

    instance_id: str
    resource_id: str
    name: str
    listed_name: str
    log_type: str
    size: int
    state: str  # open | rotated | expired
    last_written: int
    created: float
    exists: bool  # the instance still exists
    deleted_at: float | None

    @property
    def generation(self) -> str:
        return generation_of(self.name, self.last_written, self.size).key


@dataclass
class Verdict:
    """What the judge found; `problems` empty means the run kept every promise."""

    files_judged: int = 0
    bytes_judged: int = 0
    events_judged: int = 0
    vanished_reported: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class ChaosWorld:
    def __init__(self, root: Path, seed: int, instances: int = 4, speed: float = 60) -> None:
        self.root = root
        self.seed = seed
        self.stack = Stack(root / "stack", StackOptions(s3_faults=True, durable_kafka=True))
        self.rds_args = RDS_ARGS.format(instances=instances, seed=seed, speed=speed)
        self.env: dict[str, str] = {}
        self.services: Services | None = None
        self.settings: Settings | None = None
        self.crashes: list[str] = []
        self._truth: dict[tuple[str, str, int], bytes] = {}

    # ------------------------------------------------------------------ start, stop
    def up(self) -> None:
        with scoped_environ({"DEVSTACK_RDS_ARGS": self.rds_args}):
            state = self.stack.up()
        self.env = self.stack.env(state)
        self.services = Services(self.env | SERVICE_ENV, self.root / "logs")
        with scoped_environ(self.env):
            self.settings = load_settings()

    def start_services(self, processors: int = 2) -> None:
        assert self.services is not None
        started = [self.services.start("discovery")]
        started += [self.services.start("processor") for _ in range(processors)]
        for service in started:
            self.services.wait_ready(service)

    def revive(self) -> list[str]:
        """Start again every service that exited by itself, as a Deployment would; returns
        `name exit code` of each (a crash is a finding, not a loss)."""
        assert self.services is not None
        crashed = []
        for service in self.services:
            code = service.process.poll()
            if code is not None:
                crashed.append(f"{service.name} exit {code}: {_last_error(service.log)}")
                self.services.start(service.kind, service.name)
        return crashed

    def down(self) -> None:
        if self.services is not None:
            self.services.stop_all(timeout=15)
        self.stack.down()

    def url(self, server: str) -> str:
        return self.stack.load().servers[server].url

    # ------------------------------------------------------------------ admin APIs
    def admin(self, server: str, method: str, path: str, body: Any = None) -> Any:
        resp = httpx.request(method, f"{self.url(server)}/_admin/{path}", json=body, timeout=60)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def fleet(self) -> list[dict[str, Any]]:
        instances: list[dict[str, Any]] = self.admin("rds", "GET", "fleet")["instances"]
        return instances

    def truth_files(self) -> list[FileTruth]:
        found: list[FileTruth] = []
        for inst in self.admin("rds", "GET", "ground-truth")["instances"]:
            gt = self.admin("rds", "GET", f"ground-truth/{inst}")
            for f in gt["files"]:
                if f["log_type"] == "unfollowed":
                    continue
                found.append(
                    FileTruth(
                        gt["instance_id"], gt["resource_id"], f["name"],
                        f["listed_name"], f["log_type"], f["size"], f["state"],
                        f["last_written"], f["created"], bool(gt.get("exists", True)),
                        gt.get("deleted_at"),
                    )
                )  # fmt: skip
        return found

    def truth_bytes(self, f: FileTruth) -> bytes:
        """The file's exact bytes (kept: the judge asks twice, and the clock is frozen)."""
        key = (f.instance_id, f.name, f.size)
        if key not in self._truth:
            url = f"{self.url('rds')}/_admin/ground-truth/{f.instance_id}/{f.name}"
            resp = httpx.get(url, timeout=120)
            resp.raise_for_status()
            self._truth[key] = resp.content
        return self._truth[key]

    def struck(self) -> dict[str, Any]:
        """How often each kind of fault actually struck (a fault that never met any work
        proves nothing: the soak's longer phases make sure)."""
        o2 = self.admin("openobserve", "GET", "stats")
        rds = self.admin("rds", "GET", "stats")
        return {
            "openobserve_failures": o2.get("failures", {}),
            "openobserve_lost_after_ack": o2.get("records", {}).get("lost_after_ack", 0),
            "s3_injected": self.admin("s3faults", "GET", "stats")["injected"],
            "rds_throttled": rds.get("total_throttled", 0),
        }

    # ------------------------------------------------------------------ the processor's state
    async def rows(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every tracking row, by (resource_id, generation)."""
        return {(r["resource_id"], r["generation"]): r for r in await self._scan("tracking")}

    async def jobs(self) -> list[dict[str, Any]]:
        return await self._scan("jobs")

    async def _scan(self, table: str) -> list[dict[str, Any]]:
        assert self.settings is not None
        name = {"tracking": self.settings.tables.tracking_table,
                "jobs": self.settings.tables.jobs_table}[table]  # fmt: skip
        with scoped_environ(self.env):
            async with AwsClients(self.settings.aws).client("dynamodb") as ddb:
                items = []
                async for page in ddb.get_paginator("scan").paginate(TableName=name):
                    items += [{k: from_attr(v) for k, v in i.items()} for i in page["Items"]]
        return items

    async def archive(self) -> dict[tuple[str, str], list[tuple[int, int, str]]]:
        """Every raw archive object (direct to moto), by (instance, file base name)."""
        assert self.settings is not None
        found: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
        with scoped_environ({**self.env, "AWS_ENDPOINT_URL_S3": self.url("moto")}):
            async with AwsClients(self.settings.aws).client("s3") as s3:
                pages = s3.get_paginator("list_objects_v2").paginate(
                    Bucket=self.settings.s3.s3_bucket, Prefix="raw/"
                )
                async for page in pages:
                    for obj in page.get("Contents", []):
                        key: str = obj["Key"]
                        instance = key.split("/")[3]
                        stem = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                        base, span = stem.rsplit(".", 1)
                        start, end = (int(x) for x in span.split("-"))
                        found[(instance, base)].append((start, end, key))
        return found

    async def read_archive(self, keys: list[str]) -> bytes:
        assert self.settings is not None
        out = b""
        with scoped_environ({**self.env, "AWS_ENDPOINT_URL_S3": self.url("moto")}):
            async with AwsClients(self.settings.aws).client("s3") as s3:
                for key in keys:
                    answer = await s3.get_object(Bucket=self.settings.s3.s3_bucket, Key=key)
                    async with answer["Body"] as body:
                        out += decompress(key.rsplit(".", 1)[-1], await body.read())
        return out

    def o2_copies(self, stream: str) -> dict[str, int]:
        resp = httpx.get(
            f"{self.url('openobserve')}/_admin/truth",
            params={"org": "default", "stream": stream, "event_ids": "true"}, timeout=120,
        )  # fmt: skip
        if resp.status_code == 404:
            return {}
        resp.raise_for_status()
        copies: dict[str, int] = resp.json().get("event_ids", {})
        return copies

    # ------------------------------------------------------------------ settling
    def freeze_past_the_hour(self) -> None:
        """Stop the clock one second past the next hour: every hourly file written during the
        run is rotated, and the new ones hold at most a second of logs."""
        self.admin("rds", "POST", "clock", {"speed": 0})
        now = float(self.admin("rds", "GET", "clock")["now"])
        self.admin("rds", "POST", "clock", {"advance_sec": 3600 - now % 3600 + 1})

    async def settled(self) -> list[str]:
        """What is still left behind (empty when every rotated file of an existing instance is
        archived and shipped to its end, and nothing is pending)."""
        rows = await self.rows()
        behind: list[str] = []
        for f in self.truth_files():
            if f.state != "rotated" or not f.exists or f.size == 0:
                continue
            row = rows.get((f.resource_id, f.generation))
            if row is None:
                behind.append(f"{f.instance_id}/{f.name}: no row")
            elif (
                row.get("pending")
                or int(row.get("archived_offset", 0)) < f.size
                or int(row.get("shipped_offset", 0)) < f.size
            ):
                behind.append(
                    f"{f.instance_id}/{f.name}: shipped {row.get('shipped_offset')} archived "
                    f"{row.get('archived_offset')} of {f.size} pending={bool(row.get('pending'))}"
                )
        return behind

    def verify(self) -> dict[str, Any]:
        """`aurora-processor verify --since 24h`: re-ships what OpenObserve lost behind a 200."""
        answer = subprocess.run(
            [sys.executable, "-m", "processor.cli", "verify", "--since", "24h"],
            env={**self.env, **SERVICE_ENV, "LOG_LEVEL": "WARNING"},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        (self.root / "logs" / "verify.log").write_text(answer.stdout + answer.stderr)
        # The report is the indented JSON object at the end of stdout (log lines precede it).
        start = answer.stdout.rfind("\n{\n") + 1
        report: dict[str, Any] = json.loads(answer.stdout[start:]) if "{" in answer.stdout else {}
        report["exit_code"] = answer.returncode
        return report

    # ------------------------------------------------------------------ the judge
    async def judge(self, lost_reported: dict[tuple[str, str], int] | None = None) -> Verdict:
        """`lost_reported`: events verify named lost for good, by (resource id, generation)."""
        verdict = Verdict()
        lost_reported = lost_reported or {}
        archive = await self.archive()
        rows = await self.rows()
        jobs = await self.jobs()
        assert self.settings is not None
        streams = self.settings.openobserve.streams()
        copies = {t: self.o2_copies(s) for t, s in streams.items()}
        for f in self.truth_files():
            if f.size == 0:
                continue
            objects = sorted(
                archive.get((f.instance_id, f.name.rsplit("/", 1)[-1]), [])
                or archive.get((f.instance_id, f.listed_name.rsplit("/", 1)[-1]), [])
            )
            where = f"{f.instance_id}/{f.name}"
            row = rows.get((f.resource_id, f.generation), {})
            if f.state == "rotated" and f.exists:
                await self._judge_archive(verdict, f, objects, where)
                data = self.truth_bytes(f)
                self._judge_events(verdict, f, data, copies[f.log_type], len(data), where)
            elif not f.exists and not row and _unseen(f):
                # Created and deleted between two listings: nobody could know of it.
                verdict.unseen.append(where)
            elif not f.exists:
                # Deleted mid-file: what reached S3 is right, the rest is reported with its range.
                archived_to = objects[-1][1] if objects else 0
                if objects:
                    await self._judge_archive(verdict, f, objects, where, whole=False)
                if archived_to < f.size and not _reported(jobs, row, f, archived_to):
                    verdict.problems.append(
                        f"{where}: bytes {archived_to}-{f.size} never reached S3 and no report "
                        f"says so (row {_brief(row)})"
                    )
                elif archived_to < f.size:
                    verdict.vanished_reported.append(f"{where} {archived_to}-{f.size}")
                shipped = int(row.get("shipped_offset", 0))
                data = self.truth_bytes(f)[:shipped]
                named = lost_reported.get((f.resource_id, f.generation), 0)
                self._judge_events(verdict, f, data, copies[f.log_type], shipped, where, named)
            elif row:
                # Still open: what was shipped while following it is there once, nothing more.
                shipped = int(row.get("shipped_offset", 0))
                data = self.truth_bytes(f)[:shipped]
                self._judge_events(verdict, f, data, copies[f.log_type], shipped, where)
        return verdict

    async def _judge_archive(
        self,
        verdict: Verdict,
        f: FileTruth,
        objects: list[tuple[int, int, str]],
        where: str,
        whole: bool = True,
    ) -> None:
        spans = [(s, e) for s, e, _ in objects]
        if not spans:
            verdict.problems.append(f"{where}: not in S3 ({f.size} bytes)")
            return
        tiles = spans[0][0] == 0 and all(a[1] == b[0] for a, b in itertools.pairwise(spans))
        if not tiles or (whole and spans[-1][1] != f.size):
            verdict.problems.append(f"{where}: S3 objects {spans} do not tile 0-{f.size} once")
            return
        data = await self.read_archive([k for _, _, k in objects])
        truth = self.truth_bytes(f)
        if data != truth[: len(data)]:
            verdict.problems.append(f"{where}: S3 bytes differ from the ground truth")
        verdict.files_judged += 1
        verdict.bytes_judged += len(data)

    def _judge_events(
        self,
        verdict: Verdict,
        f: FileTruth,
        data: bytes,
        copies: dict[str, int],
        end: int,
        where: str,
        lost_reported: int = 0,
    ) -> None:
        """Every event of `data` once in OpenObserve; `lost_reported` of them may be missing
        (a deleted instance's file: verify named exactly that many lost for good)."""
        parser = parser_for(f.log_type)
        events = parser.feed(data) + (parser.flush() if end == f.size else [])
        ids = [event_id(f.resource_id, f.generation, e.start) for e in events if e.start < end]
        lost = sum(1 for e in ids if copies.get(e, 0) == 0)
        doubled = sum(1 for e in ids if copies.get(e, 0) > 1)
        if lost == lost_reported and lost and not doubled:
            verdict.vanished_reported.append(f"{where}: {lost} events lost, named by verify")
        elif lost or doubled or lost_reported:
            verdict.problems.append(
                f"{where}: of {len(ids)} events {lost} lost, {doubled} doubled "
                f"(verify named {lost_reported} lost)"
            )
        verdict.events_judged += len(ids)


def lost_reported(report: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Events verify named lost for good, by (resource id, generation)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for r in report.get("lost", []):
        out[(r["resource_id"], r["generation"])] += int(r["lost"])
    return dict(out)


def _last_error(log: Path) -> str:
    """The last line of the exception a service died of (its log is JSON lines)."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if '"service_crashed"' in line:
            exception = str(json.loads(line).get("exception", ""))
            return exception.strip().splitlines()[-1] if exception else line
    return "(no service_crashed line)"


UNSEEN_EMULATED_SEC = 600  # ten real seconds at 60x: a few listing intervals


def _unseen(f: FileTruth) -> bool:
    """The file was created too shortly before its instance was deleted for any listing to
    have found it."""
    return f.deleted_at is not None and f.deleted_at - f.created < UNSEEN_EMULATED_SEC


def _reported(jobs: list[dict[str, Any]], row: dict[str, Any], f: FileTruth, start: int) -> bool:
    """The processor's `jobs` says the range from `start` never reached S3, or discovery's gap
    ledger holds it."""
    for job in jobs:
        if (
            job.get("resource_id") == f.resource_id
            and job.get("generation") == f.generation
            and job.get("sink") == "s3"
            and job.get("outcome") == "failed"
            and int(job.get("start", -1)) <= start
        ):
            return True
    return row.get("gap_start") is not None and int(row["gap_start"]) <= start


def _brief(row: dict[str, Any]) -> str:
    keep = (
        "status",
        "shipped_offset",
        "archived_offset",
        "gap_start",
        "gap_end",
        "processor_status",
    )
    return json.dumps({k: row.get(k) for k in keep}, default=str)


async def poll(probe: Any, timeout: float, interval: float = 1.0) -> Any:
    """`probe()` (sync or async) until it returns something empty/falsy-is-done; the last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = None
    while loop.time() < deadline:
        last = probe()
        if asyncio.iscoroutine(last):
            last = await last
        if not last:
            return last
        await asyncio.sleep(interval)
    return last
