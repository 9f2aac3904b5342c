"""DescribeDBLogFiles (what a listing shows of each file, faults included) and the entry point of
DownloadDBLogFilePortion (whose pages are `portions.py`'s)."""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass

from devstack.rds.errors import invalid_parameter, log_file_not_found
from devstack.rds.fleet import Instance
from devstack.rds.lifecycle import log_access_error
from devstack.rds.portions import Portion, portion
from devstack.rds.protocol import Params
from devstack.rds.state import Emulator
from devstack.rds.store import InstanceLogs
from devstack.rds.streams import HOUR, LogFile

STAGING_ERROR_LOG = "error/mysql-error.log"


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
        if faults.hit_for("size_mismatch", f"{f.instance_id}/{f.name}"):
            types = faults.param("size_mismatch", "log_types") or []
            if not types or f.log_type in types:
                size = max(0, size + int(faults.param("size_mismatch", "delta")))
        if f.name == STAGING_ERROR_LOG:
            size = _staging_size(emu, f, now)
        out.append(View(f, name, size, gz))
    out.sort(key=lambda v: v.name)
    return out


def _staging_size(emu: Emulator, f: LogFile, now: float) -> int:
    """`error/mysql-error.log` holds what the server wrote since the last 5-minute flush, so a
    listing can show bytes that are gone into the running log by the time anyone downloads it
    (Aurora User Guide: error logs "might have 0 bytes when you download them")."""
    window = int(now // 300)
    if not emu.faults.hit_for("error_log_staging_size", f"{f.instance_id}:{window}"):
        return f.size
    return 120 + zlib.crc32(f"{f.instance_id}:{window}".encode()) % 4000


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


async def download_portion(emu: Emulator, p: Params) -> Portion:
    instance_id = p.required("DBInstanceIdentifier")
    name = p.required("LogFileName")
    marker = p.text("Marker")
    lines = p.integer("NumberOfLines", lo=1)
    async with emu.logs(instance_id) as (logs, now):
        check_ready(emu, logs.inst)
        view = find_view(emu, logs, name, now)
        return portion(emu, logs, view.file, marker, lines)
