"""The DynamoDB state tables of docs/design.md §3: key schemas and TTL attributes, in one place.

The local stack creates them from here; Terraform declares the same keys (a test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.settings import TablesSettings


@dataclass(frozen=True)
class TableSpec:
    name: str
    hash_key: str
    range_key: str | None
    ttl_attribute: str | None

    def create_kwargs(self) -> dict[str, Any]:
        """Arguments of DynamoDB CreateTable (on-demand billing, string keys)."""
        keys = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        attrs = [{"AttributeName": self.hash_key, "AttributeType": "S"}]
        if self.range_key:
            keys.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
            attrs.append({"AttributeName": self.range_key, "AttributeType": "S"})
        return {
            "TableName": self.name,
            "KeySchema": keys,
            "AttributeDefinitions": attrs,
            "BillingMode": "PAY_PER_REQUEST",
        }


def table_specs(settings: TablesSettings) -> list[TableSpec]:
    return [
        TableSpec(settings.instance_table, "instance_id", None, "expires_at"),
        # Keyed by the DbiResourceId (a rename moves a name, never a resource id) and the file's
        # generation (common/log_files.py). No TTL while the file exists on RDS: discovery sets
        # expires_at on vanished files only.
        TableSpec(settings.tracking_table, "resource_id", "generation", "expires_at"),
        TableSpec(settings.jobs_table, "instance_id", "job_id", "expires_at"),
    ]
