"""The processor's Prometheus metrics (default registry), named here once so the alerts, the
Grafana dashboard and the code agree; `tests/deploy` checks every name they use exists.

RDS calls are counted in discovery's shared `aurora_rds_api_calls_total{operation,outcome}`
(common), not here; OpenObserve has its own `aurora_openobserve_*` (processor/sinks), parsers
`aurora_parser_*`. Labels take a `LogType` value, a topic, a stream or a short fixed word, never
an instance id (316 instances × 5 types would be a cardinality bill with no reader).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BYTES_DOWNLOADED = Counter(
    "aurora_processor_bytes_downloaded_total",
    "Log bytes read from RDS, by API (portion = DownloadDBLogFilePortion, complete = "
    "DownloadCompleteDBLogFile) and log type.",
    ["api", "log_type"],
)
COMPLETE_FALLBACKS = Counter(
    "aurora_processor_complete_download_fallbacks_total",
    "Files read with portion calls because the complete-file endpoint refused, by reason.",
    ["reason"],
)
MESSAGES = Counter(
    "aurora_processor_messages_total",
    "Kafka messages handled, by log type and outcome (a file's: complete, caught_up, "
    "waiting_rotation, held_elsewhere, vanished, lease_lost; or error, dead_lettered, invalid).",
    ["log_type", "outcome"],
)
RANGES = Counter(
    "aurora_processor_ranges_total",
    "File ranges processed (parse, ship, checkpoint), by log type and outcome (ok, error).",
    ["log_type", "outcome"],
)
EVENTS_SHIPPED = Counter(
    "aurora_processor_events_shipped_total",
    "Events OpenObserve confirmed, by stream.",
    ["stream"],
)
RETRIES = Counter(
    "aurora_processor_retries_total",
    "Retries of a step of the protocol, by step (download, s3, openobserve, checkpoint).",
    ["step"],
)
DLQ_REASONS = ("invalid", "attempts", "refused")
DLQ_MESSAGES = Counter(
    "aurora_processor_dlq_messages_total",
    f"Messages sent to the dead-letter topic, by reason ({', '.join(DLQ_REASONS)}).",
    ["reason"],
)
# Each reason from zero: `increase()` counts nothing for a series' first sample, so a counter
# born at 1 would hide the first dead letter from AuroraLogsDeadLettersGrowing.
for _reason in DLQ_REASONS:
    DLQ_MESSAGES.labels(_reason)
CHECKPOINT_CONFLICTS = Counter(
    "aurora_processor_checkpoint_conflicts_total",
    "Conditional checkpoint writes that lost (another owner or a newer version).",
)
LEASES_LOST = Counter(
    "aurora_processor_leases_lost_total",
    "Files abandoned because the lease passed to another processor.",
)
PENDING_RECOVERED = Counter(
    "aurora_processor_pending_recovered_total",
    "Write-ahead intents found at start and resolved, by outcome (complete, resent, partial).",
    ["outcome"],
)
CONSUMER_LAG = Gauge(
    "aurora_processor_consumer_lag",
    "Messages between the committed offset and the end of the partitions assigned to this "
    "processor (summed over processors: the group's lag per topic).",
    ["topic"],
)
BYTES_BEHIND = Gauge(
    "aurora_processor_bytes_behind",
    "Bytes announced by discovery but not yet shipped, by log type.",
    ["log_type"],
)
FILES_IN_PROGRESS = Gauge(
    "aurora_processor_files_in_progress",
    "Files this processor holds a lease on.",
)
FILES_STUCK = Gauge(
    "aurora_processor_files_stuck",
    "Files in progress whose checkpoint has not moved for longer than the lease.",
)
S3_REQUEST_SECONDS = Histogram(
    "aurora_processor_s3_request_seconds",
    "Latency of one S3 request of the archive, by operation.",
    ["operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
S3_REQUESTS = Counter(
    "aurora_processor_s3_requests_total",
    "S3 requests of the archive, by operation (put_object, upload_part, ...).",
    ["operation"],
)
S3_FAILURES = Counter(
    "aurora_processor_s3_failures_total",
    "S3 request attempts that failed (5xx or connection error: each attempt botocore retried "
    "counts; a 4xx once), by operation.",
    ["operation"],
)
S3_BYTES = Counter(
    "aurora_processor_s3_bytes_total",
    "Compressed bytes written to the S3 archive, by log type.",
    ["log_type"],
)
DYNAMODB_THROTTLES = Counter(
    "aurora_dynamodb_throttles_total",
    "DynamoDB requests refused with a throughput or throttling error, by table.",
    ["table"],
)
