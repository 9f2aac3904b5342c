"""Discovery's Prometheus metrics; the Helm chart's alerts use these names."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from common.log_types import LOG_TYPES

CYCLE_SECONDS = Histogram(
    "aurora_discovery_cycle_seconds",
    "Duration of one discovery cycle",
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
)
CYCLES = Counter("aurora_discovery_cycles_total", "Discovery cycles by outcome", ["outcome"])
FILES_ANNOUNCED = Counter(
    "aurora_discovery_files_announced_total", "LogFileMessages acknowledged by Kafka", ["log_type"]
)
BYTES_BEHIND = Gauge(
    "aurora_discovery_bytes_behind",
    "Bytes RDS lists beyond the checkpoints, this shard's instances",
    ["log_type"],
)
FILES_BEHIND = Gauge(
    "aurora_discovery_files_behind", "Files with bytes beyond their checkpoint", ["log_type"]
)
LOG_TYPE_DISABLED = Gauge(
    "aurora_discovery_log_type_disabled",
    "Instances whose parameter groups leave the log type off or unreadable",
    ["log_type"],
)
GAPS = Counter(
    "aurora_discovery_gaps_total",
    "Files RDS removed before they were read to their end",
    ["log_type"],
)
GAP_BYTES = Counter(
    "aurora_discovery_gap_bytes_total", "Bytes of files removed before they were read", ["log_type"]
)
INSTANCES = Gauge("aurora_discovery_instances", "Instances by discovery state", ["state"])
KAFKA_PUBLISH_FAILURES = Counter(
    "aurora_kafka_publish_failures_total", "Messages Kafka did not acknowledge", ["topic"]
)
SKIPPED_NAMES = Counter(
    "aurora_discovery_skipped_files_total", "Listed files not followed, by reason", ["reason"]
)
LAST_CYCLE_END = Gauge(
    "aurora_discovery_last_cycle_end_timestamp_seconds", "When the last cycle finished"
)

for _t in LOG_TYPES:
    FILES_ANNOUNCED.labels(_t)
    GAPS.labels(_t)
    BYTES_BEHIND.labels(_t)
    FILES_BEHIND.labels(_t)
for _o in ("ok", "partial", "failed"):
    CYCLES.labels(_o)
