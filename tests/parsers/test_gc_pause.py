"""`feed` and `flush` pause the cyclic GC while they parse, and always leave it as they found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from processor.parsers import LOG_TYPES, PARSERS, Event, LogParser, parser_for
from processor.parsers.gc_pause import gc_paused
from tests.parsers.helpers import sample


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    """A failing test must not leave the collector of the test session disabled."""
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


class _Spy:
    """Records whether the GC was enabled each time a parser hook ran."""

    def __init__(self) -> None:
        self.states: list[bool] = []


def _spying(log_type: str, spy: _Spy, fail: bool) -> LogParser:
    """The parser of `log_type`, noting the GC state in `_line`, which raises when `fail`."""
    base: type[LogParser] = PARSERS[log_type]

    class Spying(base):  # type: ignore[misc, valid-type]
        # The per-line loop, so that every line reaches `_line`.
        _lines = LogParser._lines

        def _line(self, line: str, start: int, end: int, truncated: bool, out: list[Event]) -> None:
            spy.states.append(gc.isenabled())
            if fail:
                raise RuntimeError("parser bug")
            super()._line(line, start, end, truncated, out)

    parser: LogParser = Spying()
    return parser


@pytest.mark.parametrize("log_type", LOG_TYPES)
@pytest.mark.parametrize("fail", [False, True])
def test_gc_paused_while_parsing_and_enabled_after(log_type: str, fail: bool) -> None:
    gc.enable()
    spy = _Spy()
    parser = _spying(log_type, spy, fail)
    data = sample(log_type)
    events = parser.feed(data[:-1])
    assert gc.isenabled()
    events += parser.flush()  # the last byte: a line without its newline
    assert gc.isenabled()
    assert spy.states and not any(spy.states)
    assert events
    if fail:
        # Every line became a raw event (internal error), none lost, and the GC is back on.
        assert all(e.parse_error for e in events)
        assert parser.stats.internal_errors > 0


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_gc_left_disabled_when_the_caller_disabled_it(log_type: str) -> None:
    gc.disable()
    spy = _Spy()
    parser = _spying(log_type, spy, False)
    parser.feed(sample(log_type))
    parser.flush()
    assert not gc.isenabled()
    assert spy.states and not any(spy.states)


class _Exploding(PARSERS["audit"]):  # type: ignore[misc, valid-type]
    """A parser whose whole-buffer pass raises out of `feed` (a bug outside the per-line guard)."""

    def _lines(self, text: str, start: int, out: list[Event]) -> None:
        raise RuntimeError("bug in _lines")

    def _finish(self, out: list[Event]) -> None:
        raise RuntimeError("bug in _finish")


def test_gc_enabled_again_when_feed_and_flush_raise() -> None:
    gc.enable()
    parser = _Exploding()
    with pytest.raises(RuntimeError, match="bug in _lines"):
        parser.feed(b"1704265200008371,i,app,h,1,2,QUERY,db,'SELECT 1',0\n")
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="bug in _finish"):
        parser.flush()
    assert gc.isenabled()


def test_events_unchanged_by_the_pause() -> None:
    """The same events whether the collector was enabled or not when the parser ran."""
    for log_type in LOG_TYPES:
        data = sample(log_type)
        gc.enable()
        with_gc = [e.to_dict() for e in parser_for(log_type).feed(data)]
        gc.disable()
        without_gc = [e.to_dict() for e in parser_for(log_type).feed(data)]
        gc.enable()
        assert with_gc == without_gc


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("raises", [False, True])
def test_gc_paused_restores_the_state_it_found(enabled: bool, raises: bool) -> None:
    if enabled:
        gc.enable()
    else:
        gc.disable()
    inside: list[bool] = []
    try:
        with gc_paused():
            inside.append(gc.isenabled())
            if raises:
                raise ValueError("in the block")
    except ValueError:
        assert raises
    assert inside == [False]
    assert gc.isenabled() is enabled
