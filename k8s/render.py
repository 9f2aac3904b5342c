"""Render the Helm chart into plain manifests for `kubectl apply` users (`make manifests`).

One directory per environment (k8s/manifests/poc, k8s/manifests/production), one file per
template that renders to something. tests/deploy fails when the committed files drift from what
this renders, so edit the chart and run `make manifests`, never the manifests themselves.
Uses helm-python-sdk (Helm's own engine, no helm binary).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from helm_python import Chart

ROOT = Path(__file__).resolve().parent
CHART = ROOT / "helm" / "aurora-log-system"
MANIFESTS = ROOT / "manifests"
# environment -> (values file, release name, namespace)
ENVIRONMENTS = {
    "poc": ("values-poc.yaml", "aurora-log-system", "aurora-poc"),
    "production": ("values-production.yaml", "aurora-log-system", "aurora"),
}
HEADER = (
    "# Rendered from k8s/helm/aurora-log-system with {values} (release {release}, namespace "
    "{namespace}) by `make manifests`. Do not edit: change the chart or its values and re-render.\n"
)


def values_of(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((CHART / name).read_text())
    return loaded if isinstance(loaded, dict) else {}


def render(environment: str) -> dict[str, str]:
    """File name -> content of one environment's manifests."""
    values_file, release, namespace = ENVIRONMENTS[environment]
    chart = Chart.load(str(CHART))
    try:
        rendered = chart.render(values_of(values_file), name=release, namespace=namespace)
    finally:
        chart.close()
    header = HEADER.format(values=values_file, release=release, namespace=namespace)
    files: dict[str, str] = {}
    for template, text in sorted(rendered.items()):
        if not template.endswith(".yaml") or not text.strip():
            continue
        files[Path(template).name] = header + text.strip() + "\n"
    return files


def write(environment: str) -> list[Path]:
    target = MANIFESTS / environment
    target.mkdir(parents=True, exist_ok=True)
    files = render(environment)
    for stale in target.glob("*.yaml"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = target / name
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    for env in ENVIRONMENTS:
        for path in write(env):
            sys.stdout.write(f"{path.relative_to(ROOT.parent)}\n")
