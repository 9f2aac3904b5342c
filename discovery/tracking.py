"""Discovery's side of the tracking table (docs/design.md §3): one row per file generation, keyed
(`resource_id` = DbiResourceId, `generation`).

Discovery owns `published_size` / `published_rotated` / `published_at` (what it last announced
and Kafka acknowledged), `size_seen`, `last_written_seen`, the names, and the vanished mark; the
processor owns the cursors (`shipped_offset`, `archived_offset`), lease and intent. Every write
is conditional on the `version` read and increments it, so neither side overwrites the other's
change unseen; a lost race re-reads the row and applies discovery's fields again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from discovery.fleet import Instance
from discovery.listing import Sighting

log = structlog.get_logger(__name__)
_SER = TypeSerializer()
_DE = TypeDeserializer()
WRITE_ATTEMPTS = 5


class TrackingConflict(RuntimeError):
    """A row kept changing under discovery's conditional writes (retriable)."""

    retriable = True


@dataclass
class Row:
    generation: str
    version: int
    log_type: str
    log_file_name: str
    size_seen: int
    last_written_seen: int
    published_size: int | None
    published_rotated: bool
    published_at: float
    shipped_offset: int
    archived_offset: int
    status: str
    rotated: bool

    def checkpoint(self, rotated: bool) -> int:
        """Bytes done: shipped for a growing file; shipped and archived for a complete one."""
        return min(self.shipped_offset, self.archived_offset) if rotated else self.shipped_offset

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Row:
        d = {k: _DE.deserialize(v) for k, v in item.items()}

        def num(key: str, default: int = 0) -> int:
            value = d.get(key)
            return int(value) if isinstance(value, (int, Decimal)) else default

        published = d.get("published_size")
        return cls(
            generation=str(d["generation"]),
            version=num("version"),
            log_type=str(d.get("log_type", "")),
            log_file_name=str(d.get("log_file_name", "")),
            size_seen=num("size_seen"),
            last_written_seen=num("last_written_seen"),
            published_size=int(published) if isinstance(published, (int, Decimal)) else None,
            published_rotated=bool(d.get("published_rotated", False)),
            published_at=float(d.get("published_at", 0) or 0),
            shipped_offset=num("shipped_offset"),
            archived_offset=num("archived_offset"),
            status=str(d.get("status", "")),
            rotated=bool(d.get("rotated", False)),
        )


def _sighted(inst: Instance, s: Sighting) -> dict[str, Any]:
    """The row's fields that say how RDS last listed the file (discovery's to write)."""
    return {
        "instance_id": inst.instance_id,
        "cluster_id": inst.cluster_id,
        "log_file_name": s.name,
        "log_type": s.log_type.value,
        "size_seen": s.size,
        "last_written_seen": s.last_written,
        "rotated": s.rotated,
    }


def _created(start: int, status: str) -> dict[str, Any]:
    """A new row's cursors (where the processor starts) and status."""
    return {
        "shipped_offset": start,
        "archived_offset": start,
        "status": status,
        "first_seen_at": Decimal(str(round(time.time(), 3))),
    }


def _values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in values.items()}


