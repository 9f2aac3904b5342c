"""Shared helpers of the parser tests (samples, one-shot parsing)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

from processor.parsers import Event, parser_for, scanning
from processor.parsers.base import ResumeState

SAMPLES = Path(__file__).parent / "samples"


def sample(log_type: str) -> bytes:
    return (SAMPLES / f"{log_type}.log").read_bytes()


def parse_all(
    log_type: str,
    data: bytes,
    base_offset: int = 0,
    chunk: int = 0,
    state: ResumeState | None = None,
) -> list[Event]:
    """Events of `data` fed in one piece (chunk=0) or in chunks of `chunk` bytes, then flushed."""
    parser = parser_for(log_type, base_offset, state=state)
    events: list[Event] = []
    if chunk <= 0:
        events += parser.feed(data)
    else:
        for i in range(0, len(data), chunk):
            events += parser.feed(data[i : i + chunk])
    events += parser.flush()
    return events


def as_records(events: list[Event]) -> list[dict[str, object]]:
    return [e.to_dict() for e in events]


def compiled_scanners() -> ModuleType:
    """The compiled scanner module; skips where they are switched off, fails where not built."""
    if scanning.SCANNERS is None:
        if os.environ.get(scanning.PURE_ENV, "") not in ("", "0"):
            pytest.skip(f"{scanning.PURE_ENV} is set: the compiled scanners are off")
        pytest.fail("the compiled scanners are not loaded (was the package built? make setup)")
    return scanning.SCANNERS


@contextmanager
def implementation(name: str) -> Iterator[None]:
    """Parsers created inside use the compiled scanners ("compiled") or `_line` alone
    ("python", what a process without the compiled module runs)."""
    saved = scanning.SCANNERS
    if name == "python":
        scanning.SCANNERS = None
    else:
        compiled_scanners()
    try:
        yield
    finally:
        scanning.SCANNERS = saved


def pt_query_digest_filter(log: Path, perl: str, *options: str) -> list[str]:
    """The lines a pt-query-digest `--filter` prints for each event of `log` (skips the test
    where pt-query-digest is not installed: `make tools`)."""
    tool = shutil.which("pt-query-digest")
    if tool is None:
        pytest.skip("pt-query-digest is not installed (`make tools`): the comparison is skipped")
    res = subprocess.run(
        [tool, *options, "--no-report", "--filter", perl, str(log)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return res.stdout.decode().splitlines()
