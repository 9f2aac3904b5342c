"""The chaos suite's private world: its own stack under the test's temporary directory."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.world import ChaosWorld

SEED = int(os.environ.get("CHAOS_SEED") or random.randrange(1 << 30))
SOAK = os.environ.get("CHAOS_SOAK", "").lower() in ("1", "true", "yes")


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> Iterator[ChaosWorld]:
    # A directory of its own under /tmp, kept when the test fails (pytest's own base
    # directories are pruned by later runs, and the logs are the evidence).
    root = Path(tempfile.mkdtemp(prefix=f"aurora-chaos-{SEED}-"))
    print(f"\nCHAOS_SEED={SEED} (replay: CHAOS_SEED={SEED} make test); logs in {root}/logs")
    world = ChaosWorld(root, SEED, instances=10 if SOAK else 5)
    try:
        world.up()
        world.start_services(processors=3 if SOAK else 2)
        yield world
    finally:
        world.down()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        shutil.rmtree(root, ignore_errors=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
