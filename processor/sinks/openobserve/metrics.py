"""Prometheus metrics of the OpenObserve client (default registry, `aurora_openobserve_*`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "aurora_openobserve_requests_total",
    "HTTP requests to OpenObserve by operation and outcome (status code or error class).",
    ["operation", "outcome"],
)
EVENTS = Counter(
    "aurora_openobserve_events_total",
    "Events handled by outcome: delivered, failed, s3_only, unknown, retimed, reconciled.",
    ["stream", "outcome"],
)
BYTES = Counter(
    "aurora_openobserve_bytes_total",
    "Request body bytes sent for ingestion, uncompressed (raw) and on the wire (gzip).",
    ["stream", "encoding"],
)
RETRIES = Counter(
    "aurora_openobserve_retries_total",
    "Retries of an ingestion or search request, and reconciliation searches asked again "
    "(operation reconcile: partial_answer, young, search_failed), by reason.",
    ["operation", "reason"],
)
FAILURES = Counter(
    "aurora_openobserve_failures_total",
    "Events given up on (returned to the caller as permanent failures), by reason.",
    ["stream", "reason"],
)
MISMATCHES = Counter(
    "aurora_openobserve_count_mismatches_total",
    "HTTP 200 answers whose `successful` count differs from the records sent.",
    ["stream"],
)
LATENCY = Histogram(
    "aurora_openobserve_request_seconds",
    "Latency of one HTTP request to OpenObserve.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
