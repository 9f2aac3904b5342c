"""Aurora MySQL advanced audit log (CSV), and the MariaDB audit plugin format of RDS MySQL.

Aurora: `timestamp(µs since epoch),serverhost,username,host,connectionid,queryid,operation,
database,object,retcode`, e.g. `1703817810074458,inst-1,rdsadmin,localhost,223153,20070830,QUERY,,
'SELECT @@aurora_version',0`. The object is quoted with `'` when it is a query (it may hold commas
and backslash-escaped quotes; newlines were turned into spaces by the server); TABLE events have an
unquoted object and an empty retcode. RDS MySQL (MariaDB plugin): `20240323 13:36:07,host,user,
localhost,4,149867,QUERY,,'SELECT 1',0,,` (trailing fields kept in `extra`).

One line is one entry. Fields: `serverhost`, `username`, `host`, `connectionid`, `queryid`,
`operation`, `database`, `object` (password literals masked), `retcode` (int or null).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from processor.parsers.event import Event
from processor.parsers.masking import mask_secrets
from processor.parsers.scanning import ScannedParser

fromtimestamp = datetime.fromtimestamp
fromisoformat = datetime.fromisoformat

# The time of an Aurora record, `fromtimestamp(µs / 1e6, UTC)`, costs 0.4 µs a record; parsing
# `<second as ISO>.<µs>Z` with `fromisoformat`, the ISO text of each second cached, 0.25 µs.
# Both give the exact µs: a float of seconds is exact to 0.24 µs before 2106 and fromtimestamp
# rounds to the nearest µs. The cache serves 16-digit stamps before 2100 (all real ones); any
# other stamp takes `fromtimestamp`.
_ISO_SECONDS: dict[str, str] = {}
_ISO_SECONDS_MAX = 1 << 16
_CACHED_BEFORE = "4102444800000000"  # 2100-01-01T00:00:00Z in µs


def _iso_second(second: str) -> str:
    """`YYYY-MM-DDTHH:MM:SS.` for the 10 leading digits of a 16-digit µs stamp (cached)."""
    if len(_ISO_SECONDS) >= _ISO_SECONDS_MAX:
        _ISO_SECONDS.clear()
    text = _ISO_SECONDS[second] = fromtimestamp(int(second), UTC).isoformat()[:19] + "."
    return text


def epoch_us_time(ts: str) -> datetime | None:
    """The time of a string of decimal digits counting µs since the epoch; None out of range."""
    if len(ts) == 16 and ts < _CACHED_BEFORE:
        second = ts[:10]
        prefix = _ISO_SECONDS.get(second) or _iso_second(second)
        return fromisoformat(f"{prefix}{ts[10:]}Z")
    try:
        return fromtimestamp(int(ts) / 1e6, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _int_or_none(text: str) -> int | None:
    """The number in a field of decimal digits, else None.

    `str.isdigit` also accepts characters such as `²` that int() rejects: a record holding one
    used to become an internal error instead of a record with a null id.
    """
    if text.isdecimal():
        try:
            return int(text)
        except ValueError:  # more digits than int() converts
            return None
    return None


class AuditLogParser(ScannedParser):
    log_type: ClassVar[str] = "audit"

    def _line(self, line: str, start: int, end: int, truncated: bool, out: list[Event]) -> None:
        parts = line.split(",", 8)
        if len(parts) < 9:
            if line.strip():
                self._raw_event(out, line, start, end, truncated, "not an audit record")
            else:
                self._skip_blank(start, end)
            return
        ts, serverhost, username, host, connid, queryid, operation, database, rest = parts
        when: datetime | None
        extra = None
        if ts.isdigit():
            when = epoch_us_time(ts) if ts.isdecimal() else None
            obj, sep, retcode = rest.rpartition(",")
            if not sep:
                obj, retcode = rest, ""
        elif len(ts) == 17 and ts[8] == " ":
            try:
                when = datetime.strptime(ts, "%Y%m%d %H:%M:%S").replace(tzinfo=UTC)
            except ValueError:
                when = None
            pieces = rest.rsplit(",", 3)
            obj, retcode = pieces[0], pieces[1] if len(pieces) > 1 else ""
            extra = mask_secrets(",".join(pieces[2:])) if len(pieces) > 2 else None
        else:
            self._raw_event(out, line, start, end, truncated, "not an audit record")
            return
        if obj:
            if obj[0] == "'" and obj[-1] == "'" and len(obj) > 1:
                obj = obj[1:-1]
                if "\\" in obj:
                    obj = obj.replace("\\'", "'").replace("\\\\", "\\")
            obj = mask_secrets(obj)
        fields: dict[str, Any] = {
            "serverhost": serverhost,
            "username": username,
            "host": host,
            "connectionid": _int_or_none(connid),
            "queryid": _int_or_none(queryid),
            "operation": operation,
            "database": database,
            "object": obj,
            "retcode": _int_or_none(retcode),
        }
        if extra is not None:
            fields["extra"] = extra
        if truncated:
            fields["truncated"] = True
            self._emit(out, start, end, fields, when, False, line.isascii())
        elif self._block_ascii or line.isascii():
            out.append(Event(start, end, fields, when, False))
            self._commit(end)
        else:
            self._emit(out, start, end, fields, when, False, False)

    def _finish(self, out: list[Event]) -> None:
        return None
