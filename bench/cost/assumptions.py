"""Every price and sizing assumption of the cost model, each with its unit and where it came
from: public us-east-1 list prices as we read them in 2026. They are assumptions to check
against the AWS price pages (spot prices move hourly) before deciding anything; change a value
here and rerun `python bench/cost_model.py`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assumed:
    """One written-down assumption: a price or a sizing figure, with its unit and source."""

    key: str
    value: float
    unit: str
    source: str


_LIST = "list price, us-east-1, as read in 2026; check"
# Every price the model uses. Spot prices move hourly; the others are list prices.
PRICES: tuple[Assumed, ...] = (
    Assumed("spot_vcpu_hour", 0.0145, "USD per vCPU-hour", "c7g/m7g.xlarge spot ≈ $0.058/h for 4 vCPU (aws.amazon.com/ec2/spot/pricing; varies hourly, about 60 % below on-demand)"),
    Assumed("ondemand_vcpu_hour", 0.03625, "USD per vCPU-hour", f"c7g.xlarge on-demand $0.145/h ÷ 4 ({_LIST} aws.amazon.com/ec2/pricing/on-demand)"),
    Assumed("eks_cluster_hour", 0.10, "USD per cluster-hour", f"EKS control plane, standard support ({_LIST} aws.amazon.com/eks/pricing)"),
    Assumed("ebs_gp3_gb_month", 0.08, "USD per GB-month", f"gp3 volumes for OpenObserve's WAL ({_LIST} aws.amazon.com/ebs/pricing)"),
    Assumed("s3_standard_gb_month", 0.023, "USD per GB-month", f"S3 Standard, first 50 TB ({_LIST} aws.amazon.com/s3/pricing)"),
    Assumed("s3_standard_ia_gb_month", 0.0125, "USD per GB-month", f"S3 Standard-IA ({_LIST} aws.amazon.com/s3/pricing)"),
    Assumed("s3_glacier_ir_gb_month", 0.004, "USD per GB-month", f"S3 Glacier Instant Retrieval ({_LIST} aws.amazon.com/s3/pricing)"),
    Assumed("s3_put_per_1000", 0.005, "USD per 1,000 requests", f"S3 Standard PUT/COPY/POST/LIST ({_LIST} aws.amazon.com/s3/pricing)"),
    Assumed("s3_transition_ia_per_1000", 0.01, "USD per 1,000 objects", f"lifecycle transition to Standard-IA ({_LIST} aws.amazon.com/s3/pricing)"),
    Assumed("s3_transition_glacier_ir_per_1000", 0.02, "USD per 1,000 objects", f"lifecycle transition to Glacier Instant Retrieval ({_LIST} aws.amazon.com/s3/pricing)"),
    Assumed("dynamodb_wru_million", 0.625, "USD per million write request units", f"DynamoDB on-demand, after the Nov 2024 price cut ({_LIST} aws.amazon.com/dynamodb/pricing/on-demand)"),
    Assumed("dynamodb_rru_million", 0.125, "USD per million read request units", f"DynamoDB on-demand ({_LIST} aws.amazon.com/dynamodb/pricing/on-demand)"),
    Assumed("dynamodb_storage_gb_month", 0.25, "USD per GB-month", f"DynamoDB Standard table class ({_LIST} aws.amazon.com/dynamodb/pricing/on-demand)"),
    Assumed("msk_broker_hour", 0.204, "USD per broker-hour", f"MSK provisioned kafka.m7g.large ({_LIST} aws.amazon.com/msk/pricing)"),
    Assumed("msk_storage_gb_month", 0.10, "USD per GB-month", f"MSK broker storage ({_LIST} aws.amazon.com/msk/pricing)"),
    Assumed("interface_endpoint_hour", 0.01, "USD per endpoint-AZ-hour", f"PrivateLink interface endpoint for the RDS API ({_LIST} aws.amazon.com/privatelink/pricing)"),
    Assumed("interface_endpoint_gb", 0.01, "USD per GB processed", f"PrivateLink data processing, first PB ({_LIST} aws.amazon.com/privatelink/pricing)"),
    Assumed("gateway_endpoint_gb", 0.0, "USD per GB", "S3 and DynamoDB gateway endpoints are free (aws.amazon.com/vpc/pricing)"),
    Assumed("nat_gateway_gb", 0.045, "USD per GB processed", f"NAT gateway processing — the path we avoid, shown for comparison ({_LIST} aws.amazon.com/vpc/pricing)"),
    Assumed("cross_az_gb", 0.02, "USD per GB crossing AZs", f"$0.01/GB out + $0.01/GB in between AZs ({_LIST} aws.amazon.com/ec2/pricing/on-demand, data transfer)"),
    Assumed("cloudwatch_ingest_gb", 0.50, "USD per GB ingested", f"CloudWatch Logs Standard ingestion ({_LIST} aws.amazon.com/cloudwatch/pricing)"),
    Assumed("cloudwatch_ia_ingest_gb", 0.25, "USD per GB ingested", f"CloudWatch Logs Infrequent Access ingestion ({_LIST} aws.amazon.com/cloudwatch/pricing)"),
    Assumed("cloudwatch_storage_gb_month", 0.03, "USD per GB-month", f"CloudWatch Logs archived storage, compressed ({_LIST} aws.amazon.com/cloudwatch/pricing)"),
)  # fmt: skip

# How the reference deployment is sized and kept (not prices, still assumptions).
ASSUMPTIONS: tuple[Assumed, ...] = (
    Assumed("volume_gb_month", 102_400.0, "GB of raw logs a month", "the reference deployment: 100 TB as 100 × 1024 GB (docs/design.md §1)"),
    Assumed("instances", 316.0, "instances", "the reference fleet"),
    Assumed("hours_month", 730.0, "hours", "AWS's billing month"),
    Assumed("mix_slowquery", 0.35, "share of bytes", "guess: the real fleet's mix is not known"),
    Assumed("mix_general", 0.25, "share of bytes", "guess"),
    Assumed("mix_audit", 0.20, "share of bytes", "guess"),
    Assumed("mix_postgresql", 0.15, "share of bytes", "guess"),
    Assumed("mix_error", 0.05, "share of bytes", "guess"),
    Assumed("cpu_utilisation", 0.6, "fraction", "processors are bought at 60 % busy (HPA target, headroom for bursts)"),
    Assumed("fixed_spot_vcpu", 2.0, "vCPU", "discovery and Valkey pods (their CPU hardly grows with volume)"),
    Assumed("archive_standard_days", 30.0, "days", "archive objects stay in S3 Standard this long (recent logs are read back)"),
    Assumed("archive_ia_days", 90.0, "days", "then Standard-IA until this age (IA's 30-day minimum is met)"),
    Assumed("archive_retention_days", 365.0, "days", "then Glacier Instant Retrieval until expiry at this age (its 90-day minimum is met)"),
    Assumed("archive_objects_per_instance_hour", 4.0, "objects", "about one object per rotated file: error, slow query, general/audit or PostgreSQL, per instance-hour"),
    Assumed("dynamodb_wru_per_write", 2.0, "WRU", "tracking rows with parser state and intent weigh 1–2 KB (1 WRU per KB)"),
    Assumed("dynamodb_reads_per_write", 1.0, "reads", "each conditional write follows one strongly consistent read (1 RRU up to 4 KB)"),
    Assumed("dynamodb_item_kb", 1.0, "KB", "mean stored item (jobs rows, 30-day TTL, are most items)"),
    Assumed("jobs_ttl_days", 30.0, "days", "jobs rows expire after this"),
    Assumed("msk_brokers", 3.0, "brokers", "one per AZ; messages are small hints"),
    Assumed("msk_storage_gb_per_broker", 100.0, "GB", "smallest sensible volume; 7 days of hints take far less"),
    Assumed("rds_endpoint_azs", 3.0, "AZs", "the RDS API reached through an interface endpoint in each AZ (no NAT)"),
    Assumed("cross_az_share", 2 / 3, "fraction", "with three AZs, two thirds of pod-to-OpenObserve traffic crosses an AZ"),
    Assumed("event_json_bytes_per_raw_byte", 3.0, "bytes", "an event's JSON (context fields + parsed fields) against its raw line; estimate"),
    Assumed("wire_compression", 8.0, "ratio", "gzip on event JSON sent to OpenObserve"),
    Assumed("openobserve_storage_ratio", 15.0, "ratio", "OpenObserve's Parquet (zstd) against event JSON; repetitive columns compress well"),
    Assumed("openobserve_retention_days", 30.0, "days", "searchable window in OpenObserve (the S3 archive keeps the rest)"),
    Assumed("openobserve_ingest_mb_per_vcpu_s", 5.0, "MB/s of event JSON per vCPU", "guess, to be measured on a real OpenObserve"),
    Assumed("openobserve_fixed_vcpu", 8.0, "vCPU", "queriers, compactor, router"),
    Assumed("openobserve_wal_gb", 300.0, "GB", "gp3 for the ingesters' WAL"),
)  # fmt: skip

# Engineering estimates used only with --estimates, where a measured figure is missing.
ESTIMATES: dict[str, tuple[float, str]] = {
    "compression_ratio": (8.0, "zstd level 3 on text logs; estimate"),
    "dynamodb_writes_per_gb": (
        400.0,
        "128 ranges of 8 MiB a GB × (intent + checkpoint + jobs row), plus archive and lease writes; estimate",
    ),
    "s3_requests_per_gb": (
        150.0,
        "multipart (create, 8 MiB parts, complete), copy from staging, delete; estimate",
    ),
    "rds_calls_per_gb": (10.0, "one complete download per rotated file of ~100 MB; estimate"),
    "kafka_messages_per_gb": (
        400.0,
        "316 instances × ~3 changed files × 60 announcements/h ÷ volume; estimate",
    ),
    "cpu_overhead_factor": (
        2.5,
        "parse CPU × this = processor CPU (download, compression, JSON, HTTP); estimate",
    ),
}


def table(rows: tuple[Assumed, ...]) -> dict[str, float]:
    return {a.key: a.value for a in rows}


def markdown_tables() -> str:
    """The prices and the assumptions as Markdown (README's cost model section holds them;
    a test keeps it in sync)."""
    out: list[str] = []
    for title, rows in (("Price", PRICES), ("Assumption", ASSUMPTIONS)):
        out += [f"| {title} | Value | Unit | Source |", "| --- | ---: | --- | --- |"]
        out += [f"| `{a.key}` | {a.value:g} | {a.unit} | {a.source} |" for a in rows]
        out.append("")
    return "\n".join(out)
