"""What one cycle announces and reports: the announcement of a file, its Kafka message, and
the cycle's summary (outcome, counts, phases)."""

from __future__ import annotations

from dataclasses import dataclass, field

from common.messages import LogFileMessage
from discovery.fleet import Instance
from discovery.listing import Sighting
from discovery.tracking import Row


@dataclass
class Announcement:
    inst: Instance
    sighting: Sighting
    row: Row | None
    start_offset: int


@dataclass
class CycleReport:
    label: str
    seconds: float = 0.0
    instances: dict[str, int] = field(default_factory=dict)
    polled: int = 0
    announced: int = 0
    publish_failed: int = 0
    skipped_files: int = 0
    vanished: int = 0
    gaps: int = 0
    errors: list[str] = field(default_factory=list)
    fleet_failed: bool = False
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def outcome(self) -> str:
        if self.fleet_failed:
            return "failed"
        return "partial" if self.errors or self.publish_failed else "ok"


def message_of(a: Announcement) -> LogFileMessage:
    i, s = a.inst, a.sighting
    return LogFileMessage(
        account=i.account,
        region=i.region,
        cluster_id=i.cluster_id,
        instance_id=i.instance_id,
        resource_id=i.resource_id,
        engine=i.engine,
        engine_version=i.engine_version,
        log_type=s.log_type,
        log_file_name=s.name,
        generation=s.generation.key,
        size=s.size,
        last_written=s.last_written,
        rotated=s.rotated,
    )
