"""DescribeDBLogFiles and DownloadDBLogFilePortion, with their documented quirks and fault modes."""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from devstack.rds.errors import (
    BINARY_DATA_MESSAGE,
    invalid_parameter,
    log_file_not_found,
)
from devstack.rds.faults import Faults
from devstack.rds.fleet import Instance
from devstack.rds.lifecycle import log_access_error
from devstack.rds.protocol import Params
from devstack.rds.state import Emulator
from devstack.rds.store import InstanceLogs
from devstack.rds.streams import HOUR, LogFile

PAGE_CAP = 1024 * 1024
TRUNCATED = b"\n [Your log message was truncated]\n"
DEFAULT_LINES = 10000
_MARKER = re.compile(r"^(?P<seg>[0-9A-Za-z._-]+):(?P<off>[0-9]{1,15})$")


@dataclass(frozen=True)
class View:
    """A file as DescribeDBLogFiles shows it now: its listed name and (maybe faulty) Size."""

    file: LogFile
    name: str
    size: int
    gz: bool = False


def views(emu: Emulator, logs: InstanceLogs, now: float) -> list[View]:
    faults = emu.faults
    out = []
    for f in logs.listed(now):
        name, size, gz = f.listed_name, f.size, False
        if (
            faults.on("not_found_during_rotation")
            and f.alias is not None
            and f.is_open
            and now % HOUR < float(faults.param("not_found_during_rotation", "window_sec"))
        ):
            continue
        if (
            faults.on("gzip_old_postgres")
            and f.log_type == "postgresql"
            and f.closed_at is not None
            and now - f.closed_at >= float(faults.param("gzip_old_postgres", "min_age_sec"))
        ):
            emu.gzip_copy(f)
            assert f.gz_size is not None
            name, size, gz = name + ".gz", f.gz_size, True
        if faults.on("size_mismatch"):
            types = faults.param("size_mismatch", "log_types") or []
            if not types or f.log_type in types:
                size = max(0, size + int(faults.param("size_mismatch", "delta")))
        out.append(View(f, name, size, gz))
    out.sort(key=lambda v: v.name)
    return out


def find_view(emu: Emulator, logs: InstanceLogs, name: str, now: float) -> View:
    for v in views(emu, logs, now):
        if v.name == name:
            return v
    raise log_file_not_found(name)


def check_ready(emu: Emulator, inst: Instance) -> None:
    """Stopped, starting, stopping or paused: the log APIs answer an error (lifecycle.py)."""
    err = log_access_error(emu, inst)
    if err is not None:
        raise err


def _encode_marker(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _decode_marker(marker: str) -> str:
    try:
        return base64.b64decode(marker.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_parameter(f"Invalid marker: {marker}") from None


async def describe_log_files(emu: Emulator, p: Params) -> dict[str, object]:
    instance_id = p.required("DBInstanceIdentifier")
    contains = p.text("FilenameContains")
    since = p.integer("FileLastWritten", lo=0)
    larger = p.integer("FileSize", lo=0)
    limit = p.integer("MaxRecords", lo=1) or emu.config.log_files_page
    limit = min(limit, emu.config.log_files_page)
    marker = p.text("Marker")
    after = _decode_marker(marker) if marker else ""
    async with emu.logs(instance_id) as (logs, now):
        check_ready(emu, logs.inst)
        listed = views(emu, logs, now)
    chosen = [
        v
        for v in listed
        if (not contains or contains in v.name)
        and (since is None or v.file.last_written_ms >= since)
        and (larger is None or v.size > larger)
        and v.name > after
    ]
    page = chosen[:limit]
    result: dict[str, object] = {
        "DescribeDBLogFiles": [
            {"LogFileName": v.name, "LastWritten": v.file.last_written_ms, "Size": v.size}
            for v in page
        ]
    }
    if len(chosen) > limit:
        result["Marker"] = _encode_marker(page[-1].name)
    return result


@dataclass(frozen=True)
class Portion:
    data: bytes | None  # None: LogFileData left out of the response
    marker: str
    pending: bool


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


def _tail(f: LogFile, lines: int) -> Portion:
    size = f.size
    start = max(0, size - PAGE_CAP)
    window = _read(f, start, size - start)
    body = window[:-1] if window.endswith(b"\n") else window
    parts = body.rsplit(b"\n", lines)
    if len(parts) > lines or start > 0:
        window = window[len(parts[0]) + 1 :]
    return Portion(window if size else None, f"{f.segment}:{size}", False)


def _binary(faults: Faults, instance_id: str, f: LogFile, offset: int) -> bool:
    if not faults.on("binary_data"):
        return False
    inst = faults.param("binary_data", "instance")
    contains = faults.param("binary_data", "file_contains")
    lo = int(faults.param("binary_data", "offset_start") or 0)
    hi = faults.param("binary_data", "offset_end")
    return (
        (not inst or inst == instance_id)
        and (not contains or contains in f.listed_name)
        and offset >= lo
        and (hi is None or offset < int(hi))
    )


def portion(
    emu: Emulator, view: View, marker: str | None, lines: int | None, now: float
) -> Portion:
    f = view.file
    faults = emu.faults
    n = DEFAULT_LINES if lines is None else lines
    if marker is None:
        return _tail(f, n)
    if marker == "0":
        offset = 0
    else:
        m = _MARKER.match(marker)
        if m is None:
            raise invalid_parameter(f"Invalid marker: {marker}")
        offset = int(m.group("off"))
        if f.alias is not None and m.group("seg") != f.segment:
            # The active name has rotated under the marker: the old marker comes back with no data.
            return Portion(b"", marker, False)
    if _binary(faults, f.instance_id, f, offset):
        raise invalid_parameter(BINARY_DATA_MESSAGE)
    size = f.size
    if offset >= size:
        return Portion(
            b"" if size else None, marker if offset > size else f"{f.segment}:{size}", False
        )
    want = min(PAGE_CAP, size - offset)
    # Small pages are the common call: look at a guess of their size before the whole 1 MiB.
    probe = min(want, max(1 << 16, n * 256))
    window = _read(f, offset, probe)
    if probe < want and window.count(b"\n") < n:
        window = _read(f, offset, want)
    truncated = False
    if window.count(b"\n") >= n:
        rest = window.split(b"\n", n)[-1]
        data = window[: len(window) - len(rest)]
    elif len(window) == PAGE_CAP and offset + PAGE_CAP < size:
        # N lines would pass the 1 MB cap: cut mid-line, as RDS does, and say so.
        truncated = True
        data = window[: _char_boundary(window, PAGE_CAP)]
    else:
        data = window
    nxt = offset + len(data)
    pending = nxt < size
    if truncated and faults.on("pending_false_after_truncation"):
        pending = False
    if pending and faults.on("overlap"):
        overlap = int(faults.param("overlap", "bytes"))
        if len(data) > overlap:
            nxt -= overlap
    out_marker = f"{f.segment}:{nxt}"
    zero_window = float(faults.param("zero_marker_top_of_hour", "window_sec"))
    if faults.on("zero_marker_top_of_hour") and f.is_open and now % HOUR < zero_window:
        out_marker = "0"
    return Portion(data + TRUNCATED if truncated else data, out_marker, pending)


async def download_portion(emu: Emulator, p: Params) -> Portion:
    instance_id = p.required("DBInstanceIdentifier")
    name = p.required("LogFileName")
    marker = p.text("Marker")
    lines = p.integer("NumberOfLines", lo=1)
    async with emu.logs(instance_id) as (logs, now):
        check_ready(emu, logs.inst)
        view = find_view(emu, logs, name, now)
        return portion(emu, view, marker, lines, now)
