"""PostgreSQL statements normalised exactly as pgbadger 12 does it (its `normalize_query`).

A port, rule by rule and in its order, so a DBA finds our `fingerprint` among pgbadger's
"normalized queries"; tests/parsers/test_fingerprint_pg.py runs the installed pgbadger's own
function on a generated corpus and compares. Its quirks are kept on purpose, for example
`3.14` becomes `?.?`, `0x1F` becomes `?x1f` (numbers are replaced before hexadecimals), and a
`--` comment on the last line stays (the rule wants a newline after it):

Plain statements (no quoted names, comments, backslashes or cursor names) take the same rules
compiled (`_pg.pyx`): the normalisation was most of the PostgreSQL parser's time.

1. strip `/* */` comments; 2. lower-case everything but `"quoted identifiers"` (ASCII only, as
Perl does with bytes); 3. drop `\\'`, `'…'` literals become `?`, runs of `??` one `?`; 4. strip
`--` comments ending with a newline; 5. whitespace runs become one space; 6. drop a leading
`begin;`; 7. `AS "alias"` loses quotes inside the alias; 8. `= null` becomes `= ?`; 9. outside
quoted identifiers, numbers, hexadecimals and `$N` parameters become `?`; 10. `in (?, …)` lists
become `in (...)`; 11. cursor and prepared statement names become `"..."`; 12. trim, and no
space before the first `;`.

The function is fed the statement as pgbadger's `store_queries` hands it over, not as logged
(`pgbadger_query`): trimmed, trailing `;`s dropped, each `$N` replaced by the value bound to it in
the entry's `DETAIL:  parameters:` line (by nothing when there is none: pgbadger's own rule, so
`WHERE id = $1` logged without parameters is the class `where id =;`), and one `;` appended. So
`SELECT 1` and `SELECT 1;` are one class, as in pgbadger's report.

`query_id` is the upper-case MD5 of the normalised text, like the MySQL one, for grouping.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType
from typing import Literal

import structlog

from processor.parsers.scanning import PURE_ENV

LOG = structlog.get_logger(__name__)

_A = re.ASCII
_WS = " \t\n\r\f\v"  # Perl's \s on bytes, which str.strip() would exceed on latin-1 text
_COMMENT = re.compile(r"/\*(.*?)\*/", _A | re.S)
_OBJNAME = re.compile(r'("[^"]+")', _A)
_OBJNAME_BACK = re.compile(r"%%objname(\d+)%%", _A)
_STRING = re.compile(r"'[^']*'", _A)
_REPEATED_Q = re.compile(r"\?(\?)+", _A)
_LINE_COMMENT = re.compile(r"\s*--[^\n]+[\n]", _A)
_SPACES = re.compile(r"\s+", _A)
_ONLY_BEGIN = re.compile(r"\s*begin\s*;\s*", _A)
_BEGIN = re.compile(r"^\s*begin\s*;\s*", _A)
_ALIAS = re.compile(r'AS\s+"([^"]+)"', _A | re.I | re.S)
_EQ_NULL = re.compile(r"=\s*null", _A)
_IDENT = re.compile(r'"([^"]+)"', _A)
_IDENT_BACK = re.compile(r"%sqlident(\d+)%", _A)
# Perl's `s/([^a-z0-9_\$\-])-?\d+/$1?/g` with the character before as a lookbehind: the same
# matches (that character is never the last one of the previous match, a digit), and no
# template to expand per match.
_NUMBER = re.compile(r"(?<=[^a-z0-9_$\-])-?\d+", _A)
_HEX = re.compile(r"([^a-z_$-])0x[0-9a-f]{1,10}", _A)
_PARAM = re.compile(r"\$\d+", _A)
_IN_LIST = re.compile(r"\bin\s*\(['0x,\s?]*\)", _A)
_CURSOR_QUOTED = re.compile(r'\b(declare|in|deallocate|close)\s+"[^"]+"', _A)
_DECLARE = re.compile(r'\bdeclare\s+[^"\s]+\s+cursor', _A)
_FETCH = re.compile(r"\b(fetch\s+next\s+from)\s+[^\s]+", _A)
_CLOSE = re.compile(r'\b(deallocate|close)\s+[^"\s]+', _A)
_SPACE_SEMICOLON = re.compile(r"\s+;", _A)
_BIND = re.compile(r"\$(\d+)", _A)
_NAMED_VALUES = re.compile(r"[,\s]*\$(\d+)\s=\s", _A)
_NAMED_VALUE = re.compile(r"\$\d+\s=\s(.*?)(?:,|$)", _A)
_COMMA = re.compile(r"\s*,\s*", _A)
_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _lower(text: str) -> str:
    """Perl's lc on bytes: A-Z only."""
    return text.lower() if text.isascii() else text.translate(_LOWER)


