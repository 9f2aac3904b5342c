"""The Jenkinsfile: npm-groovy-lint (CodeNarc's Jenkinsfile rules) where node and Java exist, and
the stages the release process needs."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess

import pytest

from tests.deploy.conftest import GROOVY_LINT, ROOT

JENKINSFILE = ROOT / "Jenkinsfile"


def test_npm_groovy_lint_finds_nothing() -> None:
    if not (shutil.which("node") and shutil.which("java")):
        pytest.skip("npm-groovy-lint needs node and Java, which this machine lacks")
    if not GROOVY_LINT.exists():
        pytest.skip("npm-groovy-lint is not installed: `make deploy-tools` installs it")
    # Warnings fail; infos (the duplicate literals of declarative `when { branch 'main' }`) do not.
    # CodeNarc takes ~15 CPU seconds: a clean result is remembered per content and tool version.
    digest = hashlib.sha256(
        JENKINSFILE.read_bytes()
        + (ROOT / ".groovylintrc.json").read_bytes()
        + (GROOVY_LINT.resolve().parent.parent / "package.json").read_bytes()
    ).hexdigest()
    passed = ROOT / ".tools" / "groovy-lint-passed" / digest
    if passed.exists():
        return
    done = subprocess.run(
        [
            str(GROOVY_LINT),
            "--noserver",
            "--failon",
            "warning",
            "--output",
            "txt",
            str(JENKINSFILE),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed.parent.mkdir(parents=True, exist_ok=True)
    passed.touch()


def test_pipeline_has_the_release_stages_in_order() -> None:
    text = JENKINSFILE.read_text()
    stages = re.findall(r"stage\('([^']+)'\)", text)
    assert stages == [
        "Lint and test",
        "Build images",
        "Scan images",
        "Push to ECR",
        "Deploy POC",
        "Approve production",
        "Deploy production",
    ]
    assert "sh 'make test'" in text
    assert "--platform ${env.PLATFORMS}" in text and "linux/arm64,linux/amd64" in text
    approve = text.index("stage('Approve production')")
    assert "input message:" in text[approve : text.index("stage('Deploy production')")]
    assert "values-production.yaml" in text and "values-poc.yaml" in text
