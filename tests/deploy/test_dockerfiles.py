"""The images, without a container engine: hadolint and the rules the issue sets, read from the
Dockerfiles; and the build stage's Python part (docker/build-venv.sh, which both Dockerfiles run)
run here for real, in a clean virtual environment, with the compiled scanners required."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import HADOLINT, ROOT

DOCKERFILES = {
    "discovery": ROOT / "Dockerfile.discovery",
    "processor": ROOT / "Dockerfile.processor",
}


def _stages(text: str) -> list[str]:
    return re.split(r"(?m)^FROM ", text)[1:]


def test_hadolint_passes_on_both_dockerfiles() -> None:
    done = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "info", *map(str, DOCKERFILES.values())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("service", DOCKERFILES)
def test_dockerfile_follows_the_rules(service: str) -> None:
    text = DOCKERFILES[service].read_text()
    build, final = _stages(text)
    # Base pinned by version (no floating tag), the same for both stages.
    assert re.search(r"(?m)^ARG PYTHON_VERSION=3\.11\.\d+$", text)
    assert build.startswith("python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS build")
    assert final.startswith("python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE}\n")
    # Compilers in the build stage only; the compiled scanners are required there.
    assert "gcc" in build and "gcc" not in final and "apt-get" not in final
    assert "docker/build-venv.sh" in build
    assert (ROOT / "docker" / "build-venv.sh").read_text().count("AURORA_REQUIRE_COMPILED=1") == 1
    # Non-root numeric user, exec-form entry point and health check, the metrics port.
    assert re.search(r"(?m)^USER 10001:10001$", final)
    assert re.search(rf'(?m)^ENTRYPOINT \["aurora-{service}"\]$', final)
    assert re.search(r'(?m)^CMD \["run"\]$', final)
    assert re.search(r'(?m)^\s+CMD \["python", "-c", ".*/healthz', final)
    assert "HEALTHCHECK" in final and "EXPOSE 9090" in final
    # Nothing written at run time: bytecode compiled at build, not at start.
    assert "PYTHONDONTWRITEBYTECODE=1" in final


def test_dockerignore_keeps_the_context_to_what_the_build_copies() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**"  # everything excluded, then the build's inputs let back in
    for text in (p.read_text() for p in DOCKERFILES.values()):
        for src in re.findall(r"(?m)^COPY (?!--from)(.+) \S+$", text):
            for path in src.split():
                assert f"!{path}" in lines or f"!{path.rstrip('/')}/" in lines, path


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the build stage makes, made here: the project copied as the build context (tracked
    files only, no compiled leftovers), then docker/build-venv.sh into a fresh venv."""
    context = tmp_path_factory.mktemp("context")
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for rel in tracked:
        if rel.split("/", 1)[0] in {
            "common",
            "discovery",
            "processor",
            "devstack",
            "docker",
        } or rel in {
            "pyproject.toml",
            "setup.py",
            "README.md",
        }:
            target = context / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((ROOT / rel).read_bytes())
    assert not list(context.rglob("*.so")) and not list(context.rglob("_scan.c"))
    venv = tmp_path_factory.mktemp("image") / "venv"
    env = {**os.environ, "PYTHON": sys.executable, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        ["sh", "docker/build-venv.sh", str(venv), "."],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return venv


@pytest.mark.parametrize(
    "command",
    [
        ["aurora-processor", "--help"],
        ["aurora-devstack", "--help"],
        ["aurora-discovery", "--help"],
        ["python", "-m", "common.kafka_topics", "--help"],
    ],
)
def test_entry_points_start_from_the_built_venv(image_venv: Path, command: list[str]) -> None:
    done = subprocess.run(
        [str(image_venv / "bin" / command[0]), *command[1:]],
        cwd=image_venv,  # not the source tree: only the installed wheel is importable
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_built_venv_has_the_compiled_scanners(image_venv: Path) -> None:
    done = subprocess.run(
        [
            str(image_venv / "bin" / "python"),
            "-c",
            "import processor.parsers.scanning as sc; m = sc.SCANNERS; "
            "print(m.__file__ if m else None); print(sc.COMPILED._value.get())",
        ],
        cwd=image_venv,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    so_path, compiled = done.stdout.split()
    assert so_path.startswith(str(image_venv)) and so_path.endswith(".so")
    assert float(compiled) == 1.0
