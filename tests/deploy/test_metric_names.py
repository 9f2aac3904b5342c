"""Every metric an alert or the dashboard uses exists in the code's Prometheus registry, with the
type the query assumes (a histogram's `_bucket`, a counter's `_total`) and the labels it matches.

Every name is read from the real registry: the modules below register all the metrics of both
services (importing them is enough).
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from tests.deploy.conftest import CHART

# Modules that register the metrics of both services (default registry).
CODE_METRICS_MODULES = (
    "common.health",
    "common.cache",
    "common.rate_limit",
    "common.rds",
    "common.valkey",
    "discovery.metrics",
    "processor.metrics",
    "processor.sinks.openobserve.metrics",
    "processor.parsers.stats",
    "processor.parsers.scanning",
)

# Labels Prometheus adds to every series it scrapes (target labels), and a histogram's own.
TARGET_LABELS = {"namespace", "pod", "job", "instance", "service", "container", "le"}
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def _registered() -> dict[str, tuple[str, set[str]]]:
    """Every exposed series name -> (type, labels), from the registry."""
    for module in CODE_METRICS_MODULES:
        importlib.import_module(module)
    families: dict[str, tuple[str, set[str]]] = {}
    for collector in list(REGISTRY._collector_to_names):  # every registered collector
        if not isinstance(collector, MetricWrapperBase):
            continue  # the process and platform collectors
        labels = set(getattr(collector, "_labelnames", ()))
        for family in collector.describe():
            families[family.name] = (family.type, labels)
    exposed = {}
    for name, (kind, labels) in families.items():
        for suffix in SUFFIXES.get(kind, ("",)):
            exposed[name + suffix] = (kind, labels)
    return exposed


def _alert_expressions() -> list[str]:
    from tests.deploy.conftest import load_render_module

    text = load_render_module().render("production")["prometheusrule.yaml"]
    (rule,) = [d for d in yaml.safe_load_all(text) if d]
    return [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]


def _dashboard_expressions() -> list[str]:
    dashboard: dict[str, Any] = json.loads(
        (CHART / "dashboards" / "aurora-log-system.json").read_text()
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return exprs


def _check(expressions: list[str]) -> set[str]:
    exposed = _registered()
    used: set[str] = set()
    for expr in expressions:
        for name in re.findall(r"\b(aurora_[a-z0-9_]+)", expr):
            assert name in exposed, f"{name} (in {expr!r}) is not a registered series"
            used.add(name)
        for name, matchers in re.findall(r"\b(aurora_[a-z0-9_]+)\{([^}]*)\}", expr):
            for label in re.findall(r"([a-z_]+)\s*(?:=~|!=|!~|=)", matchers):
                known = exposed[name][1] | TARGET_LABELS
                assert label in known, f"{name} has no label {label!r} (in {expr!r})"
    return used


def test_every_alert_metric_is_registered() -> None:
    used = _check(_alert_expressions())
    # The seed's alerts and ours reach both services.
    assert {"aurora_rds_api_calls_total", "aurora_processor_consumer_lag"} <= used
    assert (
        "aurora_dynamodb_throttles_total" in used and "aurora_processor_s3_failures_total" in used
    )


def test_every_dashboard_metric_is_registered() -> None:
    used = _check(_dashboard_expressions())
    assert len(used) >= 30


def test_the_check_catches_an_unknown_name_or_label() -> None:
    for bad in (
        'sum(aurora_processor_consumer_lagg{namespace="x"})',
        'aurora_processor_consumer_lag{stream="x"}',
        "aurora_processor_consumer_lag_total",
    ):
        try:
            _check([bad])
        except AssertionError:
            continue
        raise AssertionError(f"{bad} passed")
