"""The emulator's logs and our parsers agree: every generated file parses without a parse error.

Both were written from the same reference by different hands; this is where a format drift
between them (a new line shape in the generator, a rule the parser misses) shows up.
"""

from __future__ import annotations

import pytest

from common.log_types import LOG_TYPES
from processor.parsers import parser_for
from tests.rds_emulator.conftest import Busy, RdsServer

LEVELS = {"System", "Error", "Warning", "Note"}


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_every_generated_file_parses_cleanly(rds: RdsServer, busy: Busy, log_type: str) -> None:
    instance = busy.pg if log_type == "postgresql" else busy.mysql
    files = [f for f in rds.truth_files(instance) if f["log_type"] == log_type and f["size"] > 0]
    assert files, f"the emulator generated no {log_type} file for {instance}"
    events = 0
    for f in files:
        data = rds.truth(instance, f["name"])
        parser = parser_for(log_type)
        parsed = []
        for at in range(0, len(data), 65536):
            parsed += parser.feed(data[at : at + 65536])
        parsed += parser.flush()
        bad = [e.fields for e in parsed if e.parse_error]
        assert not bad, f"{f['name']}: {len(bad)} parse errors, first {bad[:2]}"
        assert parser.committed_offset == len(data)
        if log_type == "error":
            levels = {e.fields.get("level") for e in parsed if e.fields.get("level")}
            assert levels <= LEVELS, levels
        events += len(parsed)
    assert events > 0
