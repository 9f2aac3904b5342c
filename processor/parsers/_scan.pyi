"""Types of the compiled scanners (`_scan.pyx`); see processor/parsers/scanning.py."""

from collections.abc import Callable
from typing import Any

from processor.parsers.event import Event

EventType = Callable[..., Event]
Mask = Callable[[str], str]

def bind_event(cls: type[Event]) -> bool: ...
def scan_audit(
    text: str, pos: int, start: int, out: list[Event], event: EventType, mask: Mask
) -> int: ...
def general_entry_at(text: str, pos: int) -> bool: ...
def scan_general(
    text: str,
    pos: int,
    start: int,
    out: list[Event],
    event: EventType,
    connect: Callable[[dict[str, Any], str], None],
    mask: Mask,
    max_bytes: int,
) -> int: ...
def error_entry_at(text: str, pos: int) -> bool: ...
def scan_error(
    text: str,
    pos: int,
    start: int,
    out: list[Event],
    event: EventType,
    levels: dict[str, str],
    mask: Mask,
    max_bytes: int,
) -> int: ...
