"""DynamoDB attribute values <-> Python values of a tracking row.

boto3's TypeSerializer/TypeDeserializer do the typing; this adds what they do not: floats in
(DynamoDB numbers are decimals), ints back out of Decimal, and the row -> `Checkpoint` mapping.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from processor.checkpoint.model import Checkpoint, FileKey, Intent

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _to_decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_decimals(v) for v in value]
    return value


def _from_decimals(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_decimals(v) for v in value]
    return value


def to_attr(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value."""
    typed: dict[str, Any] = _SERIALIZER.serialize(_to_decimals(value))
    return typed


def from_attr(value: dict[str, Any]) -> Any:
    return _from_decimals(_DESERIALIZER.deserialize(value))


def from_item(key: FileKey, item: dict[str, Any]) -> Checkpoint:
    """A tracking row as the processor sees it; attributes it does not know are kept aside."""
    row = {name: from_attr(value) for name, value in item.items()}
    pending = row.pop("pending", None)
    return Checkpoint(
        key=key,
        version=int(row.pop("version", 0) or 0),
        shipped_offset=int(row.pop("shipped_offset", 0) or 0),
        archived_offset=int(row.pop("archived_offset", 0) or 0),
        marker=row.pop("marker", None),
        marker_offset=int(row.pop("marker_offset", 0) or 0),
        parser_state=dict(row.pop("parser_state", None) or {}),
        pending=Intent.from_dict(pending) if pending else None,
        lease_owner=row.pop("lease_owner", None),
        lease_until=float(row.pop("lease_until", 0) or 0),
        status=row.pop("processor_status", None),
        attributes=row,
    )