def _hide(pattern: re.Pattern[str], text: str, before: str, after: str, kept: list[str]) -> str:
    """Perl's `while (s/pattern/<before>$i<after>/) { $i++ }`: each pass replaces the first
    match, the search starting over (a single global substitution does not always agree)."""
    while (m := pattern.search(text)) is not None:
        text = f"{text[: m.start()]}{before}{len(kept)}{after}{text[m.end() :]}"
        kept.append(m.group(1))
    return text


def compiled_module() -> ModuleType | None:
    """The compiled PostgreSQL module (`_pg.pyx`), unless missing or switched off."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None
    try:
        from processor.parsers import _pg
    except ImportError as exc:
        LOG.warning("pg_parser_not_compiled", error=repr(exc))
        return None
    return _pg


PG_MODULE = compiled_module()
# The C passes for plain statements; tests switch it off to check the Python rules alone.
COMPILED: Callable[[str], str | None] | None = (
    None if PG_MODULE is None else PG_MODULE.normalize_plain
)
# The whole class of a statement in C (preparation, normalisation, MD5); False: ask Python.
COMPILED_CLASS: Callable[[str, str | None], tuple[str, str] | Literal[False] | None] | None = (
    None if PG_MODULE is None else PG_MODULE.pgbadger_class
)


def normalize_query(query: str) -> str:
    """The pgbadger 12 normalised form of a PostgreSQL statement ("" for "" and "0")."""
    if COMPILED is not None:
        found = COMPILED(query)
        if found is not None:
            return found
    return normalize_query_python(query)


def normalize_query_python(query: str) -> str:
    """`normalize_query` by the Python port of every rule (the specification)."""
    if not query or query == "0":  # pgbadger returns nothing for a false Perl string
        return ""
    if "/*" in query:
        query = _COMMENT.sub("", query)
    names: list[str] = []
    if '"' in query:
        query = _hide(_OBJNAME, query, "%%OBJNAME", "%%", names)
    query = _lower(query)
    if "%%objname" in query:
        # pgbadger repeats the restore until nothing is left to restore, which never ends when
        # a quoted name holds its own placeholder (`"%%objname0%%"`: it hangs). A chain of names
        # that ends is at most len(names) deep, so stopping there agrees wherever pgbadger ends.
        for _ in range(len(names) + 1):
            restored = _OBJNAME_BACK.sub(lambda m: _at(names, m.group(1)), query)
            if restored == query:
                break
            query = restored
    if "'" in query:
        query = query.replace("\\'", "")
        query = _STRING.sub("?", query)
    if "??" in query:
        query = _REPEATED_Q.sub("?", query)
    if "--" in query:
        query = _LINE_COMMENT.sub("\n", query)
    query = _SPACES.sub(" ", query)
    if "begin" in query and _ONLY_BEGIN.fullmatch(query) is None:
        query = _BEGIN.sub("", query)
    if '"' in query:
        query = _ALIAS.sub(lambda m: 'AS "' + m.group(1).replace("'", "") + '"', query)
    if "null" in query:
        query = _EQ_NULL.sub("= ?", query)
    identifiers: list[str] = []
    if '"' in query:
        query = _hide(_IDENT, query, "%sqlident", "%", identifiers)
    query = _NUMBER.sub("?", query)
    if "0x" in query:
        query = _HEX.sub(r"\1?", query)
    if "$" in query:
        query = _PARAM.sub("?", query)
    if "%sqlident" in query:
        query = _IDENT_BACK.sub(lambda m: '"' + _at(identifiers, m.group(1)) + '"', query)
    if "in" in query:
        query = _IN_LIST.sub("in (...)", query)
    if '"' in query:
        query = _CURSOR_QUOTED.sub(r'\1 "..."', query)
    if "declare" in query:
        query = _DECLARE.sub('declare "..." cursor', query)
    if "fetch" in query:
        query = _FETCH.sub(r'\1 "..."', query)
    if "close" in query or "deallocate" in query:
        query = _CLOSE.sub(r'\1 "..."', query)
    query = query.strip(_WS)
    if ";" in query:
        query = _SPACE_SEMICOLON.sub(";", query, count=1)
    return query


def _at(kept: list[str], index: str) -> str:
    """`$hash{$1}`: the kept text, or nothing (Perl's undef) for a number never handed out."""
    i = int(index)
    return kept[i] if i < len(kept) else ""


def pgbadger_query(statement: str, parameters: str | None = None) -> str:
    """The statement as pgbadger's `store_queries` normalises it ("" when it classes nothing).

    `parameters` is the text after `parameters: ` in the entry's DETAIL line. Perl's rules,
    quirks kept: `$1 = 'a,b'` splits at the comma, `$0` takes the last value, a number with no
    value (or no parameters at all) becomes nothing.
    """
    query = statement.strip(_WS) if statement[:1] in _WS else statement
    query = query.rstrip(_WS + ";")
    if "$" in query:
        values = _bound_values(parameters)
        query = _BIND.sub(lambda m: _value(values, m.group(1)), query)
    if not query or query == "0":
        return ""
    return query if query.rstrip(_WS).endswith(";") else query + ";"


def _bound_values(parameters: str | None) -> list[str]:
    if not parameters:
        return []
    if _NAMED_VALUES.search(parameters) is not None:
        return _NAMED_VALUE.findall(parameters)
    # `EXECUTE name (a, b)` values; Perl's split drops trailing empty fields.
    values = _COMMA.split(parameters)
    while values and not values[-1]:
        values.pop()
    return values


def _value(values: list[str], number: str) -> str:
    """`$t_res[$1-1]`: Perl's negative index counts from the end; past either end, undef."""
    i = int(number) - 1
    return values[i] if -len(values) <= i < len(values) else ""


@lru_cache(maxsize=8192)
def _cached(query: str) -> tuple[str, str]:
    return _uncached(query)


def _uncached(query: str) -> tuple[str, str]:
    norm = normalize_query(query)
    digest = hashlib.md5(norm.encode("latin-1"), usedforsecurity=False)
    return norm, digest.hexdigest().upper()


def fingerprint_pg_latin1(statement: str, parameters: str | None = None) -> tuple[str, str] | None:
    """(pgbadger's class, query_id) of a logged statement, as latin-1 views of bytes (parser
    use); None where pgbadger classes nothing (an empty statement)."""
    if COMPILED_CLASS is not None:
        found = COMPILED_CLASS(statement, parameters)
        if found is not False:
            return found
    query = pgbadger_query(statement, parameters)
    if not query:
        return None
    return _cached(query) if len(query) <= 512 else _uncached(query)


def fingerprint_pg(statement: str, parameters: str | None = None) -> tuple[str, str]:
    """(pgbadger's class, query_id) of a statement given as text ("" and the MD5 of "" where
    pgbadger classes nothing)."""
    if statement.isascii() and (parameters is None or parameters.isascii()):
        return fingerprint_pg_latin1(statement, parameters) or _uncached("")
    found = fingerprint_pg_latin1(
        statement.encode("utf-8").decode("latin-1"),
        None if parameters is None else parameters.encode("utf-8").decode("latin-1"),
    )
    norm, qid = found or _uncached("")
    return norm.encode("latin-1").decode("utf-8", "replace"), qid
