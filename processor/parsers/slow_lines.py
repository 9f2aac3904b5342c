"""Single lines of the slow log: the server header block, `# Time:` values, `# User@Host:`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from processor.parsers.values import parse_iso_utc, parse_mysql56_time

_USER_HOST = re.compile(
    r"# User@Host: ([^\[]*)(?:\[([^\]]*)\])?\s*@\s*(\S*?)\s*\[([^\]]*)\](?:\s*Id:\s*(\d+))?",
    re.ASCII,
)
_SERVER_HEADER = re.compile(
    r"(?:T[cC][pP]\s[pP]ort:\s+\d+|[/A-Z].*mysqld,\sVersion.*(?:started\swith:|embedded\slibrary)"
    r"|Time\s+Id\s+Command)",
    re.ASCII,
)

fromisoformat = datetime.fromisoformat


def is_server_header(line: str) -> bool:
    """True for the lines of the block a MySQL server writes when it (re)opens the log."""
    first = line[:1]
    if not (first == "/" or first.isupper()):
        return False
    if "mysqld," not in line and not line.startswith(("Tcp", "TCP", "Time")):
        return False
    return _SERVER_HEADER.match(line) is not None


def event_time(raw: str) -> datetime | None:
    """The time of a `# Time:` line (ISO 8601, or MySQL 5.6 `YYMMDD H:MM:SS[.frac]`); None if
    it is not one. Fractions past microseconds are cut, as `fromisoformat` does."""
    if len(raw) == 27 and raw[26] == "Z" and raw[10] == "T":
        try:
            return fromisoformat(raw)
        except ValueError:
            return None
    if raw[:4].isdigit() and raw[4:5] == "-":
        return parse_iso_utc(raw)
    whole, dot, frac = raw.partition(".")
    value = parse_mysql56_time(whole)
    if value is None or not dot:
        return value
    if not frac.isdigit() or not frac.isascii():
        return None
    return value.replace(microsecond=int(frac[:6].ljust(6, "0")))


def user_host(line: str, fields: dict[str, Any]) -> bool:
    """`user`, `host`, `ip` and `thread_id` of a `# User@Host:` line (pt-query-digest's reading);
    False when the line is not one."""
    m = _USER_HOST.match(line)
    if m is None:
        return False
    user, user2, host, ip, thread = m.groups()
    fields["user"] = user.strip() or (user2 or "")
    fields["host"] = host or ip or None
    fields["ip"] = ip or None
    if thread is not None:
        fields["thread_id"] = int(thread)
    return True
