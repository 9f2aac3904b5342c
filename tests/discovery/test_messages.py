"""The Kafka contract: round trip, versioning, clear errors."""

from __future__ import annotations

import json

import pytest

from common.log_types import LogType
from common.messages import LogFileMessage, MessageError

FIELDS = dict(
    account="123456789012", region="us-east-1", cluster_id="c1", instance_id="c1-instance-1",
    resource_id="db-ABC", engine="aurora-mysql", engine_version="8.0.mysql_aurora.3.06.0",
    log_type=LogType.SLOWQUERY, log_file_name="slowquery/mysql-slowquery.log",
    generation="slowquery/mysql-slowquery.log@2026-11-23T10", size=10, last_written=1, rotated=False,
)  # fmt: skip


def test_round_trip_and_key() -> None:
    msg = LogFileMessage(**FIELDS)
    back = LogFileMessage.from_bytes(msg.to_bytes())
    assert back == msg and back.schema_version == 1
    assert msg.key == b"c1-instance-1"
    assert json.loads(msg.to_bytes())["log_type"] == "slowquery"


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"schema_version": 2}, "schema_version"),
        ({"log_type": "binlog"}, "log_type"),
        ({"size": -1}, "size"),
    ],
)
def test_invalid_messages_name_the_field(change: dict[str, object], word: str) -> None:
    raw = json.loads(LogFileMessage(**FIELDS).to_bytes())
    raw.update(change)
    with pytest.raises(MessageError, match=word):
        LogFileMessage.from_bytes(json.dumps(raw).encode())


def test_garbage_and_tombstone() -> None:
    with pytest.raises(MessageError):
        LogFileMessage.from_bytes(b"not json")
    with pytest.raises(MessageError, match="tombstone"):
        LogFileMessage.from_bytes(None)
