"""OpenObserve's SQL (the DataFusion dialect) made runnable by SQLite.

SQLite runs the query; this module only bridges the few differences that matter here:
* the stream named in `FROM` is shadowed by a CTE of the same name that applies the request's
  `[start_time, end_time)` window, so the user's SQL is executed as written;
* the full-text and string functions (`match_all`, `str_match`, `str_match_ignore_case`,
  `re_match`, `re_not_match`, `histogram`) are registered as SQLite functions; `match_all('kw')`
  is expanded with the stream's full-text columns, which it searches implicitly;
* a query without `ORDER BY` or aggregate gets `ORDER BY _timestamp DESC`, as on the server;
* a simple SELECT (no join, subquery, aggregate, GROUP BY, DISTINCT, HAVING or set operation)
  that does not select `*` or `_timestamp` gets `_timestamp` first (`AddTimestampVisitor`);
* `LIKE` is case-sensitive, as DataFusion's (SQLite's is not: `like()` is replaced on the
  reader connection), and `ILIKE` is the case-insensitive one (rewritten to SQLite's `REGEXP`
  operator, whose function here matches a LIKE pattern ignoring case);
* a quoted name is exact (SQLite would match `"Event_ID"` to `event_id`): a quoted stream or
  field name that differs from a known one only by case is "not found", as on the server.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_FULLTEXT_FIELDS: tuple[str, ...] = (
    "log",
    "message",
    "msg",
    "content",
    "data",
    "body",
    "json",
    "error",
    "llm_input",
    "llm_output",
)

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_IDENT = re.compile(r'"((?:[^"]|"")+)"|\b([A-Za-z_][A-Za-z0-9_]*)\b')
_MATCH_ALL = re.compile(
    r"\bmatch_all(?:_raw)?(?:_ignore_case)?\s*\(\s*('(?:[^']|'')*')\s*\)", re.IGNORECASE
)
_ILIKE = re.compile(r"\bilike\b", re.IGNORECASE)
_QUOTED = re.compile(r'"((?:[^"]|"")+)"')
_ALIAS = re.compile(r'\bas\s+"((?:[^"]|"")+)"', re.IGNORECASE)
_COMPLEX = re.compile(
    r"\b(count|sum|avg|min|max|approx_distinct|approx_percentile_cont|array_agg|string_agg|"
    r"median|group_concat|histogram)\s*\(|\bgroup\s+by\b|\bdistinct\b|\bhaving\b|\bjoin\b|"
    r"\bunion\b|\bintersect\b|\bexcept\b|^\s*with\b",
    re.IGNORECASE,
)
_SELECT_WORD = re.compile(r"\bselect\b", re.IGNORECASE)
_SELECT_LIST = re.compile(r"^\s*select\s+(.*?)\s+from\b", re.IGNORECASE | re.DOTALL)
_NO_DEFAULT_ORDER = re.compile(
    r"\b(count|sum|avg|min|max|approx_distinct|approx_percentile_cont|array_agg|string_agg|"
    r"median|group_concat|histogram)\s*\(|\bgroup\s+by\b|\bdistinct\b|\border\s+by\b|"
    r"\bunion\b|\bintersect\b|\bexcept\b",
    re.IGNORECASE,
)
_TRAILING_LIMIT = re.compile(
    r"\s+limit\s+\d+(?:\s*(?:,|\boffset\b)\s*\d+)?\s*$|\s+offset\s+\d+\s*$", re.IGNORECASE
)
_LEADING_WITH = re.compile(r"^\s*with(\s+recursive)?\s+", re.IGNORECASE)
_INTERVAL = re.compile(
    r"^\s*(\d+)\s*(second|seconds|sec|s|minute|minutes|min|m|hour|hours|h|day|days|d)\s*$",
    re.IGNORECASE,
)
_UNIT_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}


class SqlError(Exception):
    """A query that cannot run; `code` is OpenObserve's error code (20001 SQL invalid...)."""

    def __init__(self, code: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Plan:
    sql: str
    streams: list[str]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def referenced_streams(sql: str, known: Iterable[str]) -> list[str]:
    """Known stream names that appear as identifiers in `sql`, in order of appearance."""
    known_list = list(known)
    known_set = {k.lower(): k for k in known_list}
    exact = set(known_list)
    found: list[str] = []
    for match in _IDENT.finditer(_LITERAL.sub("''", sql)):
        if match.group(1):  # quoted: exact
            name = match.group(1).replace('""', '"')
            stream = name if name in exact else None
        else:
            stream = known_set.get(match.group(2).lower())
        if stream is not None and stream not in found:
            found.append(stream)
    return found


def plan(
    sql: str,
    tables: dict[str, str],
    columns: Mapping[str, Sequence[str]],
    start_us: int,
    end_us: int,
    fulltext_fields: Sequence[str],
    hidden: Mapping[str, str] | None = None,
) -> Plan:
    """Rewrite `sql` for SQLite. `tables` maps stream -> table; `columns` stream -> columns;
    `hidden` stream -> an SQL condition on its rows that leaves them out (faults)."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise SqlError(20001, "Search SQL not supported: empty query")
    streams = referenced_streams(text, tables)
    if not streams:
        raise SqlError(20002, "Search stream not found", _first_from(text))
    _check_quoted(text, tables, [c for s in streams for c in columns.get(s, ())])
    text = _add_timestamp(text)
    text = _MATCH_ALL.sub(
        lambda m: _expand_match_all(m, streams[0], columns, fulltext_fields), text
    )
    text = _ILIKE.sub("REGEXP", text)
    if not _NO_DEFAULT_ORDER.search(_LITERAL.sub("''", text)):
        limit = _TRAILING_LIMIT.search(text)
        cut = limit.start() if limit else len(text)
        text = text[:cut] + " ORDER BY _timestamp DESC" + text[cut:]
    hidden = hidden or {}
    ctes = ", ".join(
        f"{quote_ident(s)} AS (SELECT * FROM {quote_ident(tables[s])} "
        f"WHERE _timestamp >= {int(start_us)} AND _timestamp < {int(end_us)}"
        + (f" AND NOT ({hidden[s]})" if hidden.get(s) else "")
        + ")"
        for s in streams
    )
    leading = _LEADING_WITH.match(text)
    if leading:
        recursive = leading.group(1) or ""
        text = f"WITH{recursive} {ctes}, {text[leading.end() :]}"
    else:
        text = f"WITH {ctes} {text}"
    return Plan(text, streams)


def _check_quoted(sql: str, tables: Mapping[str, str], columns: Sequence[str]) -> None:
    """A quoted name must be exact: one that matches a stream or field only when case is
    ignored is not found (SQLite alone would find it)."""
    text = _LITERAL.sub("''", sql)
    aliases = {m.group(1) for m in _ALIAS.finditer(text)}
    streams = {s.lower() for s in tables}
    fields = {c.lower() for c in columns}
    exact = set(tables) | set(columns) | aliases
    for match in _QUOTED.finditer(text):
        name = match.group(1).replace('""', '"')
        if name in exact:
            continue
        if name.lower() in fields:
            raise SqlError(20004, f"Search field not found: {name}", f"No field named {name!r}")
        if name.lower() in streams:
            raise SqlError(20002, "Search stream not found", name)


def _add_timestamp(sql: str) -> str:
    """`_timestamp` first in a simple SELECT's list, unless it selects `*` or `_timestamp`."""
    text = _LITERAL.sub("''", sql)
    if _COMPLEX.search(text) or len(_SELECT_WORD.findall(text)) != 1:
        return sql
    match = _SELECT_LIST.match(text)
    if match is None:
        return sql
    projection = match.group(1)
    if "*" in projection or re.search(r'\b_timestamp\b|"_timestamp"', projection):
        return sql
    at = match.start(1)
    return sql[:at] + "_timestamp, " + sql[at:]


def _first_from(sql: str) -> str:
    match = re.search(r"\bfrom\s+(\"[^\"]+\"|\S+)", sql, re.IGNORECASE)
    return match.group(1).strip('"') if match else ""


def _expand_match_all(
    match: re.Match[str],
    stream: str,
    columns: Mapping[str, Sequence[str]],
    fulltext_fields: Sequence[str],
) -> str:
    present = [c for c in fulltext_fields if c in set(columns.get(stream, ()))]
    if not present:
        return "0"
    return f"o2_match_all({match.group(1)}, {', '.join(quote_ident(c) for c in present)})"


@functools.lru_cache(maxsize=512)
def _regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def str_match(field: Any, needle: Any) -> int | None:
    text, sub = _text(field), _text(needle)
    if text is None or sub is None:
        return None
    return int(sub in text)


def str_match_ignore_case(field: Any, needle: Any) -> int | None:
    text, sub = _text(field), _text(needle)
    if text is None or sub is None:
        return None
    return int(sub.lower() in text.lower())


def re_match(field: Any, pattern: Any) -> int | None:
    text, pat = _text(field), _text(pattern)
    if text is None or pat is None:
        return None
    return int(_regex(pat).search(text) is not None)


def re_not_match(field: Any, pattern: Any) -> int | None:
    matched = re_match(field, pattern)
    return None if matched is None else 1 - matched


def match_all(term: Any, *fields: Any) -> int:
    """Case-insensitive "contains" over the full-text fields; `*` is a wildcard."""
    word = _text(term) or ""
    if "*" in word:
        pattern = _regex(".*".join(re.escape(p) for p in word.split("*")), re.IGNORECASE)
        return int(any(pattern.search(t) for t in map(_text, fields) if t is not None))
    needle = word.lower()
    return int(any(needle in t.lower() for t in map(_text, fields) if t is not None))


def histogram(ts: Any, interval: Any = "1 minute") -> str | None:
    """The start of `ts`'s bucket as `YYYY-MM-DDTHH:MM:SS` (µs timestamps, UTC)."""
    if ts is None:
        return None
    match = _INTERVAL.match(_text(interval) or "")
    if not match:
        raise ValueError(f"invalid histogram interval {interval!r}")
    step = int(match.group(1)) * _UNIT_US[match.group(2)[0].lower()]
    bucket = (int(ts) // step) * step
    return datetime.fromtimestamp(bucket / 1_000_000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


@functools.lru_cache(maxsize=512)
def _like_regex(pattern: str, escape: str | None, ignore_case: bool) -> re.Pattern[str]:
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if escape is not None and ch == escape:
            out.append(re.escape(next(chars, "")))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like(pattern: Any, value: Any, escape: Any = None) -> int | None:
    """`value LIKE pattern`, case-sensitive (DataFusion's)."""
    text, pat = _text(value), _text(pattern)
    if text is None or pat is None:
        return None
    return int(_like_regex(pat, _text(escape), False).fullmatch(text) is not None)


def ilike(pattern: Any, value: Any) -> int | None:
    """`value ILIKE pattern` (reached through SQLite's REGEXP operator)."""
    text, pat = _text(value), _text(pattern)
    if text is None or pat is None:
        return None
    return int(_like_regex(pat, None, True).fullmatch(text) is not None)


def register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("like", 2, like, deterministic=True)
    conn.create_function("like", 3, like, deterministic=True)
    conn.create_function("regexp", 2, ilike, deterministic=True)
    conn.create_function("str_match", 2, str_match, deterministic=True)
    conn.create_function("str_match_ignore_case", 2, str_match_ignore_case, deterministic=True)
    conn.create_function("re_match", 2, re_match, deterministic=True)
    conn.create_function("re_not_match", 2, re_not_match, deterministic=True)
    conn.create_function("o2_match_all", -1, match_all, deterministic=True)
    conn.create_function("histogram", -1, histogram, deterministic=True)


def classify(exc: sqlite3.Error) -> SqlError:
    """An SQLite error as OpenObserve's search error (code, message)."""
    text = str(exc)
    lowered = text.lower()
    if "interrupted" in lowered:
        return SqlError(20010, "Search timeout", text)
    if lowered.startswith("no such column"):
        return SqlError(20004, f"Search field not found: {text.split(':', 1)[-1].strip()}", text)
    if lowered.startswith("no such function"):
        name = text.split(":", 1)[-1].strip()
        return SqlError(20005, f"Search function not defined: {name}", text)
    if lowered.startswith("no such table"):
        return SqlError(20002, "Search stream not found", text)
    if isinstance(exc, sqlite3.OperationalError | sqlite3.ProgrammingError) and (
        "syntax" in lowered
        or "incomplete" in lowered
        or "one statement" in lowered
        or "unrecognized" in lowered
        or "readonly" in lowered
        or "read-only" in lowered
    ):
        return SqlError(20001, "Search SQL not supported", text)
    return SqlError(20008, "Search query execution error", text)
