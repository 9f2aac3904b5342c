"""Masking of password literals in SQL text before it leaves the processor.

Masked forms (case-insensitive), the literal becoming `'***'` (or `"***"`), quote kept:
* `IDENTIFIED BY '…'`, `IDENTIFIED WITH plugin BY|AS '…'`, `… REPLACE '…'` (MySQL users)
* `PASSWORD('…')`, `OLD_PASSWORD('…')`
* `SET PASSWORD [FOR u] = '…'`
* `PASSWORD '…'` / `PASSWORD = '…'` anywhere: `CREATE|ALTER USER|ROLE … [ENCRYPTED] PASSWORD '…'`
  (PostgreSQL), and application queries comparing a `password` column.
An unterminated literal (a statement cut by the log) is masked up to the end of the text.

A masked literal stays a literal, so the pt-query-digest and pgbadger fingerprints of the masked
statement are those of the original (a string becomes `?` either way).
"""

from __future__ import annotations

import re

MASK = "***"

_Q = r"""(?:'(?:[^'\\]|\\.|'')*(?:'|\Z)|"(?:[^"\\]|\\.|"")*(?:"|\Z))"""
# (words every match holds, lower-case; pattern), applied in this order. A pattern is skipped
# when one of its words is not in the text: it could not match. Masking only rewrites the inside
# of literals, so it never creates a word for a later pattern.
_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (
        ("identified",),
        re.compile(
            r"(\bidentified\s+(?:with\s+\S+\s+)?(?:by|as)\s+(?:password\s+)?)" + _Q,
            re.I | re.A | re.S,
        ),
    ),
    (("password", "("), re.compile(r"(\bpassword\s*\(\s*)" + _Q, re.I | re.A | re.S)),
    (("password", "set"), re.compile(r"(\bset\s+password\b[^=;]*=\s*)" + _Q, re.I | re.A | re.S)),
    (("password",), re.compile(r"(\bpassword\b\s*=?\s*)" + _Q, re.I | re.A | re.S)),
    (
        ("identified", "replace"),
        re.compile(r"(\bidentified\b.*?\breplace\s+)" + _Q, re.I | re.A | re.S),
    ),
)


def _replace(m: re.Match[str]) -> str:
    literal = m.group(0)[len(m.group(1)) :]
    quote = literal[:1]
    closed = len(literal) > 1 and literal.endswith(quote)
    return m.group(1) + quote + MASK + (quote if closed else "")


def has_secret_trigger(text: str) -> bool:
    """Cheap test: could the text hold a password literal at all?"""
    # str.lower() plus two substring searches run in C, far faster than an IGNORECASE regex.
    low = text.lower()
    return "password" in low or "identified" in low


def secret_trigger_starts(text: str) -> list[int]:
    """Offsets in `text` where a masking trigger word starts (any case), in order.

    A parser scanning a whole buffer masks only the entries holding one of these offsets:
    `mask_secrets` leaves any other text unchanged. The patterns are ASCII-only and no
    character of latin-1 lower-cases to an ASCII letter, so lower-casing the bytes (ASCII only,
    far faster than `str.lower` on non-ASCII text) finds the same words at the same offsets.
    """
    low = text.encode("latin-1", "replace").lower()
    starts: list[int] = []
    for word in (b"password", b"identified"):
        find = low.find
        at = find(word)
        while at >= 0:
            starts.append(at)
            at = find(word, at + 1)
    starts.sort()
    return starts


def mask_secrets(text: str) -> str:
    """The text with password literals replaced by `***` (unchanged when there are none)."""
    # Every masked form has a quoted literal; most log text has no quote at all.
    if "'" not in text and '"' not in text:
        return text
    low = text.lower()
    if "password" not in low and "identified" not in low:
        return text
    for words, pattern in _PATTERNS:
        for word in words:
            if word not in low:
                break
        else:
            text = pattern.sub(_replace, text)
    return text
