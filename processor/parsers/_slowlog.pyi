"""Types of the slow log's compiled code (`_slowlog.pyx`); see slow_compiled.py."""

from collections.abc import Callable
from types import ModuleType
from typing import Any

from processor.parsers.event import Event

def bind_event(cls: type[Event]) -> bool: ...
def configure(spec: ModuleType) -> None: ...
def fingerprint_latin1(query: str) -> str: ...
def fingerprint_pair(query: str) -> tuple[str, str]: ...
def md5_upper(text: str) -> str: ...
def scan_slow(
    text: str,
    pos: int,
    start: int,
    out: list[Event],
    parser: Any,
    table: dict[str, tuple[str, Callable[[str], Any]]],
    max_statement: int,
    event: Callable[..., Event],
    mask: Callable[[str], str],
) -> int: ...
