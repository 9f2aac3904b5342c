"""One discovery cycle for one (account, region) (docs/design.md §4):

1. list clusters and instances (paginated, cached), keep this shard's followable instances;
2. for each owned instance that is due, list its log files (filtered by LastWritten; a full
   listing now and then) and decide per file (discovery/decide.py);
3. publish the announcements, files closest to expiry first, each awaited; record
   `published_size` only after Kafka's ack;
4. mark rows of vanished files (and of removed instances), with the gap ledger; upsert metadata.

A cycle never raises for one instance's trouble: it is logged, counted and the instance retried
next cycle. The publish-and-record step is shielded from cancellation so that SIGTERM lets it
finish (within the shutdown deadline) rather than leave acked messages unrecorded.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import structlog

from common.rds import RdsError, RdsNotFound, RdsNotReady
from common.settings import Settings
from discovery.announce import Announcement, CycleReport, message_of
from discovery.context import AccountContext
from discovery.decide import Action, Pacing, behind, decide, expiry_estimate
from discovery.fleet import Instance
from discovery.listing import Listing, Sighting, filter_from
from discovery.metadata import Known, MetadataStore
from discovery.metrics import FILES_ANNOUNCED, GAP_BYTES, GAPS
from discovery.publisher import Publisher
from discovery.schedule import Schedule
from discovery.sharding import owner
from discovery.tracking import Row, TrackingStore

log = structlog.get_logger(__name__)
METADATA_REFRESH_SEC = 3600.0
PARAMS_REFRESH_SEC = 3600.0
ROWS_REFRESH_SEC = 300.0


class Discoverer:
    """Discovery of one (account, region) by one shard; keeps its state between cycles."""

    def __init__(
        self,
        ctx: AccountContext,
        tracking: TrackingStore,
        metadata: MetadataStore,
        publisher: Publisher,
        settings: Settings,
        shard: int,
        total_shards: int,
    ) -> None:
        self.ctx = ctx
        self._tracking = tracking
        self._metadata = metadata
        self._publisher = publisher
        self._s = settings
        self._shard = shard
        self._total = total_shards
        d = settings.discovery
        self.schedule = Schedule(
            d.interval_sec,
            d.discovery_quiet_max_sec,
            d.discovery_full_listing_sec,
            every_cycle=d.discovery_seed_style,
        )
        # The seed design announced every growth: the baseline keeps doing so.
        self._pacing = (
            Pacing()
            if d.discovery_seed_style
            else Pacing(d.discovery_active_min_bytes, d.discovery_active_max_delay_sec)
        )
        self._rows: dict[str, dict[str, Row]] = {}
        self._rows_at: dict[str, float] = {}  # when each instance's rows were last read
        self._sightings: dict[str, list[Sighting]] = {}
        self._known: dict[str, Known] | None = None  # resource id -> what the table remembers
        self._names: dict[str, str] = {}  # instance id -> resource id, from the table
        self._upserted: dict[str, float] = {}
        self._owned: dict[str, Instance] = {}
        # START_POSITION applies to the instances present when discovery first meets an account
        # (no metadata yet); an instance that appears later is new and read from its start.
        self._bootstrap = False
        self._initial: set[str] | None = None
        self._missing: set[str] = set()  # resource ids missing from the last fleet listing
        self.disabled: dict[str, list[str]] = {}  # resource id -> "log_type: reason"
        self._params_checked: dict[str, float] = {}
        self.last_report: CycleReport | None = None

    async def _load_known(self) -> dict[str, Known]:
        if self._known is None:
            rows = await self._metadata.load()
            mine = [k for k in rows if k.label == self.ctx.target.label]
            self._known = {k.resource_id: k for k in mine}
            self._names = {k.instance_id: k.resource_id for k in mine if not k.removed}
            self._bootstrap = not mine
        return self._known

    async def cycle(self) -> CycleReport:
        started = time.monotonic()
        report = CycleReport(self.ctx.target.label)
        try:
            fleet = await self.ctx.fleet.current()
            known = await self._load_known()
        except RdsError as exc:
            report.fleet_failed = True
            report.errors.append(f"fleet: {exc}")
            log.error("fleet_listing_failed", account=self.ctx.target.label, error=str(exc))
            report.seconds = time.monotonic() - started
            self.last_report = report
            return report
        if self._initial is None:
            self._initial = {i.resource_id for i in fleet.instances} if self._bootstrap else set()
        states: Counter[str] = Counter({k: len(v) for k, v in fleet.skipped.items()})
        owned = [i for i in fleet.instances if owner(i.instance_id, self._total) == self._shard]
        states["other_shard"] = len(fleet.instances) - len(owned)
        await self._removed(
            owned, fleet_ids={i.resource_id for i in fleet.instances}, report=report
        )
        self._owned = {i.resource_id: i for i in owned}
        now = time.monotonic()
        due = [i for i in owned if self.schedule.due(i.resource_id, now)]
        sem = asyncio.Semaphore(self._s.discovery.discovery_concurrency)

        async def one(inst: Instance) -> list[Announcement]:
            async with sem:
                return await self._poll(inst, known, report)

        report.phases["fleet"] = time.monotonic() - started
        found = await asyncio.gather(*(one(i) for i in due))
        report.phases["files"] = time.monotonic() - started - report.phases["fleet"]
        report.polled = len(due)
        announcements = sorted(
            (a for batch in found for a in batch), key=lambda a: expiry_estimate(a.sighting)
        )
        publishing = asyncio.ensure_future(self._publish(announcements, report))
        try:
            await asyncio.shield(publishing)
        except asyncio.CancelledError:
            await publishing  # SIGTERM: finish this cycle's publishing, then stop
            raise
        report.phases["publish"] = time.monotonic() - started - sum(report.phases.values())
        await self._upsert_metadata(owned, report)
        report.phases["metadata"] = time.monotonic() - started - sum(report.phases.values())
        for inst in owned:
            states[self.schedule.state(inst.resource_id).state] += 1
        report.instances = dict(states)
        report.seconds = time.monotonic() - started
        self.last_report = report
        return report

    async def _poll(
        self, inst: Instance, known: dict[str, Known], report: CycleReport
    ) -> list[Announcement]:
        rid = inst.resource_id
        st = self.schedule.state(rid)
        full = self.schedule.wants_full(rid)
        since = (
            None
            if full
            else filter_from(st.last_sighting_ms, self._s.discovery.discovery_margin_sec)
        )
        try:
            listing = await self.ctx.files.listing(inst, since)
        except RdsNotReady as exc:
            state = "paused" if exc.code.startswith("DBInstanceNotReady") else "not_ready"
            if st.state != state:  # said once per change, not every cycle
                log.info("instance_not_listable", instance_id=inst.instance_id, state=state)
            self.schedule.done(rid, changed=False, state=state)
            return []
        except RdsNotFound:
            self.schedule.done(rid, changed=False, state="not_found")
            return []
        except RdsError as exc:
            report.errors.append(f"{inst.instance_id}: {exc}")
            log.warning("log_listing_failed", instance_id=inst.instance_id, error=str(exc))
            self.schedule.done(rid, changed=False, state="error")
            return []
        try:
            return await self._examine(inst, listing, known, report)
        except Exception as exc:
            report.errors.append(f"{inst.instance_id}: {type(exc).__name__}: {exc}")
            log.exception("instance_examination_failed", instance_id=inst.instance_id)
            self.schedule.done(rid, changed=False, state="error")
            return []

    def _needs_read(self, rid: str, listing: Listing) -> bool:
        """Whether to re-read the instance's rows. A cached row can only be behind the table
        (cursors only grow; discovery's own fields come back from each write), so deciding on it
        errs towards announcing (a harmless hint) and a stale version makes the write re-read.
        Rows are re-read for full listings (vanished files) and, while something is behind or
        new, every ROWS_REFRESH_SEC (the lag figures)."""
        rows = self._rows.get(rid)
        if rows is None or listing.full:
            return True
        if time.monotonic() - self._rows_at.get(rid, 0.0) < ROWS_REFRESH_SEC:
            return False
        for s in listing.files:
            row = rows.get(s.generation.key)
            if (row is None and s.size) or (row is not None and behind(s, row)):
                return True
        return False

    async def _examine(
        self, inst: Instance, listing: Listing, known: dict[str, Known], report: CycleReport
    ) -> list[Announcement]:
        rid = inst.resource_id
        if self._needs_read(rid, listing):
            self._rows[rid] = await self._tracking.rows(rid)
            self._rows_at[rid] = time.monotonic()
        rows = self._rows[rid]
        await self._check_parameters(inst)
        k = known.get(rid)
        previous_owner = self._names.get(inst.instance_id)
        takeover = previous_owner is not None and previous_owner != rid
        if takeover:
            log.info(
                "instance_name_taken_over",
                instance_id=inst.instance_id,
                old=previous_owner,
                new=rid,
            )
        initial = self._initial is not None and rid in self._initial
        first_listing = initial and not rows and (k is None or not k.listed) and not takeover
        d = self._s.discovery
        out: list[Announcement] = []
        changed = False
        now = time.time()
        for s in listing.files:
            row = rows.get(s.generation.key)
            if (row is None and s.size > 0) or (row is not None and row.size_seen != s.size):
                changed = True
            decision = decide(
                s,
                row,
                start_after_sec=d.start_after_sec,
                first_listing=first_listing,
                newest_written_ms=listing.newest_written,
                now=now,
                reannounce_sec=d.discovery_reannounce_sec,
                pacing=self._pacing,
            )
            if decision.action is Action.ANNOUNCE:
                out.append(Announcement(inst, s, row, decision.start_offset))
            elif decision.action is Action.SKIP:
                rows[s.generation.key] = await self._tracking.record_skipped(inst, s, row)
                report.skipped_files += 1
        if listing.full:
            await self._vanished(inst, listing, rows, report)
        merged = {s.generation.key: s for s in self._sightings.get(rid, [])}
        if listing.full:
            merged = {}
        merged.update({s.generation.key: s for s in listing.files})
        self._sightings[rid] = list(merged.values())
        self._names[inst.instance_id] = rid
        self.schedule.done(
            rid,
            changed=changed or bool(out),
            newest_written_ms=listing.newest_written,
            full=listing.full,
        )
        return out

    async def _check_parameters(self, inst: Instance) -> None:
        now = time.monotonic()
        if now - self._params_checked.get(inst.resource_id, -1e18) < PARAMS_REFRESH_SEC:
            return
        try:
            found = await self.ctx.params.disabled(inst)
        except RdsError as exc:
            log.warning("parameter_check_failed", instance_id=inst.instance_id, error=str(exc))
            return
        self._params_checked[inst.resource_id] = now
        if found is not None:
            self.disabled[inst.resource_id] = [f"{t}: {why}" for t, why in sorted(found.items())]

    async def _vanished(
        self, inst: Instance, listing: Listing, rows: dict[str, Row], report: CycleReport
    ) -> None:
        listed = {s.generation.key for s in listing.files}
        for gen, row in list(rows.items()):
            if gen in listed or row.status == "vanished":
                continue
            await self._mark(inst.instance_id, inst.resource_id, row, "rotated_out", report)
            rows.pop(gen, None)

    async def _mark(
        self, instance_id: str, rid: str, row: Row, reason: str, report: CycleReport
    ) -> None:
        gap = await self._tracking.mark_vanished(
            rid, row, self._s.discovery.vanished_ttl_days * 86400, reason
        )
        report.vanished += 1
        if gap:
            report.gaps += 1
            GAPS.labels(row.log_type or "unknown").inc()
            GAP_BYTES.labels(row.log_type or "unknown").inc(gap[1] - gap[0])
            log.warning(
                "log_file_lost",
                instance_id=instance_id,
                resource_id=rid,
                log_file_name=row.log_file_name,
                missing_from=gap[0],
                missing_to=gap[1],
                reason=reason,
            )

    async def _removed(
        self, owned: list[Instance], fleet_ids: set[str], report: CycleReport
    ) -> None:
        """Instances this shard followed that left the fleet: mark their rows once."""
        known = self._known or {}
        candidates = {
            rid: k
            for rid, k in known.items()
            if not k.removed and owner(k.instance_id, self._total) == self._shard
        }
        for rid in list(self._owned):
            if rid not in candidates and rid in known:
                candidates[rid] = known[rid]
        missing = {rid for rid in candidates if rid not in fleet_ids}
        confirmed = missing & self._missing
        self._missing = missing
        for rid, k in candidates.items():
            if rid not in confirmed:
                continue
            try:
                rows = await self._tracking.rows(rid)
                for row in rows.values():
                    if row.status != "vanished":
                        await self._mark(k.instance_id, rid, row, "instance_removed", report)
                await self._metadata.mark_removed(k)
            except Exception as exc:
                report.errors.append(f"removed {k.instance_id}: {exc}")
                log.exception("removed_instance_marking_failed", instance_id=k.instance_id)
                continue
            k.removed = True
            self._rows.pop(rid, None)
            self._sightings.pop(rid, None)
            self.schedule.forget(rid)
            if self._names.get(k.instance_id) == rid:
                del self._names[k.instance_id]
            log.info("instance_removed", instance_id=k.instance_id, resource_id=rid)

    async def _publish(self, announcements: list[Announcement], report: CycleReport) -> None:
        async def acknowledged(a: Announcement) -> None:
            FILES_ANNOUNCED.labels(a.sighting.log_type.value).inc()
            try:
                row = await self._tracking.record_published(
                    a.inst, a.sighting, a.row, a.start_offset
                )
            except Exception as exc:
                report.errors.append(f"record {a.inst.instance_id}/{a.sighting.name}: {exc}")
                log.exception(
                    "published_size_not_recorded",
                    instance_id=a.inst.instance_id,
                    log_file_name=a.sighting.name,
                )
                self._rows.pop(a.inst.resource_id, None)
                return
            self._rows.setdefault(a.inst.resource_id, {})[row.generation] = row

        acked, failed = await self._publisher.publish(announcements, message_of, acknowledged)
        report.announced += acked
        report.publish_failed += failed
        if failed:
            for a in announcements:
                self.schedule.state(a.inst.resource_id).next_due = 0.0

    async def _upsert_metadata(self, owned: list[Instance], report: CycleReport) -> None:
        now = time.monotonic()
        known = self._known if self._known is not None else {}
        for inst in owned:
            st = self.schedule.state(inst.resource_id)
            if st.last_sighting_ms is None and st.state == "new":
                continue
            k = known.get(inst.resource_id)
            fresh = k is not None and k.instance_id == inst.instance_id and k.listed
            if fresh and now - self._upserted.get(inst.resource_id, -1e18) < METADATA_REFRESH_SEC:
                continue
            try:
                await self._metadata.upsert(
                    inst,
                    self._shard,
                    self.disabled.get(inst.resource_id, []),
                    st.state,
                    self.ctx.target.label,
                )
            except Exception as exc:
                report.errors.append(f"metadata {inst.instance_id}: {exc}")
                log.exception("metadata_upsert_failed", instance_id=inst.instance_id)
                continue
            self._upserted[inst.resource_id] = now
            known[inst.resource_id] = Known(
                inst.instance_id,
                inst.resource_id,
                inst.account,
                inst.region,
                self.ctx.target.label,
                True,
                False,
                self._shard,
            )

    def owned(self) -> list[Instance]:
        return list(self._owned.values())

    def sightings(self) -> dict[str, list[Sighting]]:
        """Resource id -> the files last listed, for this shard's instances."""
        return {rid: v for rid, v in self._sightings.items() if rid in self._owned}

    def rows(self, resource_id: str) -> dict[str, Row]:
        return self._rows.get(resource_id, {})
