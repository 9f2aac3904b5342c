"""Switching the PostgreSQL parser between its compiled and pure-Python implementations."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest

from processor.parsers import postgresql, scanning

# The module itself: the package re-exports a function of the same name.
FP: ModuleType = sys.modules["processor.parsers.fingerprint_pg"]


def require_compiled() -> None:
    """Skips where the compiled modules are switched off, fails where they were not built."""
    if FP.PG_MODULE is None:
        if os.environ.get(scanning.PURE_ENV, "") not in ("", "0"):
            pytest.skip(f"{scanning.PURE_ENV} is set: the compiled parser is off")
        pytest.fail("processor.parsers._pg is not built (make setup)")


@contextmanager
def implementation(name: str) -> Iterator[None]:
    """Parsers created and statements normalised inside use `name` ("compiled" or "python")."""
    saved = postgresql.COMPILED_LINES, FP.COMPILED, FP.COMPILED_CLASS
    if name == "python":
        postgresql.COMPILED_LINES = None
        FP.COMPILED = None
        FP.COMPILED_CLASS = None
    else:
        require_compiled()
    FP._cached.cache_clear()  # results remembered by the other implementation
    try:
        yield
    finally:
        postgresql.COMPILED_LINES, FP.COMPILED, FP.COMPILED_CLASS = saved
        FP._cached.cache_clear()
