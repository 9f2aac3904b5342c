"""The checkpoint of one file generation in the DynamoDB tracking table (docs/design.md §3, §5).

Why it is shaped this way:

* **Fencing.** Every write is conditional on the `version` read *and* on `lease_owner` being us,
  so of two processors that both believe they own a file (a rebalance, a paused process that
  wakes up), only one can advance it. The other's write fails; it re-reads, finds the lease gone
  and raises `LeaseLost`: it must stop touching the file.
* **Writers that are not processors.** Discovery updates its own attributes of the same row
  (`published_size`, `size_seen`, …) and may bump `version` too. A failed condition whose re-read
  shows the lease still ours and our cursors unchanged is such a write: we retry on the new
  version instead of giving the file up.
* **The write-ahead intent.** `begin_range` records the range about to be shipped (`pending`)
  before any event leaves; `finish_range` moves `shipped_offset` and clears it in one write. A
  processor that finds `pending` at start knows exactly which batch may be half-delivered.
* **Two cursors.** `shipped_offset` (OpenObserve holds the events of the bytes before it) and
  `archived_offset` (S3 holds the bytes before it) move independently: events are shipped as soon
  as bytes are read, the archive is written from the rotated file's complete download.

Every write renews the lease, so a processor making progress never loses it; a long stretch
without a write (a big download) calls `renew`.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import structlog
from botocore.exceptions import ClientError

from common.tables import TableSpec
from processor import metrics
from processor.checkpoint.codec import from_item, to_attr
from processor.checkpoint.errors import CheckpointConflict, LeaseHeld, LeaseLost
from processor.checkpoint.model import Checkpoint, FileKey, Intent

log = structlog.get_logger(__name__)

# DynamoDB's answers when a table or the account is over its throughput (after botocore's retries).
THROTTLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)

Clock = Callable[[], float]


def new_owner_id() -> str:
    """A lease owner id unique to this process: host, pid and a random part.

    A restarted process is a new owner on purpose: it cannot know whether its previous life
    was still shipping, so it waits for that lease to expire like any other processor would.
    """
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class _Write:
    sets: dict[str, Any]
    removes: tuple[str, ...] = ()


class CheckpointStore:
    """Reads and conditionally writes tracking rows; one instance per processor process."""

    RETRIES_ON_FOREIGN_WRITE = 5

    def __init__(
        self,
        ddb: Any,
        spec: TableSpec,
        owner: str,
        lease_sec: float,
        clock: Clock = time.time,
        on_conflict: Callable[[], None] | None = None,
    ) -> None:
        if spec.range_key is None:
            raise ValueError(f"table {spec.name} needs a range key (the file generation)")
        self._ddb = ddb
        self._spec = spec
        # The series exists from the start: the first throttle is then an increase an alert sees.
        metrics.DYNAMODB_THROTTLES.labels(spec.name)
        self._range_key: str = spec.range_key
        self.owner = owner
        self.lease_sec = lease_sec
        self._clock = clock
        self._on_conflict = on_conflict or (lambda: None)

    # ------------------------------------------------------------------ reads
    async def load(self, key: FileKey) -> Checkpoint:
        """The row as it is now (consistent read); a file never seen is at version 0, offset 0."""
        answer = await self._ddb.get_item(
            TableName=self._spec.name, Key=self._key(key), ConsistentRead=True
        )
        item = answer.get("Item")
        return Checkpoint.empty(key) if item is None else from_item(key, item)

    # ------------------------------------------------------------------ lease
    async def acquire(self, key: FileKey, **attributes: Any) -> Checkpoint:
        """Take the lease (free, expired, or already ours); `LeaseHeld` when another has it.

        `attributes` (e.g. `instance_id`, `log_file_name`) are written with the lease, so a row
        first created by a processor is self-describing.
        """
        current = await self.load(key)
        now = self._clock()
        if current.lease_owner not in (None, self.owner) and current.lease_until > now:
            raise LeaseHeld(key, current.lease_owner, current.lease_until)
        sets = {"lease_owner": self.owner, **attributes}
        taken = await self._write(current, _Write(sets), fenced=False)
        if current.lease_owner is None:
            last_write = float(current.attributes.get("updated_at", 0) or 0)
        elif current.lease_owner == self.owner:
            last_write = now
        else:
            last_write = min(now, current.lease_until)
        taken = replace(taken, last_foreign_write=last_write)
        if current.lease_owner not in (None, self.owner):
            log.info(
                "lease_taken_over",
                resource_id=key.resource_id,
                generation=key.generation,
                previous_owner=current.lease_owner,
            )
        return taken

    async def renew(self, cp: Checkpoint) -> Checkpoint:
        return await self._write(cp, _Write({}))

    async def release(self, cp: Checkpoint, **attributes: Any) -> Checkpoint:
        """Give the lease up (a clean stop, or the file is caught up)."""
        return await self._write(
            cp, _Write(attributes, ("lease_owner", "lease_until")), renew_lease=False
        )

    async def release_if_held(self, key: FileKey, **attributes: Any) -> bool:
        """After a failure, when the caller's copy of the row may be stale: re-read it and give
        the lease back if it is still ours. True when released."""
        fresh = await self.load(key)
        if fresh.lease_owner != self.owner:
            return False
        await self.release(fresh, **attributes)
        return True

    def lease_left(self, cp: Checkpoint) -> float:
        """Seconds of lease left as of the last write; ship nothing when this is small."""
        return cp.lease_until - self._clock()

    # ------------------------------------------------------------------ the protocol
    async def begin_range(self, cp: Checkpoint, intent: Intent) -> Checkpoint:
        """Record the write-ahead intent before the first event of the range leaves."""
        if cp.pending is not None:
            raise ValueError(f"a range is already pending on {cp.key}: {cp.pending}")
        if intent.start != cp.shipped_offset:
            raise ValueError(
                f"range starts at {intent.start}, the checkpoint is at {cp.shipped_offset}"
            )
        return await self._write(cp, _Write({"pending": intent.to_dict()}))

    async def finish_range(self, cp: Checkpoint) -> Checkpoint:
        """OpenObserve holds the pending range: move `shipped_offset` and clear the intent."""
        intent = cp.pending
        if intent is None:
            raise ValueError(f"no pending range on {cp.key}")
        sets: dict[str, Any] = {"shipped_offset": intent.end, "parser_state": intent.parser_state}
        removes: tuple[str, ...] = ("pending",)
        if intent.marker is not None:
            sets["marker"] = intent.marker
            sets["marker_offset"] = intent.marker_offset
        else:
            removes += ("marker", "marker_offset")
        return await self._write(cp, _Write(sets, removes))

    async def skip_to(
        self, cp: Checkpoint, offset: int, parser_state: dict[str, Any]
    ) -> Checkpoint:
        """Move both cursors forward without shipping (START_POSITION=latest, a gap)."""
        if cp.pending is not None:
            raise ValueError(f"cannot skip with a pending range on {cp.key}")
        return await self._write(
            cp,
            _Write(
                {
                    "shipped_offset": max(offset, cp.shipped_offset),
                    "archived_offset": max(offset, cp.archived_offset),
                    "parser_state": parser_state,
                },
                ("marker", "marker_offset"),
            ),
        )

    async def archived(self, cp: Checkpoint, offset: int) -> Checkpoint:
        """S3 holds the bytes before `offset`."""
        if offset < cp.archived_offset:
            raise ValueError(f"archive cursor cannot go back ({cp.archived_offset} -> {offset})")
        return await self._write(cp, _Write({"archived_offset": offset}))

    async def update(self, cp: Checkpoint, **attributes: Any) -> Checkpoint:
        """Set bookkeeping attributes (status, size seen, …) under the lease."""
        return await self._write(cp, _Write(attributes))

    # ------------------------------------------------------------------ writing
    async def _write(
        self, cp: Checkpoint, write: _Write, fenced: bool = True, renew_lease: bool = True
    ) -> Checkpoint:
        expected = cp
        for _ in range(self.RETRIES_ON_FOREIGN_WRITE):
            now = self._clock()
            sets = dict(write.sets)
            sets["version"] = expected.version + 1
            sets["updated_at"] = now
            if renew_lease:
                sets["lease_until"] = now + self.lease_sec
            try:
                answer = await self._ddb.update_item(
                    TableName=self._spec.name,
                    Key=self._key(cp.key),
                    ReturnValues="ALL_NEW",
                    **self._expression(sets, write.removes, expected.version, fenced),
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code in THROTTLE_CODES:
                    metrics.DYNAMODB_THROTTLES.labels(self._spec.name).inc()
                if code != "ConditionalCheckFailedException":
                    raise
                self._on_conflict()
                expected = await self._after_conflict(expected, fenced)
                continue
            return from_item(cp.key, answer["Attributes"])
        raise CheckpointConflict(cp.key, "the row kept changing under us")

    async def _after_conflict(self, expected: Checkpoint, fenced: bool) -> Checkpoint:
        """Re-read after a failed condition: a foreign bookkeeping write, or a lost lease."""
        fresh = await self.load(expected.key)
        if not fenced:  # acquiring: someone else acquired in between
            if fresh.lease_owner not in (None, self.owner) and fresh.lease_until > self._clock():
                raise LeaseHeld(expected.key, fresh.lease_owner, fresh.lease_until)
            return fresh
        if fresh.lease_owner != self.owner:
            raise LeaseLost(expected.key, fresh.lease_owner)
        if fresh.cursors() != expected.cursors():
            raise CheckpointConflict(
                expected.key,
                f"cursors moved under our lease: {expected.cursors()} -> {fresh.cursors()}",
            )
        log.info(
            "checkpoint_foreign_write",
            resource_id=expected.key.resource_id,
            generation=expected.key.generation,
            version=fresh.version,
        )
        return replace(expected, version=fresh.version)

    def _key(self, key: FileKey) -> dict[str, Any]:
        return {
            self._spec.hash_key: {"S": key.resource_id},
            self._range_key: {"S": key.generation},
        }

    def _expression(
        self, sets: dict[str, Any], removes: tuple[str, ...], version: int, fenced: bool
    ) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        parts = []
        for i, (name, value) in enumerate(sets.items()):
            names[f"#s{i}"] = name
            values[f":s{i}"] = to_attr(value)
            parts.append(f"#s{i} = :s{i}")
        expression = "SET " + ", ".join(parts)
        if removes:
            for i, name in enumerate(removes):
                names[f"#r{i}"] = name
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        names["#v"] = "version"
        if version == 0:
            condition = "attribute_not_exists(#v)"
        else:
            values[":v"] = {"N": str(version)}
            condition = "#v = :v"
        if fenced:
            names["#o"] = "lease_owner"
            values[":o"] = {"S": self.owner}
            condition += " AND #o = :o"
        return {
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