class TrackingStore:
    def __init__(self, ddb: Any, table: str) -> None:
        self._ddb = ddb
        self._table = table

    def _key(self, resource_id: str, generation: str) -> dict[str, Any]:
        return _values({"resource_id": resource_id, "generation": generation})

    async def rows(self, resource_id: str) -> dict[str, Row]:
        """Every row of one instance (consistent read)."""
        out: dict[str, Row] = {}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "resource_id = :r",
            "ExpressionAttributeValues": _values({":r": resource_id}),
            "ConsistentRead": True,
        }
        while True:
            page = await self._ddb.query(**kwargs)
            for item in page.get("Items", []):
                row = Row.from_item(item)
                out[row.generation] = row
            last = page.get("LastEvaluatedKey")
            if not last:
                return out
            kwargs["ExclusiveStartKey"] = last

    async def get(self, resource_id: str, generation: str) -> Row | None:
        resp = await self._ddb.get_item(
            TableName=self._table, Key=self._key(resource_id, generation), ConsistentRead=True
        )
        item = resp.get("Item")
        return Row.from_item(item) if item else None

    async def _update(
        self,
        resource_id: str,
        generation: str,
        row: Row | None,
        sets: dict[str, Any],
        removes: tuple[str, ...] = (),
        create_only: dict[str, Any] | None = None,
    ) -> Row:
        """Apply `sets` conditionally on the version; re-read and retry when the row moved."""
        for _ in range(WRITE_ATTEMPTS):
            names = {f"#a{i}": k for i, k in enumerate(sets)}
            values = {f":v{i}": v for i, v in enumerate(sets.values())}
            parts = [f"#a{i} = :v{i}" for i in range(len(sets))]
            if row is None:
                for j, (k, v) in enumerate((create_only or {}).items()):
                    names[f"#c{j}"] = k
                    values[f":c{j}"] = v
                    parts.append(f"#c{j} = :c{j}")
                condition = "attribute_not_exists(resource_id)"
                values[":one"] = 1
                parts.append("#version = :one")
            else:
                condition = "#version = :expected"
                values[":expected"] = row.version
                values[":next"] = row.version + 1
                parts.append("#version = :next")
            names["#version"] = "version"
            expression = "SET " + ", ".join(parts)
            if removes:
                expression += " REMOVE " + ", ".join(removes)
            try:
                resp = await self._ddb.update_item(
                    TableName=self._table,
                    Key=self._key(resource_id, generation),
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=_values(values),
                    ReturnValues="ALL_NEW",
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                row = await self.get(resource_id, generation)
                continue
            return Row.from_item(resp["Attributes"])
        raise TrackingConflict(f"tracking row {resource_id}/{generation} kept changing")

    async def record_published(
        self, inst: Instance, s: Sighting, row: Row | None, start_offset: int
    ) -> Row:
        """Kafka acknowledged an announcement of `s`: remember its size (and the sighting)."""
        sets = {
            **_sighted(inst, s),
            "published_size": s.size,
            "published_rotated": s.rotated,
            "published_at": Decimal(str(round(time.time(), 3))),
        }
        create = _created(start_offset, "new")
        return await self._update(
            inst.resource_id,
            s.generation.key,
            row,
            sets,
            removes=("expires_at", "vanished_at"),
            create_only=create,
        )

    async def record_skipped(self, inst: Instance, s: Sighting, row: Row | None) -> Row:
        """START_POSITION left this file's present bytes out: its cursors start at its size."""
        sets = {**_sighted(inst, s), "skipped_bytes": s.size}
        create = _created(s.size, "skipped")
        return await self._update(inst.resource_id, s.generation.key, row, sets, create_only=create)

    async def mark_vanished(
        self, resource_id: str, row: Row, ttl_sec: float, reason: str
    ) -> tuple[int, int] | None:
        """RDS no longer lists this file: mark the row, give it a TTL; the unread range if any."""
        now = time.time()
        done = row.checkpoint(True)
        gap = (done, row.size_seen) if row.size_seen > done else None
        sets: dict[str, Any] = {
            "status": "vanished",
            "vanished_at": Decimal(str(round(now, 3))),
            "vanished_reason": reason,
            "expires_at": int(now + ttl_sec),
        }
        if gap:
            sets["gap_start"], sets["gap_end"] = gap
        await self._update(resource_id, row.generation, row, sets)
        return gap

    async def gaps(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The gap ledger: rows of files removed before they were read to their end."""
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "attribute_exists(gap_end)",
        }
        while len(out) < limit:
            page = await self._ddb.scan(**kwargs)
            for item in page.get("Items", []):
                d = {k: _DE.deserialize(v) for k, v in item.items()}
                out.append(
                    {
                        k: (int(v) if isinstance(v, Decimal) else v)
                        for k, v in d.items()
                        if k
                        in (
                            "instance_id",
                            "resource_id",
                            "log_file_name",
                            "generation",
                            "log_type",
                            "gap_start",
                            "gap_end",
                            "vanished_reason",
                        )
                    }
                )
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            kwargs["ExclusiveStartKey"] = last
        return out
