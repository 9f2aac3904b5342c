"""`LogFileMessage`: the Kafka contract between discovery and the processor (docs/design.md §3).

A message is a *hint* — "this file has data beyond what is checkpointed" — never an order: the
processor always reads the checkpoint, so duplicated or stale messages are harmless. It names the
instance by its `DbiResourceId` (a rename or a Blue/Green switchover moves a name, never a
resource id) and the file by its *generation* (common/log_files.py), which is the tracking row's
key; `log_file_name` is the name RDS listed, the one to download.

Versioned: `schema_version` is 1; a reader refuses versions it does not know with a clear error
(the processor dead-letters such a message instead of stopping a partition).
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.log_types import LogType

SCHEMA_VERSION: Literal[1] = 1


class MessageError(ValueError):
    """A Kafka value that is not a valid `LogFileMessage`; the text says which field and why."""


class LogFileMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    account: str = Field(description="AWS account id (or the role's) the instance lives in.")
    region: str
    cluster_id: str
    instance_id: str = Field(description="DBInstanceIdentifier at discovery time (the Kafka key).")
    resource_id: str = Field(description="DbiResourceId: the tracking table's partition key.")
    engine: str
    engine_version: str
    log_type: LogType
    log_file_name: str = Field(description="The name RDS listed: the one to download.")
    generation: str = Field(description="The file's identity across names: the tracking sort key.")
    size: int = Field(ge=0, description="Size RDS listed, bytes.")
    last_written: int = Field(ge=0, description="LastWritten RDS listed, POSIX ms.")
    rotated: bool = Field(description="The file is complete and will not grow.")
    discovered_at: int = Field(
        default_factory=lambda: int(time.time() * 1000), description="POSIX ms."
    )

    @property
    def key(self) -> bytes:
        """The Kafka key: the instance identifier, so one partition holds an instance (FIFO)."""
        return self.instance_id.encode()

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, value: bytes | None) -> LogFileMessage:
        """Parse a Kafka value; raise `MessageError` naming what is wrong."""
        if value is None:
            raise MessageError("empty Kafka value (tombstone)")
        try:
            return cls.model_validate_json(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
            )
            raise MessageError(f"invalid LogFileMessage: {problems}") from exc
