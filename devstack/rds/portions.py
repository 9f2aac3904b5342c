"""DownloadDBLogFilePortion: pages of a file by marker, tail mode, the 1 MiB cap, the end of a
segment on a reused live name, and the per-answer quirks of `faults.py` (see README.md)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from devstack.rds.errors import BINARY_DATA_MESSAGE, invalid_parameter
from devstack.rds.faults import Faults
from devstack.rds.state import Emulator
from devstack.rds.store import InstanceLogs
from devstack.rds.streams import LogFile

PAGE_CAP = 1024 * 1024
TRUNCATED = b"\n [Your log message was truncated]\n"
DEFAULT_LINES = 10000
_MARKER = re.compile(r"^(?P<seg>[0-9A-Za-z._-]+):(?P<off>[0-9]{1,15})$")


@dataclass(frozen=True)
class Portion:
    data: bytes | None  # None: LogFileData left out of the response
    marker: str
    pending: bool | None  # None: AdditionalDataPending left out of the response


@dataclass(frozen=True)
class _Page:
    """What a file holds from `offset` for N lines, before any quirk is applied."""

    data: bytes
    end: int  # offset after `data`
    size: int
    truncated: bool


def _read(f: LogFile, offset: int, length: int) -> bytes:
    if length <= 0:
        return b""
    fd = os.open(f.path, os.O_RDONLY)
    try:
        return os.pread(fd, length, offset)
    finally:
        os.close(fd)


def _char_boundary(data: bytes, cut: int) -> int:
    """Back off so that a cut never splits a UTF-8 character."""
    while cut > 0 and cut < len(data) and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut


def _page(f: LogFile, offset: int, lines: int) -> _Page:
    size = f.size
    want = min(PAGE_CAP, size - offset)
    # Small pages are the common call: look at a guess of their size before the whole 1 MiB.
    probe = min(want, max(1 << 16, lines * 256))
    window = _read(f, offset, probe)
    if probe < want and window.count(b"\n") < lines:
        window = _read(f, offset, want)
    truncated = False
    if window.count(b"\n") >= lines:
        rest = window.split(b"\n", lines)[-1]
        data = window[: len(window) - len(rest)]
    elif len(window) == PAGE_CAP and offset + PAGE_CAP < size:
        # N lines would pass the 1 MB cap: cut mid-line, as RDS does, and say so.
        truncated = True
        data = window[: _char_boundary(window, PAGE_CAP)]
    else:
        data = window
    return _Page(data, offset + len(data), size, truncated)


def _last_lines_start(f: LogFile, lines: int) -> int:
    """The offset where the file's last `lines` lines begin (a final newline ends a line)."""
    size = f.size
    end = size - 1 if _read(f, size - 1, 1) == b"\n" else size
    pos, need = end, lines
    while pos > 0:
        lo = max(0, pos - PAGE_CAP)
        chunk = _read(f, lo, pos - lo)
        idx = len(chunk)
        while need:
            idx = chunk.rfind(b"\n", 0, idx)
            if idx < 0:
                break
            need -= 1
            if not need:
                return lo + idx + 1
        pos = lo
    return 0


def _tail(emu: Emulator, f: LogFile, lines: int) -> Portion:
    """No Marker: the last N lines. Over 1 MB they need more calls: the first whole lines that
    fit come back with AdditionalDataPending=true and the marker after them
    (docs/reference/rds-api.md §1)."""
    size = f.size
    if not size:
        return Portion(None, f"{f.segment}:0", _pending(emu, False))
    start = _last_lines_start(f, lines)
    if size - start <= PAGE_CAP:
        return Portion(_read(f, start, size - start), f"{f.segment}:{size}", _pending(emu, False))
    window = _read(f, start, PAGE_CAP)
    cut = window.rfind(b"\n") + 1
    data = window[:cut] if cut else window[: _char_boundary(window, PAGE_CAP)]
    return Portion(data, f"{f.segment}:{start + len(data)}", _pending(emu, True))


def _pending(emu: Emulator, pending: bool) -> bool | None:
    return None if emu.faults.hit("pending_omitted", emu.fault_rng) else pending


def _quirky(emu: Emulator, f: LogFile, page: _Page) -> Portion:
    """The page as RDS answers it, with the faults that are switched on."""
    faults, rng = emu.faults, emu.fault_rng
    data, nxt = page.data, page.end
    pending = nxt < page.size
    if page.truncated:
        data += TRUNCATED
        if faults.hit("truncation_marker_off_by_one", rng):
            nxt += 1  # aws-cli #3079: `15:1048577` after a cut at 1 MiB
        if faults.on("pending_false_after_truncation"):
            pending = False
    if pending and faults.hit("empty_page", rng):
        return Portion(b"", f"{f.segment}:{nxt}", _pending(emu, True))
    if pending and faults.hit("overlap", rng):
        overlap = int(faults.param("overlap", "bytes"))
        if len(page.data) > overlap:
            nxt -= overlap
    if pending and faults.hit("pending_false_early", rng):
        pending = False
    return Portion(data, f"{f.segment}:{nxt}", _pending(emu, pending))


def _binary(faults: Faults, f: LogFile, offset: int) -> bool:
    if not faults.on("binary_data"):
        return False
    inst = faults.param("binary_data", "instance")
    contains = faults.param("binary_data", "file_contains")
    lo = int(faults.param("binary_data", "offset_start") or 0)
    hi = faults.param("binary_data", "offset_end")
    return (
        (not inst or inst == f.instance_id)
        and (not contains or contains in f.listed_name)
        and offset >= lo
        and (hi is None or offset < int(hi))
    )


def _previous_segment(
    emu: Emulator, logs: InstanceLogs, live: LogFile, marker: str, segment: str, offset: int, n: int
) -> Portion:
    """A marker of an older generation of a reused live name (the hour has turned under it).

    By default, as public tailers of Aurora report (honeycombio/rdslogs `getNextMarker`): the
    rest of the old segment, then Marker "0" on the page that reaches its end (pending if the
    new segment already has bytes). With `echo_marker_after_rotation`: the old marker comes back
    with no data and AdditionalDataPending=false.
    """
    old = logs.generation(live.listed_name, segment)
    if old is None or emu.faults.on("echo_marker_after_rotation") or offset > old.size:
        return Portion(b"", marker, _pending(emu, False))
    page = _page(old, offset, n) if offset < old.size else _Page(b"", offset, old.size, False)
    if page.end < old.size:
        return _quirky(emu, old, page)
    return Portion(page.data, "0", _pending(emu, live.size > 0))


def portion(
    emu: Emulator, logs: InstanceLogs, f: LogFile, marker: str | None, lines: int | None
) -> Portion:
    n = DEFAULT_LINES if lines is None else lines
    if marker is None:
        return _tail(emu, f, n)
    if marker == "0":
        offset = 0
    else:
        m = _MARKER.match(marker)
        if m is None:
            raise invalid_parameter(f"Invalid marker: {marker}")
        offset = int(m.group("off"))
        if f.alias is not None and m.group("seg") != f.segment:
            return _previous_segment(emu, logs, f, marker, m.group("seg"), offset, n)
    if _binary(emu.faults, f, offset):
        raise invalid_parameter(BINARY_DATA_MESSAGE)
    size = f.size
    if offset >= size:
        out = marker if offset > size else f"{f.segment}:{size}"
        return Portion(b"" if size else None, out, _pending(emu, False))
    return _quirky(emu, f, _page(f, offset, n))
