"""checkov, offline, over terraform/, the rendered manifests (both environments' values) and the
Dockerfiles: no failed check. The only skips are the ones .checkov.yaml lists, each with its
reason. checkov lives in .venv-tools (it pins an old boto3); `make test` installs it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import CHECKOV, MANIFESTS, ROOT, TERRAFORM


def _skips() -> dict[str, str]:
    """check id -> reason, from .checkov.yaml's comments."""
    skips = {}
    for line in (ROOT / ".checkov.yaml").read_text().splitlines():
        m = re.match(r"\s+- (CKV2?_[A-Z0-9]+_\d+)\s*(?:#\s*(.*))?$", line)
        if m:
            skips[m.group(1)] = (m.group(2) or "").strip()
    return skips


def test_every_skip_is_documented() -> None:
    skips = _skips()
    assert skips
    for check, reason in skips.items():
        assert len(reason) > 20, f"{check} is skipped without a reason"


@pytest.fixture(scope="module")
def checkov_results(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    if not CHECKOV.exists():
        pytest.skip("checkov is not installed: `make deploy-tools` puts it in .venv-tools")
    # One run over a copy holding exactly what is scanned (checkov mixes up several -d/-f).
    scan = tmp_path_factory.mktemp("checkov")
    shutil.copytree(TERRAFORM, scan / "terraform")
    shutil.copytree(MANIFESTS, scan / "manifests")
    for dockerfile in ROOT.glob("Dockerfile.*"):
        shutil.copy(dockerfile, scan / dockerfile.name)
    done = subprocess.run(
        [
            str(CHECKOV),
            "--config-file",
            str(ROOT / ".checkov.yaml"),
            "--directory",
            str(scan),
            "--framework",
            "terraform",
            "kubernetes",
            "dockerfile",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": str(Path(CHECKOV).parent) + ":/usr/bin:/bin", "BC_SKIP_MAPPING": "TRUE"},
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    results = json.loads(done.stdout)
    return results if isinstance(results, list) else [results]


def test_checkov_finds_no_failed_check(checkov_results: list[dict[str, Any]]) -> None:
    by_type = {r["check_type"]: r for r in checkov_results}
    assert set(by_type) == {"terraform", "kubernetes", "dockerfile"}
    for check_type, result in by_type.items():
        failed = [
            f"{c['check_id']} {c['resource']} ({c['file_path']})"
            for c in result["results"]["failed_checks"]
        ]
        assert failed == [], check_type
        assert result["summary"]["parsing_errors"] == 0, check_type
        assert result["summary"]["passed"] > 100, check_type
