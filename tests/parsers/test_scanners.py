"""The compiled line scanners: loaded where the package was built, events like any other, and a
failing scanner loses no line. (That their events are exactly `_line`'s is test_fast_paths.)"""

from __future__ import annotations

import gc
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from processor.parsers import Event, parser_for, scanning
from processor.parsers.audit import AuditLogParser
from processor.parsers.error import ErrorLogParser
from processor.parsers.general import GeneralLogParser
from processor.parsers.masking import TRIGGER_WORDS, mask_secrets
from tests.parsers.generate import WRITERS
from tests.parsers.helpers import (
    as_records,
    compiled_scanners,
    implementation,
    parse_all,
    sample,
)


def _metric(name: str, log_type: str | None = None) -> float:
    value = REGISTRY.get_sample_value(name, None if log_type is None else {"log_type": log_type})
    return value or 0.0


def test_the_compiled_scanners_are_in_use_where_the_package_was_built() -> None:
    # `make test` builds them: falling back to pure Python silently would halve the speed.
    compiled_scanners()
    assert _metric("aurora_parser_compiled_scanners") == 1
    parser = parser_for("audit")
    assert isinstance(parser, scanning.ScannedParser) and parser.scanned


def test_the_switch_turns_them_off_once_at_import_and_the_gauge_says_so() -> None:
    # Chosen at import, silently (a command line configures its logging later); the first
    # parser created says it, where logging goes (stdout in a bare process: structlog's default).
    code = (
        "import sys;"
        "from processor.parsers import scanning, parser_for;"
        "from prometheus_client import REGISTRY;"
        "print('imported', flush=True);"
        "p = parser_for('general');"
        "print(scanning.SCANNERS is None, REGISTRY.get_sample_value('aurora_parser_compiled_scanners'),"
        " p.scanned)"
    )
    env = {**os.environ, scanning.PURE_ENV: "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    lines = out.stdout.splitlines()
    assert lines[0] == "imported"  # nothing logged at import
    assert lines[-1].split() == ["True", "0.0", "False"]
    assert "parser_scanners_disabled" in out.stdout  # and the first parser says why


@pytest.mark.parametrize("log_type", ["error", "general", "audit"])
def test_scanned_events_are_events_and_stay_out_of_the_cyclic_gc(log_type: str) -> None:
    compiled_scanners()
    buf = io.BytesIO()
    WRITERS[log_type](buf, 20_000, seed=3)
    events = parse_all(log_type, buf.getvalue())
    with implementation("python"):
        expected = parse_all(log_type, buf.getvalue())
    assert events == expected
    assert all(type(e) is Event for e in events)
    untracked = [e for e in events if not gc.is_tracked(e)]
    # Built by the scanners (untracked: they cannot be in a cycle), except the odd ones.
    assert len(untracked) > 0.8 * len(events)
    e = untracked[0]
    assert isinstance(e.event_time, datetime) and e.parse_error is False
    assert e.to_dict()["offset"] == e.start


def test_events_are_built_by_calling_the_class_when_it_cannot_be_bound() -> None:
    compiled = compiled_scanners()

    @dataclass
    class NotSlotted:
        start: int
        end: int
        fields: dict[str, Any]
        event_time: datetime | None
        parse_error: bool = False

    assert compiled.bind_event(NotSlotted) is False
    text = "1703817810074458,h,u,h,1,2,QUERY,db,'SELECT 1',0\n"
    out: list[Any] = []
    assert compiled.scan_audit(text, 0, 100, out, NotSlotted, mask_secrets) == len(text)
    assert type(out[0]) is NotSlotted
    assert (out[0].start, out[0].end, out[0].fields["object"]) == (100, 100 + len(text), "SELECT 1")


# Lines the scanners pass to `mask`: each followed by an entry, so the scanner emits it.
SECRETS = {
    "audit": b"1703817810074458,h,u,h,1,2,QUERY,db,'SET PASSWORD = \\'pw\\'',0\n",
    "general": b"2024-01-03T07:15:38.660108Z\t12 Query\tSET PASSWORD = 'pw'\n"
    b"2024-01-03T07:15:38.660109Z\t12 Query\tSELECT 1\n",
    "error": b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [Server] IDENTIFIED BY 'pw'\n"
    b"2023-11-28T09:13:22.104679Z 0 [Note] [MY-1] [Server] next\n",
}


@pytest.mark.parametrize("log_type", ["error", "general", "audit"])
def test_a_failing_scanner_loses_no_line(log_type: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled_scanners()
    raw = sample(log_type) + SECRETS[log_type] * 3

    def failing_mask(text: str) -> str:
        raise RuntimeError("mask failed")

    # The mask the scanners are given, not the one `_line` uses.
    monkeypatch.setattr(scanning, "mask_secrets", failing_mask)
    parser = parser_for(log_type)
    before = _metric("aurora_parser_scanner_errors_total", log_type)
    events = parser.feed(raw) + parser.flush()
    assert _metric("aurora_parser_scanner_errors_total", log_type) > before
    with implementation("python"):
        expected = parse_all(log_type, raw)
    assert as_records(events) == as_records(expected)
    assert parser.stats.internal_errors == 0


def test_masking_happens_in_scanned_audit_records() -> None:
    compiled_scanners()
    raw = b"1703817810074458,h,u,h,1,2,QUERY,db,'ALTER USER x IDENTIFIED BY \\'s3cr3t\\'',0\n"
    (event,) = AuditLogParser().feed(raw)
    assert not gc.is_tracked(event)  # it came from the scanner
    assert event.fields["object"] == "ALTER USER x IDENTIFIED BY '***'"


def test_two_implementations_only_and_the_scanner_loop_state_is_private() -> None:
    for cls in (ErrorLogParser, GeneralLogParser, AuditLogParser):
        assert issubclass(cls, scanning.ScannedParser)
        assert "_lines" not in vars(cls), "the scanner loop is ScannedParser's"
        assert not hasattr(cls, "_lines_python")
    with implementation("python"):
        pure = parser_for("general")
    # Without the compiled module, `_lines` is the base class's: `_line` alone.
    assert not pure.scanned  # type: ignore[attr-defined]
    compiled_scanners()
    parser = parser_for("general")
    assert parser.scanned  # type: ignore[attr-defined]
    state = [k for k in vars(parser) if "scan" in k.lower() or "entry_at" in k]
    assert state and all(k.startswith("_ScannedParser__") for k in state), state


@pytest.mark.parametrize("word", TRIGGER_WORDS)
def test_every_trigger_word_sends_the_line_through_mask(word: str) -> None:
    # The compiled check finds each word in any case, anywhere in its 8-byte words (the pads
    # move it across the boundaries), and not a word missing a character.
    compiled = compiled_scanners()
    seen: list[str] = []

    def spy(text: str) -> str:
        seen.append(text)
        return text

    for pad in range(9):
        for variant in (word, word.upper(), word.title()):
            obj = f"{'x' * pad}{variant} y"
            line = f"1703817810074458,h,u,h,1,2,QUERY,db,'{obj}',0\n"
            seen.clear()
            assert compiled.scan_audit(line, 0, 0, [], Event, spy) == len(line)
            assert seen == [obj], (pad, variant)
        for miss in (word[1:], word[:-1]):
            line = f"1703817810074458,h,u,h,1,2,QUERY,db,'{'x' * pad}{miss}',0\n"
            seen.clear()
            compiled.scan_audit(line, 0, 0, [], Event, spy)
            assert seen == [], (pad, miss)
