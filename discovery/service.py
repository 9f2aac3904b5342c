"""The discovery daemon: its clients, one `Discoverer` per (account, region), the cycle loop,
readiness (Kafka and DynamoDB; Valkey as a degraded detail) and the per-shard summary row that
`aurora-discovery stats` reads.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from common.accounts import parse_accounts
from common.aws import AwsClients
from common.kafka import make_producer, start_when_reachable
from common.rds import CallLog
from common.settings import Settings
from common.valkey import ValkeyGuard, valkey_client
from discovery.announce import CycleReport
from discovery.context import AccountContext, open_context
from discovery.cycle import Discoverer
from discovery.lag import behind_by_instance, update_gauges
from discovery.metadata import MetadataStore
from discovery.metrics import CYCLE_SECONDS, CYCLES, INSTANCES, LAST_CYCLE_END
from discovery.publisher import Publisher
from discovery.sharding import this_shard
from discovery.tracking import TrackingStore

log = structlog.get_logger(__name__)


class DiscoveryService:
    """A lifecycle component (`start`/`stop`) whose `run_forever` is the service's main."""

    name = "discovery"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        d = settings.discovery
        self.shard = this_shard(d.shard_id, d.total_shards, "shard_id" in d.model_fields_set)
        self.total = d.total_shards
        self.calls = CallLog()
        self.discoverers: list[Discoverer] = []
        self.guard = ValkeyGuard(None)
        self._stack = AsyncExitStack()
        self._ddb: Any = None
        self._producer: AIOKafkaProducer | None = None
        self._contexts: list[AccountContext] = []
        self.reports: list[CycleReport] = []

    async def start(self) -> None:
        s = self.settings
        try:
            self.guard = ValkeyGuard(valkey_client(s.valkey))
        except ValueError as exc:  # a URL redis-py cannot use: run without the cache
            log.error("valkey_url_unusable", error=str(exc))
        clients = AwsClients(s.aws)
        self._ddb = await self._stack.enter_async_context(clients.client("dynamodb"))
        self._producer = await start_when_reachable(
            lambda: make_producer(s.kafka), "producer", s.kafka.kafka_start_timeout_sec
        )
        tracking = TrackingStore(self._ddb, s.tables.tracking_table)
        metadata = MetadataStore(self._ddb, s.tables.instance_table, s.discovery.instance_ttl_days)
        self.metadata = metadata
        self.tracking = tracking
        publisher = Publisher(self._producer, s.kafka.topics())
        for target in parse_accounts(s.aws):
            ctx = await open_context(s, clients, self.guard, target, self.calls)
            self._contexts.append(ctx)
            self.discoverers.append(
                Discoverer(ctx, tracking, metadata, publisher, s, self.shard, self.total)
            )
        log.info(
            "discovery_started",
            shard=self.shard,
            total_shards=self.total,
            accounts=[c.target.label for c in self._contexts],
        )

    async def stop(self) -> None:
        for ctx in self._contexts:
            await ctx.close()
        if self._producer is not None:
            await self._producer.stop()
        await self._stack.aclose()
        if self.guard.client is not None:
            await self.guard.client.aclose()

    # -- readiness ---------------------------------------------------------------------
    async def check_kafka(self) -> None:
        if self._producer is None:
            raise RuntimeError("producer not started")
        try:
            await self._producer.client.fetch_all_metadata()
        except KafkaError as exc:
            raise RuntimeError(f"Kafka unreachable: {exc}") from exc

    async def check_dynamodb(self) -> None:
        await self._ddb.describe_table(TableName=self.settings.tables.tracking_table)

    def valkey_detail(self) -> str:
        if self.guard.available:
            return "ok"
        return f"degraded (local bucket and cache): {self.guard.last_error}"

    # -- cycles ------------------------------------------------------------------------
    async def run_cycle(self) -> list[CycleReport]:
        started = time.monotonic()
        for ctx in self._contexts:
            await ctx.refresh()
        reports = list(await asyncio.gather(*(d.cycle() for d in self.discoverers)))
        elapsed = time.monotonic() - started
        CYCLE_SECONDS.observe(elapsed)
        outcomes = {r.outcome for r in reports}
        outcome = (
            "failed" if outcomes == {"failed"} else ("ok" if outcomes == {"ok"} else "partial")
        )
        CYCLES.labels(outcome).inc()
        LAST_CYCLE_END.set(time.time())
        states: dict[str, int] = {}
        for r in reports:
            for k, v in r.instances.items():
                states[k] = states.get(k, 0) + v
        for state in {*states, "followed", "paused", "not_ready", "opted_out", "other_shard"}:
            INSTANCES.labels(state).set(states.get(state, 0))
        self.reports = reports
        behind = update_gauges(self.discoverers)
        try:
            await self.metadata.save_summary(
                f"{self.shard}", self.snapshot(reports, behind, elapsed, outcome)
            )
        except Exception:
            log.exception("summary_not_saved")
        log.info(
            "cycle_done",
            seconds=round(elapsed, 3),
            outcome=outcome,
            announced=sum(r.announced for r in reports),
            polled=sum(r.polled for r in reports),
            instances=states,
        )
        return reports

    def snapshot(
        self, reports: list[CycleReport], behind: dict[str, Any], seconds: float, outcome: str
    ) -> dict[str, Any]:
        counts = {"hit": 0, "miss": 0, "stale": 0}
        per_instance: dict[str, Any] = {}
        disabled: dict[str, list[str]] = {}
        for d in self.discoverers:
            for k, v in d.ctx.cache.counts.items():
                counts[k] += v
            per_instance.update(behind_by_instance(d))
            for inst in d.owned():
                if d.disabled.get(inst.resource_id):
                    disabled[inst.instance_id] = d.disabled[inst.resource_id]
        lookups = sum(counts.values())
        totals = self.calls.totals()
        return {
            "shard": self.shard,
            "total_shards": self.total,
            "updated_at": time.time(),
            "last_cycle_seconds": round(seconds, 3),
            "last_cycle_outcome": outcome,
            "accounts": [r.label for r in reports],
            "instances": {k: v for r in reports for k, v in r.instances.items()},
            "files_followed": sum(len(s) for d in self.discoverers for s in d.sightings().values()),
            "announced_last_cycle": sum(r.announced for r in reports),
            "behind_by_log_type": behind,
            "behind_by_instance": dict(
                sorted(per_instance.items(), key=lambda kv: -int(kv[1]["bytes"]))[:100]
            ),
            "cache": {**counts, "hit_rate": round(counts["hit"] / lookups, 4) if lookups else None},
            "rds_calls_per_minute": self.calls.per_minute(),
            "rds_throttled_last_10_min": sum(
                v for k, v in totals.items() if k.endswith(":throttled")
            ),
            "disabled_log_types": disabled,
            "valkey": self.valkey_detail(),
        }

    async def run_forever(self) -> None:
        interval = self.settings.discovery.interval_sec
        while True:
            started = time.monotonic()
            try:
                await self.run_cycle()
            except asyncio.CancelledError:
                raise
            except Exception:
                CYCLES.labels("failed").inc()
                log.exception("cycle_crashed")
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
