"""Every setting of both services, each read from an environment variable.

One `Settings` object is made of a few groups, one per concern. A group reads its own variables,
so a component needs only the group it uses. The seed deployment's variable names keep working
(`DISCOVERY_INTERVAL_MIN`, `OPENOBSERVE_PASS`, ...). A bad value fails at start-up with a
`SettingsError` naming the variable; `python -m common.settings` prints the README's table.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.log_types import LogType

_CONFIG = SettingsConfigDict(extra="ignore", populate_by_name=False, case_sensitive=False)


class SettingsError(ValueError):
    """A setting has a bad value; the message names the environment variable and the problem."""


class AwsSettings(BaseSettings):
    model_config = _CONFIG
    aws_region: str = Field("us-east-1", description="Region of the RDS fleet, DynamoDB and S3.")
    aws_retry_mode: Literal["legacy", "standard", "adaptive"] = Field(
        "adaptive", description="botocore retry mode for every AWS client."
    )
    aws_max_attempts: int = Field(5, ge=1, le=20, description="botocore total attempts per call.")
    aws_accounts: str = Field(
        "",
        description=(
            "Comma-separated `role_arn@region` pairs to read; empty means this account and "
            "AWS_REGION. Each pair has its own RDS budget."
        ),
    )


class KafkaSettings(BaseSettings):
    model_config = _CONFIG
    kafka_brokers: str = Field(
        "localhost:9092", description="Comma-separated bootstrap servers (host:port)."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Kafka security protocol."
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN", "OAUTHBEARER"] = Field(
        "SCRAM-SHA-512",
        description=(
            "SASL mechanism when the protocol is SASL_*; `OAUTHBEARER` is MSK IAM "
            "authentication (tokens signed with the pod's AWS credentials, no password)."
        ),
    )
    kafka_sasl_username: str = Field("", description="SASL user name.")
    kafka_sasl_password: SecretStr = Field(SecretStr(""), description="SASL password.")
    kafka_ssl_cafile: str = Field("", description="CA bundle for TLS; empty uses the system's.")
    kafka_msk_region: str = Field(
        "us-east-1",
        validation_alias=AliasChoices("KAFKA_MSK_REGION", "AWS_REGION"),
        description="Region of the MSK cluster whose IAM tokens are signed (OAUTHBEARER); "
        "defaults to AWS_REGION.",
    )
    kafka_topic_error: str = Field("aurora-logs-error", description="Topic of MySQL error logs.")
    kafka_topic_slowquery: str = Field("aurora-logs-slowquery", description="Topic of slow logs.")
    kafka_topic_general: str = Field("aurora-logs-general", description="Topic of general logs.")
    kafka_topic_audit: str = Field("aurora-logs-audit", description="Topic of audit logs.")
    kafka_topic_postgresql: str = Field(
        "aurora-logs-postgresql", description="Topic of PostgreSQL logs."
    )
    kafka_topic_dlq: str = Field("aurora-logs-dlq", description="Dead-letter topic.")
    kafka_consumer_group: str = Field(
        "aurora-processor-group", description="Consumer group of the processors."
    )
    kafka_session_timeout_ms: int = Field(
        45000, ge=1000, description="Consumer session timeout; a dead member is noticed after it."
    )
    kafka_heartbeat_interval_ms: int = Field(3000, ge=100, description="Consumer heartbeat.")
    kafka_max_request_size: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest message the producer sends (bytes)."
    )
    kafka_request_timeout_ms: int = Field(
        30_000,
        ge=1000,
        description="How long the producer waits for a broker's acknowledgement before a send "
        "fails (and the file is announced again next cycle).",
    )
    kafka_start_timeout_sec: float = Field(
        120.0,
        ge=0,
        description=(
            "How long a service keeps trying to reach the brokers at start (a broker restarting, "
            "a pod up before Kafka) before it exits to be restarted."
        ),
    )

    @property
    def bootstrap_servers(self) -> list[str]:
        return [b.strip() for b in self.kafka_brokers.split(",") if b.strip()]

    def topics(self) -> dict[str, str]:
        """Log type -> topic name."""
        return {t.value: str(getattr(self, f"kafka_topic_{t.value}")) for t in LogType}


class ValkeySettings(BaseSettings):
    model_config = _CONFIG
    valkey_url: str = Field(
        "redis://localhost:6379/0", description="Valkey URL, `redis://` or `rediss://` (TLS)."
    )
    valkey_socket_timeout_sec: float = Field(2.0, gt=0, description="Valkey socket timeout.")
    valkey_key_prefix: str = Field(
        "aurora:",
        description="Prefix of every Valkey key (bucket, cache): one Valkey, many stacks.",
    )
    cache_ttl_describe_sec: int = Field(
        300, ge=0, description="Cache TTL of DescribeDBClusters/DescribeDBInstances responses."
    )
    cache_ttl_log_files_sec: int = Field(
        60, ge=0, description="Cache TTL of DescribeDBLogFiles responses."
    )
    cache_ttl_parameters_sec: int = Field(
        3600, ge=0, description="Cache TTL of parameter-group listings (the budget is small)."
    )
    cache_stale_sec: int = Field(
        3600,
        ge=0,
        description="How long past its TTL a cached answer is kept to be served while RDS throttles or fails.",
    )


class TablesSettings(BaseSettings):
    model_config = _CONFIG
    instance_table: str = Field("instance-metadata", description="DynamoDB instance table.")
    tracking_table: str = Field("tracking", description="DynamoDB checkpoint table.")
    jobs_table: str = Field("jobs", description="DynamoDB processing-run audit table.")


class S3Settings(BaseSettings):
    model_config = _CONFIG
    s3_bucket: str = Field("aurora-logs-archive", description="Bucket of the raw-log archive.")
    s3_prefix: str = Field("", description="Key prefix inside the bucket (ends with `/`).")
    s3_compression: Literal["gz", "zst"] = Field("zst", description="Archive object compression.")
    s3_archive_events: bool = Field(False, description="Also archive parsed NDJSON under events/.")

    @model_validator(mode="after")
    def _prefix_ends_with_slash(self) -> S3Settings:
        if self.s3_prefix and not self.s3_prefix.endswith("/"):
            raise ValueError("S3_PREFIX must be empty or end with '/'")
        return self


class OpenObserveSettings(BaseSettings):
    model_config = _CONFIG
    openobserve_url: str = Field("http://localhost:5080", description="OpenObserve base URL.")
    openobserve_user: str = Field("root@example.com", description="User (e-mail) for Basic auth.")
    openobserve_pass: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices("OPENOBSERVE_PASS", "OPENOBSERVE_PASSWORD"),
        description="Password or ingestion passcode for Basic auth.",
    )
    openobserve_org: str = Field("default", description="OpenObserve organization.")
    openobserve_stream_error: str = Field("aurora_error_logs", description="Error-log stream.")
    openobserve_stream_slowquery: str = Field("aurora_slowquery_logs", description="Slow stream.")
    openobserve_stream_general: str = Field("aurora_general_logs", description="General stream.")
    openobserve_stream_audit: str = Field("aurora_audit_logs", description="Audit-log stream.")
    openobserve_stream_postgresql: str = Field(
        "aurora_postgresql_logs", description="PostgreSQL-log stream."
    )
    openobserve_batch_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest batch, uncompressed bytes."
    )
    openobserve_batch_interval_sec: float = Field(
        1.0, gt=0, description="A partial batch is sent after this long."
    )
    openobserve_timeout_sec: float = Field(30.0, gt=0, description="HTTP timeout per request.")
    openobserve_max_retries: int = Field(
        8, ge=0, description="Retries of one batch before it is a permanent failure."
    )
    openobserve_backoff_base_sec: float = Field(0.2, gt=0, description="First retry delay.")
    openobserve_backoff_max_sec: float = Field(30.0, gt=0, description="Largest retry delay.")
    openobserve_ingest_window_hours: float = Field(
        5.0, gt=0, description="The server's ZO_INGEST_ALLOWED_UPTO: older events are refused."
    )
    openobserve_ingest_future_hours: float = Field(
        24.0, gt=0, description="The server's ZO_INGEST_ALLOWED_IN_FUTURE: later ones refused."
    )
    openobserve_window_margin_sec: float = Field(
        600.0,
        ge=0,
        description=(
            "Events this close to an edge of the ingestion window are treated as outside it, "
            "so that retries and clock skew cannot push them over."
        ),
    )
    openobserve_gzip_level: int = Field(1, ge=1, le=9, description="gzip level of request bodies.")
    openobserve_concurrency: int = Field(
        2, ge=1, le=64, description="Batches in flight at once per ship call."
    )
    openobserve_old_events: Literal["ingest_time", "s3_only"] = Field(
        "ingest_time",
        description=(
            "Events older than the window: `ingest_time` sends them with _timestamp = now "
            "(event_time keeps the real time); `s3_only` keeps them in the S3 archive only."
        ),
    )
    openobserve_visibility_lag_sec: float = Field(
        15.0,
        ge=0,
        description=(
            "Records may stay invisible to search this long after a write: an event not found "
            "sooner is unknown, not absent (it is asked again, never resent)."
        ),
    )
    openobserve_reconcile_attempts: int = Field(
        8,
        ge=1,
        description=(
            "Searches for a batch's uncertain events (partial or young answers) before they "
            "are reported unknown."
        ),
    )
    openobserve_search_max_range_hours: float = Field(
        24.0,
        gt=0,
        description=(
            "Longest time range of one reconciliation search; longer ranges are split (the "
            "server silently shortens a range past the stream's max query range)."
        ),
    )

    def streams(self) -> dict[str, str]:
        """Log type -> stream name."""
        return {t.value: str(getattr(self, f"openobserve_stream_{t.value}")) for t in LogType}


class RdsSettings(BaseSettings):
    model_config = _CONFIG
    rds_api_rate_limit: float = Field(
        8.0, gt=0, description="RDS requests/s shared by all replicas (the account allows 12)."
    )
    rds_api_burst: int = Field(100, ge=1, description="Token-bucket burst of RDS requests.")
    rds_engines: str = Field(
        "aurora-mysql,aurora-postgresql", description="Comma-separated engines to follow."
    )
    rds_api_reserve: int = Field(
        20,
        ge=0,
        description="Tokens of the shared bucket that only discovery may take (processor portion reads leave them).",
    )
    rds_throttle_retries: int = Field(
        8, ge=0, description="Retries of one RDS call answered `Throttling` before it fails."
    )
    rds_backoff_base_sec: float = Field(
        0.5, gt=0, description="First backoff after `Throttling` (doubles, full jitter)."
    )
    rds_backoff_max_sec: float = Field(
        20.0, gt=0, description="Largest backoff after `Throttling`."
    )

    @property
    def engines(self) -> frozenset[str]:
        return frozenset(e.strip() for e in self.rds_engines.split(",") if e.strip())


_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def start_position_sec(text: str) -> float | None:
    """`earliest` -> None, `latest` -> 0, `6h`/`30m`/`2d`/`90s` -> seconds; else ValueError."""
    value = text.strip().lower()
    if value == "earliest":
        return None
    if value == "latest":
        return 0.0
    unit = _DURATION.get(value[-1:])
    try:
        amount = float(value[:-1])
    except ValueError:
        amount = -1
    if unit is None or amount <= 0:
        raise ValueError(f"START_POSITION must be earliest, latest or a duration like 6h: {text!r}")
    return amount * unit


class DiscoverySettings(BaseSettings):
    model_config = _CONFIG
    discovery_interval_sec: float = Field(
        60.0, gt=0, description="Seconds between discovery cycles (or DISCOVERY_INTERVAL_MIN)."
    )
    discovery_interval_min: float | None = Field(
        None, gt=0, description="Seed name: the cycle in minutes; wins over the seconds form."
    )
    shard_id: int = Field(0, ge=0, description="This replica's shard (or the StatefulSet ordinal).")
    total_shards: int = Field(1, ge=1, description="Number of discovery replicas.")
    discovery_opt_out_tag: str = Field(
        "log-shipping", description="Tag whose value DISCOVERY_OPT_OUT_VALUE opts an instance out."
    )
    discovery_opt_out_value: str = Field(
        "disabled", description="Value of the opt-out tag (on the instance or its cluster)."
    )
    discovery_quiet_max_sec: float = Field(
        600.0, gt=0, description="Longest wait between log listings of a quiet instance."
    )
    discovery_margin_sec: float = Field(
        600.0,
        ge=0,
        description="FileLastWritten filter = last sighting minus this (flush delays, 5-minute granularity).",
    )
    discovery_full_listing_sec: float = Field(
        3600.0,
        gt=0,
        description="An unfiltered listing per instance this often (finds vanished files and gaps).",
    )
    discovery_reannounce_sec: float = Field(
        3600.0,
        gt=0,
        description="A file still behind its checkpoint is announced again after this long.",
    )
    # Each announcement of an active file costs its processor at least one portion call: 316
    # instances with two followed files each, announced every minute, would be 10.5 calls/s,
    # over the whole budget (README "Choices").
    discovery_active_min_bytes: int = Field(
        1024 * 1024,
        ge=0,
        description="An announced growing file is announced again once grown this much "
        "(a portion call reads up to 1 MB), or after DISCOVERY_ACTIVE_MAX_DELAY_SEC.",
    )
    discovery_active_max_delay_sec: float = Field(
        180.0,
        ge=0,
        description="Longest wait before an announced growing file is announced again "
        "(bounds its freshness); 0 announces every growth.",
    )
    discovery_concurrency: int = Field(
        8, ge=1, le=256, description="Instances listed at once (the bucket paces them)."
    )
    start_position: str = Field(
        "earliest",
        description="First sighting of an instance: `earliest` (all RDS keeps), `latest` (from now on) or a duration like `6h`.",
    )
    instance_ttl_days: float = Field(
        7.0, gt=0, description="TTL of instance metadata, refreshed on each sighting."
    )
    vanished_ttl_days: float = Field(
        7.0, gt=0, description="TTL given to tracking rows of files RDS no longer lists."
    )
    discovery_seed_style: bool = Field(
        False,
        description="Benchmark baseline only: behave like the seed design (a DescribeDBInstances per instance, no cache, a full DescribeDBLogFiles per instance every cycle).",
    )

    @model_validator(mode="after")
    def _check(self) -> DiscoverySettings:
        if self.discovery_active_max_delay_sec > self.discovery_reannounce_sec:
            raise ValueError(
                "DISCOVERY_ACTIVE_MAX_DELAY_SEC must not exceed DISCOVERY_REANNOUNCE_SEC"
            )
        if self.shard_id >= self.total_shards:
            raise ValueError(f"SHARD_ID {self.shard_id} must be below TOTAL_SHARDS")
        start_position_sec(self.start_position)
        return self

    @property
    def start_after_sec(self) -> float | None:
        """None = earliest; 0 = latest; otherwise how far back a first sighting reads."""
        return start_position_sec(self.start_position)

    @property
    def interval_sec(self) -> float:
        if self.discovery_interval_min is not None:
            return self.discovery_interval_min * 60.0
        return self.discovery_interval_sec


class ProcessorSettings(BaseSettings):
    model_config = _CONFIG
    processor_range_bytes: int = Field(
        8 * 1024 * 1024, ge=4096, description="Target size of one archived/shipped range."
    )
    processor_max_attempts: int = Field(
        5, ge=1, description="Attempts of one message before it is dead-lettered."
    )
    processor_lease_sec: int = Field(300, ge=2, description="Lease on a file while processing.")
    processor_archive_range_bytes: int = Field(
        256 * 1024 * 1024,
        ge=5 * 1024 * 1024,
        description="Raw bytes of one S3 archive object (a bigger rotated file is several).",
    )
    processor_concurrency: int = Field(
        8, ge=1, le=256, description="Files processed at once (one per Kafka partition at most)."
    )
    processor_replicas: int = Field(
        2,
        ge=1,
        description="Processor replicas: the local RDS bucket's share while Valkey is unreachable.",
    )
    follow_active: str = Field(
        "error,slowquery,postgresql",
        description=(
            "Log types whose growing (active) files are read with portion calls as they grow; "
            "the others wait for rotation and one complete download."
        ),
    )
    processor_complete_download: bool = Field(
        True,
        description=(
            "Read rotated files with one DownloadCompleteDBLogFile call; false reads them with "
            "portion calls only (the seed's way: the benchmarks' baseline, or a role without "
            "rds:DownloadCompleteDBLogFile)."
        ),
    )

    @property
    def follow_active_types(self) -> tuple[LogType, ...]:
        return tuple(LogType(t.strip()) for t in self.follow_active.split(",") if t.strip())

    @model_validator(mode="after")
    def _known_types(self) -> ProcessorSettings:
        known = {t.value for t in LogType}
        unknown = [t for t in self.follow_active.split(",") if t.strip() and t.strip() not in known]
        if unknown:
            raise ValueError(f"FOLLOW_ACTIVE names unknown log types {unknown}")
        return self


class ObservabilitySettings(BaseSettings):
    model_config = _CONFIG
    metrics_host: str = Field("0.0.0.0", description="Address of /metrics, /healthz, /readyz.")
    metrics_port: int = Field(9090, ge=0, le=65535, description="Port of the same (0 = any).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Level.")
    log_format: Literal["json", "console"] = Field("json", description="Log line format.")
    shutdown_timeout_sec: float = Field(30.0, gt=0, description="Graceful-stop deadline.")


T = TypeVar("T", bound=BaseSettings)

GROUPS: tuple[type[BaseSettings], ...] = (
    AwsSettings,
    KafkaSettings,
    ValkeySettings,
    TablesSettings,
    S3Settings,
    OpenObserveSettings,
    RdsSettings,
    DiscoverySettings,
    ProcessorSettings,
    ObservabilitySettings,
)


class Settings:
    """All groups, read once at start-up. Build it with `load_settings()`."""

    def __init__(self, **overrides: Any) -> None:
        self.aws = _load(AwsSettings, overrides)
        self.kafka = _load(KafkaSettings, overrides)
        self.valkey = _load(ValkeySettings, overrides)
        self.tables = _load(TablesSettings, overrides)
        self.s3 = _load(S3Settings, overrides)
        self.openobserve = _load(OpenObserveSettings, overrides)
        self.rds = _load(RdsSettings, overrides)
        self.discovery = _load(DiscoverySettings, overrides)
        self.processor = _load(ProcessorSettings, overrides)
        self.observability = _load(ObservabilitySettings, overrides)


def _load(cls: type[T], overrides: dict[str, Any]) -> T:
    """Build one group from the environment plus the overrides that name its fields."""
    mine = {k: v for k, v in overrides.items() if k in cls.model_fields}
    try:
        return cls(**mine)
    except ValidationError as exc:
        raise SettingsError(_explain(cls, exc)) from exc


def _env_name(cls: type[BaseSettings], field: str) -> str:
    alias = cls.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return field.upper()


def _explain(cls: type[BaseSettings], exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        name = loc[0] if loc and loc[0] in cls.model_fields else ""
        var = _env_name(cls, name) if name else cls.__name__
        value = f" (got {err['input']!r})" if name and "input" in err else ""
        problems.append(f"{var}: {err['msg']}{value}")
    return "invalid settings: " + "; ".join(problems)


def load_settings(**overrides: Any) -> Settings:
    """Read every group; raise `SettingsError` naming the variable of any bad value."""
    return Settings(**overrides)


def markdown_table() -> str:
    """The README's table of settings: variable, default, meaning."""
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for cls in GROUPS:
        for name, info in cls.model_fields.items():
            default = info.default
            if isinstance(default, SecretStr):
                default = ""
            shown = "" if default is None else str(default)
            rows.append(f"| `{_env_name(cls, name)}` | `{shown}` | {info.description or ''} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover - a developer's helper
    sys.stdout.write(markdown_table() + "\n")
