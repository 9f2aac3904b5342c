"""Types of the slow log's compiled code (`_slowlog.pyx`); see processor/parsers/slow_compiled.py."""

from collections.abc import Callable
from types import ModuleType
from typing import Any

from processor.parsers.event import Event

def fingerprint_latin1(query: str, spec: ModuleType) -> str: ...
def scan_slow(
    text: str,
    pos: int,
    start: int,
    out: list[Event],
    parser: Any,
    table: dict[str, tuple[str, Callable[[str], Any]]],
    max_statement: int,
    event: Callable[..., Event],
    pair: Callable[[str], tuple[str, str]],
    mask: Callable[[str], str],
) -> int: ...
