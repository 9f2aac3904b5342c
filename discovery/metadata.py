"""The instance-metadata table: what discovery knows of each instance, with a 7-day TTL refreshed
on each sighting (an instance gone for a week disappears by itself).

It also remembers, across restarts, which resource id held which name (a Blue/Green switchover
gives a name to a new resource), which resources were already listed (START_POSITION applies to
a resource's first listing only) and which were removed (their rows marked once). A summary row
per shard (`#shard/…`) carries the figures of `aurora-discovery stats`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from discovery.fleet import Instance

_SER = TypeSerializer()
_DE = TypeDeserializer()
SHARD_PREFIX = "#shard/"
DAY = 86400.0


@dataclass
class Known:
    instance_id: str
    resource_id: str
    account: str
    region: str
    label: str  # the AWS_ACCOUNTS entry it was seen through (account:region)
    listed: bool
    removed: bool
    shard: int


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in values.items() if v is not None}


class MetadataStore:
    def __init__(self, ddb: Any, table: str, ttl_days: float) -> None:
        self._ddb = ddb
        self._table = table
        self._ttl = ttl_days * DAY

    async def load(self) -> list[Known]:
        out: list[Known] = []
        kwargs: dict[str, Any] = {"TableName": self._table}
        while True:
            page = await self._ddb.scan(**kwargs)
            for raw in page.get("Items", []):
                d = {k: _DE.deserialize(v) for k, v in raw.items()}
                iid = str(d.get("instance_id", ""))
                if iid.startswith(SHARD_PREFIX) or "resource_id" not in d:
                    continue
                out.append(
                    Known(
                        iid,
                        str(d["resource_id"]),
                        str(d.get("account", "")),
                        str(d.get("region", "")),
                        str(d.get("account_label", "")),
                        bool(d.get("files_listed", False)),
                        bool(d.get("removed", False)),
                        int(d.get("shard", 0)),
                    )
                )
            last = page.get("LastEvaluatedKey")
            if not last:
                return out
            kwargs["ExclusiveStartKey"] = last

    async def upsert(
        self, inst: Instance, shard: int, disabled: list[str], state: str, label: str
    ) -> None:
        now = time.time()
        await self._ddb.put_item(
            TableName=self._table,
            Item=_item(
                {
                    "instance_id": inst.instance_id,
                    "resource_id": inst.resource_id,
                    "account": inst.account,
                    "account_label": label,
                    "region": inst.region,
                    "cluster_id": inst.cluster_id,
                    "engine": inst.engine,
                    "engine_version": inst.engine_version,
                    "status": inst.status,
                    "instance_class": inst.instance_class,
                    "writer": inst.writer,
                    "tags": inst.tags,
                    "cluster_parameter_group": inst.cluster_parameter_group,
                    "parameter_groups": list(inst.parameter_groups),
                    "disabled_log_types": disabled,
                    "discovery_state": state,
                    "files_listed": True,
                    "removed": False,
                    "shard": shard,
                    "seen_at": Decimal(str(round(now, 3))),
                    "expires_at": int(now + self._ttl),
                }
            ),
        )

    async def mark_removed(self, known: Known) -> None:
        """Mark the instance's row removed, unless its name now belongs to another resource."""
        try:
            await self._ddb.update_item(
                TableName=self._table,
                Key=_item({"instance_id": known.instance_id}),
                UpdateExpression="SET removed = :t, removed_at = :now",
                ConditionExpression="resource_id = :rid",
                ExpressionAttributeValues=_item(
                    {
                        ":t": True,
                        ":now": Decimal(str(round(time.time(), 3))),
                        ":rid": known.resource_id,
                    }
                ),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    async def save_summary(self, key: str, summary: dict[str, Any]) -> None:
        now = time.time()
        await self._ddb.put_item(
            TableName=self._table,
            Item=_item(
                {
                    "instance_id": SHARD_PREFIX + key,
                    "summary": json.dumps(summary, sort_keys=True),
                    "expires_at": int(now + DAY),
                }
            ),
        )

    async def summaries(self) -> list[dict[str, Any]]:
        out = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "begins_with(instance_id, :p)",
            "ExpressionAttributeValues": _item({":p": SHARD_PREFIX}),
        }
        while True:
            page = await self._ddb.scan(**kwargs)
            for raw in page.get("Items", []):
                d = {k: _DE.deserialize(v) for k, v in raw.items()}
                out.append(json.loads(str(d["summary"])))
            last = page.get("LastEvaluatedKey")
            if not last:
                return out
            kwargs["ExclusiveStartKey"] = last
