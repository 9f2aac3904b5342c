"""The monthly cost lines: this system's (compute, S3 archive, DynamoDB, Kafka, network,
OpenObserve) and CloudWatch Logs' for the same volume, from figures, prices and assumptions
given as plain dicts (pure arithmetic, so the tests can vary every input)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Line:
    component: str
    item: str
    usd_month: float
    detail: str
    alternative: bool = False  # shown for reference, not part of the total


def archive_gb_months(
    monthly_gb: float, standard_days: float, ia_days: float, keep_days: float
) -> tuple[float, float, float]:
    """Steady-state GB stored in (Standard, Standard-IA, Glacier IR) when `monthly_gb` arrives
    every month and moves tiers at `standard_days` and `ia_days`, expiring at `keep_days`."""
    per_day = monthly_gb * 12 / 365
    standard = per_day * min(standard_days, keep_days)
    ia = per_day * max(0.0, min(ia_days, keep_days) - standard_days)
    glacier = per_day * max(0.0, keep_days - max(ia_days, standard_days))
    return standard, ia, glacier


def ours(fig: dict[str, float], p: dict[str, float], a: dict[str, float]) -> list[Line]:
    """The monthly cost lines of this system at `a['volume_gb_month']`."""
    v = a["volume_gb_month"]
    hours = a["hours_month"]
    out: list[Line] = []
    vcpu = fig["cpu_s_per_gb"] * v / 3600 / hours / a["cpu_utilisation"]
    out.append(
        Line(
            "compute",
            "processors (Graviton spot)",
            vcpu * hours * p["spot_vcpu_hour"],
            f"{vcpu:.1f} vCPU at {a['cpu_utilisation']:.0%} busy",
        )
    )
    out.append(
        Line(
            "compute",
            "discovery and Valkey (spot)",
            a["fixed_spot_vcpu"] * hours * p["spot_vcpu_hour"],
            f"{a['fixed_spot_vcpu']:.0f} vCPU",
        )
    )
    out.append(Line("compute", "EKS control plane", hours * p["eks_cluster_hour"], "one cluster"))

    stored = v / fig["compression_ratio"]
    std, ia, gir = archive_gb_months(
        stored, a["archive_standard_days"], a["archive_ia_days"], a["archive_retention_days"]
    )
    out.append(
        Line(
            "S3 archive",
            "storage",
            std * p["s3_standard_gb_month"]
            + ia * p["s3_standard_ia_gb_month"]
            + gir * p["s3_glacier_ir_gb_month"],
            f"{stored:,.0f} GB a month compressed; steady state {std:,.0f} GB Standard, {ia:,.0f} GB IA, {gir:,.0f} GB Glacier IR",
        )
    )
    out.append(
        Line(
            "S3 archive",
            "PUT/COPY requests",
            fig["s3_requests_per_gb"] * v / 1000 * p["s3_put_per_1000"],
            f"{fig['s3_requests_per_gb']:.0f} per GB",
        )
    )
    objects = a["instances"] * hours * a["archive_objects_per_instance_hour"]
    moves = (
        objects / 1000 * (p["s3_transition_ia_per_1000"] + p["s3_transition_glacier_ir_per_1000"])
    )
    out.append(
        Line(
            "S3 archive",
            "lifecycle transitions",
            moves,
            f"{objects:,.0f} objects a month, two transitions each",
        )
    )

    writes = fig["dynamodb_writes_per_gb"] * v
    wru = writes * a["dynamodb_wru_per_write"]
    rru = writes * a["dynamodb_reads_per_write"]
    items = writes / 3 * a["jobs_ttl_days"] * 12 / 365  # about a third of the writes are jobs rows
    out.append(
        Line(
            "DynamoDB",
            "writes (on-demand)",
            wru / 1e6 * p["dynamodb_wru_million"],
            f"{writes / 1e6:,.1f} M writes, {a['dynamodb_wru_per_write']:.0f} WRU each",
        )
    )
    out.append(
        Line(
            "DynamoDB",
            "reads (on-demand)",
            rru / 1e6 * p["dynamodb_rru_million"],
            f"{rru / 1e6:,.1f} M consistent reads",
        )
    )
    out.append(
        Line(
            "DynamoDB",
            "storage",
            items * a["dynamodb_item_kb"] / 1024**2 * p["dynamodb_storage_gb_month"],
            f"{items / 1e6:,.1f} M items kept",
        )
    )

    out.append(
        Line(
            "Kafka (MSK)",
            "brokers",
            a["msk_brokers"] * hours * p["msk_broker_hour"],
            f"{a['msk_brokers']:.0f} × kafka.m7g.large; {fig['kafka_messages_per_gb'] * v / hours / 3600:,.1f} messages/s",
        )
    )
    out.append(
        Line(
            "Kafka (MSK)",
            "storage",
            a["msk_brokers"] * a["msk_storage_gb_per_broker"] * p["msk_storage_gb_month"],
            f"{a['msk_storage_gb_per_broker']:.0f} GB per broker",
        )
    )

    out.append(
        Line(
            "network",
            "RDS API via interface endpoint",
            v * p["interface_endpoint_gb"]
            + a["rds_endpoint_azs"] * hours * p["interface_endpoint_hour"],
            f"{v:,.0f} GB downloaded, {a['rds_endpoint_azs']:.0f} AZs; NAT would cost ${v * p['nat_gateway_gb']:,.0f}",
        )
    )
    out.append(
        Line(
            "network",
            "S3 and DynamoDB via gateway endpoints",
            stored * p["gateway_endpoint_gb"],
            "free, same region",
        )
    )
    json_gb = v * a["event_json_bytes_per_raw_byte"]
    wire = json_gb / a["wire_compression"] * a["cross_az_share"]
    out.append(
        Line(
            "network",
            "cross-AZ to OpenObserve",
            wire * p["cross_az_gb"],
            f"{wire:,.0f} GB of gzip JSON cross an AZ",
        )
    )

    o2_vcpu = (
        json_gb
        * 1024
        / (hours * 3600)
        / a["openobserve_ingest_mb_per_vcpu_s"]
        / a["cpu_utilisation"]
        + a["openobserve_fixed_vcpu"]
    )
    out.append(
        Line(
            "OpenObserve",
            "compute (on-demand Graviton)",
            o2_vcpu * hours * p["ondemand_vcpu_hour"],
            f"{o2_vcpu:.1f} vCPU for {json_gb * 1024 / (hours * 3600):,.0f} MB/s of event JSON",
        )
    )
    o2_stored = (
        json_gb / a["openobserve_storage_ratio"] * a["openobserve_retention_days"] * 12 / 365
    )
    out.append(
        Line(
            "OpenObserve",
            "storage on S3",
            o2_stored * p["s3_standard_gb_month"],
            f"{o2_stored:,.0f} GB of Parquet ({a['openobserve_retention_days']:.0f} days)",
        )
    )
    out.append(
        Line(
            "OpenObserve",
            "WAL volumes",
            a["openobserve_wal_gb"] * p["ebs_gp3_gb_month"],
            f"{a['openobserve_wal_gb']:.0f} GB gp3",
        )
    )
    return out


def cloudwatch(fig: dict[str, float], p: dict[str, float], a: dict[str, float]) -> list[Line]:
    """CloudWatch Logs for the same volume and retention: ingestion plus compressed storage
    (searching, and exporting to anything else, cost more and are left out)."""
    v = a["volume_gb_month"]
    stored = v / fig["compression_ratio"] * a["archive_retention_days"] * 12 / 365
    storage = stored * p["cloudwatch_storage_gb_month"]
    return [
        Line("CloudWatch Logs", "ingestion, Standard", v * p["cloudwatch_ingest_gb"], f"{v:,.0f} GB at ${p['cloudwatch_ingest_gb']}/GB"),
        Line("CloudWatch Logs", "storage", storage, f"{stored:,.0f} GB kept {a['archive_retention_days']:.0f} days, compressed as our archive"),
        Line("CloudWatch Logs (IA class)", "ingestion, Infrequent Access", v * p["cloudwatch_ia_ingest_gb"], "instead of Standard: no live tail or subscriptions; not in the total", alternative=True),
    ]  # fmt: skip


def model(fig: dict[str, float], p: dict[str, float], a: dict[str, float]) -> dict[str, Any]:
    lines = ours(fig, p, a)
    cw = cloudwatch(fig, p, a)
    total = sum(line.usd_month for line in lines)
    cw_total = sum(line.usd_month for line in cw if not line.alternative)
    v = a["volume_gb_month"]
    rds_per_sec = fig["rds_calls_per_gb"] * v / (a["hours_month"] * 3600)
    return {
        "ours": [asdict(line) for line in lines],
        "cloudwatch": [asdict(line) for line in cw],
        "total_usd_month": round(total, 2),
        "usd_per_gb": round(total / v, 5),
        "cloudwatch_usd_month": round(cw_total, 2),
        "cloudwatch_usd_per_gb": round(cw_total / v, 5),
        "ratio_cloudwatch_to_ours": round(cw_total / total, 2),
        "rds_calls_per_sec_needed": round(rds_per_sec, 2),
    }


def markdown(result: dict[str, Any]) -> str:
    rows = ["| Component | Item | USD / month | How |", "| --- | --- | ---: | --- |"]
    for line in result["ours"]:
        rows.append(
            f"| {line['component']} | {line['item']} | {line['usd_month']:,.0f} | {line['detail']} |"
        )
    rows.append(
        f"| **Aurora Log System** | **total** | **{result['total_usd_month']:,.0f}** | ${result['usd_per_gb']:.4f} per GB |"
    )
    for line in result["cloudwatch"]:
        rows.append(
            f"| {line['component']} | {line['item']} | {line['usd_month']:,.0f} | {line['detail']} |"
        )
    rows.append(
        f"| **CloudWatch Logs** | **total (Standard)** | **{result['cloudwatch_usd_month']:,.0f}** | {result['ratio_cloudwatch_to_ours']}× ours |"
    )
    figs = ["", "| Figure | Value | Source |", "| --- | ---: | --- |"]
    for k, f in result["figures"].items():
        figs.append(f"| `{k}` | {f['value']:,.3g} | {f['source']} |")
    budget = (
        f"\nRDS API calls this volume needs: {result['rds_calls_per_sec_needed']}/s "
        f"(the account allows 12/s for everyone; we take at most `RDS_API_RATE_LIMIT`, 8/s)."
    )
    estimated = result.get("estimated") or []
    note = f"\nEstimated, not measured: {', '.join(estimated)}." if estimated else ""
    return "\n".join(rows + figs) + "\n" + budget + note + "\n"  # fmt: skip
