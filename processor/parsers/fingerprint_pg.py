"""pgbadger-style normalisation of PostgreSQL statements (its `normalize_query`), in its order:

1. strip `/* */` comments; 2. lower-case everything but `"quoted identifiers"`; 3. `'…'` literals
become `?` and runs of `?` collapse to one; 4. strip `--` comments and collapse whitespace;
5. drop a leading `begin;`; 6. `= null` becomes `= ?`; 7. numbers, hex and `$N` parameters become
`?`; 8. `in (?, ?, …)` becomes `in (...)`; 9. cursor names become `"..."`.

`query_id` is the upper-case MD5 of the normalised text, like the MySQL one, for grouping.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

_A = re.ASCII
_COMMENT = re.compile(r"/\*.*?\*/", _A | re.S)
_QUOTED_IDENT = re.compile(r'("[^"]*")', _A)
_STRING = re.compile(r"(?:[eEbBxXnN]|[uU]&)?'(?:[^']|'')*'", _A)
_REPEATED_Q = re.compile(r"\?(?:\s*\?)+", _A)
_LINE_COMMENT = re.compile(r"--[^\r\n]*", _A)
_WS = re.compile(r"\s+", _A)
_BEGIN = re.compile(r"\Abegin\s*;\s*", _A)
_EQ_NULL = re.compile(r"=\s*null\b", _A)
_PARAM = re.compile(r"\$\d+", _A)
_HEX = re.compile(r"(?<![a-z0-9_$])0x[0-9a-f]+\b", _A)
_NUMBER = re.compile(r"(?<![a-z0-9_$?.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![a-z_])", _A)
_IN_LIST = re.compile(r"\bin\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", _A)
_CURSOR = re.compile(
    r"\b(declare|close|fetch\s+(?:\w+\s+)*?(?:from|in)|move\s+(?:\w+\s+)*?(?:from|in))\s+(\"[^\"]+\"|\w+)",
    _A,
)
_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _lower_outside_identifiers(text: str) -> str:
    if '"' not in text:
        return text.lower() if text.isascii() else text.translate(_LOWER)
    parts = _QUOTED_IDENT.split(text)
    return "".join(p if p.startswith('"') else p.translate(_LOWER) for p in parts)


def normalize_query(query: str) -> str:
    """The pgbadger-style normalised form of a PostgreSQL statement."""
    if "/*" in query:
        query = _COMMENT.sub("", query)
    query = _lower_outside_identifiers(query)
    if "'" in query:
        query = _STRING.sub("?", query)
        query = _REPEATED_Q.sub("?", query)
    if "--" in query:
        query = _LINE_COMMENT.sub("", query)
    query = _WS.sub(" ", query).strip()
    if query.startswith("begin"):
        query = _BEGIN.sub("", query)
    if "null" in query:
        query = _EQ_NULL.sub("= ?", query)
    if "$" in query:
        query = _PARAM.sub("?", query)
    if "0x" in query:
        query = _HEX.sub("?", query)
    query = _NUMBER.sub("?", query)
    if "in" in query:
        query = _IN_LIST.sub("in (...)", query)
    if "declare" in query or "close" in query or "fetch" in query or "move" in query:
        query = _CURSOR.sub(r'\1 "..."', query)
    return query


@lru_cache(maxsize=8192)
def _cached(query: str) -> tuple[str, str]:
    return _uncached(query)


def _uncached(query: str) -> tuple[str, str]:
    norm = normalize_query(query)
    digest = hashlib.md5(norm.encode("latin-1"), usedforsecurity=False)
    return norm, digest.hexdigest().upper()


def fingerprint_pg_latin1(query: str) -> tuple[str, str]:
    """(normalised statement, query_id), both sides as latin-1 views of bytes (parser use)."""
    return _cached(query) if len(query) <= 512 else _uncached(query)


def fingerprint_pg(query: str) -> tuple[str, str]:
    """(normalised statement, query_id) of a statement given as text."""
    if query.isascii():
        return fingerprint_pg_latin1(query)
    norm, qid = fingerprint_pg_latin1(query.encode("utf-8").decode("latin-1"))
    return norm.encode("latin-1").decode("utf-8", "replace"), qid
