"""The plain manifests for `kubectl apply` users: what `make manifests` renders from the chart,
committed, and valid for the API server (kubernetes-validate --strict, offline schemas)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.deploy.conftest import KUBE_VERSION, MANIFESTS


def test_manifests_match_the_chart(rendered: dict[str, dict[str, str]]) -> None:
    for env, files in rendered.items():
        target = MANIFESTS / env
        committed = {p.name: p.read_text() for p in sorted(target.glob("*.yaml"))}
        assert set(committed) == set(files), f"{env}: run `make manifests`"
        for name, text in files.items():
            assert committed[name] == text, (
                f"k8s/manifests/{env}/{name} drifted: run `make manifests`"
            )


def test_manifests_pass_kubernetes_validate_strict() -> None:
    files = sorted(str(p) for p in MANIFESTS.glob("*/*.yaml"))
    assert len(files) >= 20
    cli = Path(sys.executable).parent / "kubernetes-validate"
    done = subprocess.run(
        [str(cli), "-k", KUBE_VERSION, "--strict", "--quiet", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Only the custom resources (KEDA, Prometheus Operator) lack a schema; nothing else is skipped.
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith("WARN"):
            assert "Couldn't find schema for kind" in line and any(
                k in line for k in ("ScaledObject", "ServiceMonitor", "PrometheusRule")
            ), line


def test_a_drifted_manifest_is_caught(rendered: dict[str, dict[str, str]]) -> None:
    # The comparison above is exact: one changed character is a drift.
    name, text = next(iter(rendered["production"].items()))
    assert (MANIFESTS / "production" / name).read_text() == text
    assert text.replace("aurora", "aurorA", 1) != text
