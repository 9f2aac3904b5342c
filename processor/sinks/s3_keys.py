"""S3 keys of the raw archive (docs/design.md §3): deterministic from the range, so a retry
overwrites."""

from __future__ import annotations

from datetime import datetime


def archive_key(
    prefix: str,
    engine: str,
    cluster_id: str,
    instance_id: str,
    log_type: str,
    log_file_name: str,
    start: int,
    end: int,
    day: datetime,
    compression: str,
    kind: str = "raw",
) -> str:
    """`{prefix}{kind}/{engine}/{cluster}/{instance}/{type}/dt=YYYY-MM-DD/{base}.{start}-{end}.{ext}`."""
    base = log_file_name.rsplit("/", 1)[-1]
    return (
        f"{prefix}{kind}/{engine}/{cluster_id}/{instance_id}/{log_type}/"
        f"dt={day:%Y-%m-%d}/{base}.{start:012d}-{end:012d}.{compression}"
    )
