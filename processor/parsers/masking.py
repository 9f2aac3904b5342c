"""Masking of secrets in SQL and log text before it leaves the processor.

Every parser passes every text field of its events (statement, fingerprint, argument, audit
object, error message, raw text of a line it cannot parse) through `mask_secrets`. Masked forms
(case-insensitive); a literal becomes `'***'` (or `"***"`, quote kept), other values `***`:
* `IDENTIFIED BY '…'`, `IDENTIFIED WITH plugin BY|AS '…'`, `… REPLACE '…'` (MySQL users)
* `PASSWORD('…')`, `OLD_PASSWORD('…')`, `SET PASSWORD [FOR u] = '…'`
* `PASSWORD '…'` / `PASSWORD = '…'` anywhere, and any `…_PASSWORD = '…'`: `CREATE|ALTER USER|ROLE
  … [ENCRYPTED] PASSWORD '…'` (PostgreSQL), `CHANGE MASTER TO … MASTER_PASSWORD = '…'`, `CHANGE
  REPLICATION SOURCE TO … SOURCE_PASSWORD = '…'`, `START GROUP_REPLICATION … PASSWORD = '…'`,
  postgres_fdw's `CREATE|ALTER USER MAPPING … OPTIONS (password '…')`, application queries
  comparing a `password` column
* `password=…` in a libpq connection string (dblink): inside an SQL literal, the value bare or
  quoted (a text holding no quote at all is taken for one without literals: only URLs are
  masked in it)
* the password of a URL, `scheme://user:…@host`
* the password argument (the 4th) of the RDS procedures `mysql.rds_set_external_master`,
  `mysql.rds_set_external_source` and all their variants (`_with_auto_position`, `_with_delay`,
  `_gtid`, `_for_channel`)
* every literal in the key argument of `AES_ENCRYPT`, `AES_DECRYPT`, `DES_ENCRYPT`, `DES_DECRYPT`,
  `ENCODE`, `DECODE` (MySQL; not PostgreSQL's format names `hex`, `base64`, `escape`), and of
  pgcrypto's `pgp_sym_encrypt`, `pgp_sym_decrypt` (and `_bytea`), `pgp_pub_decrypt` (key and
  password), `encrypt`, `decrypt`, `encrypt_iv`, `decrypt_iv`, `hmac`; the password of `crypt`.
An unterminated literal (a statement cut by the log) is masked up to the end of the text. Keys
given as bare numbers (`0x…`) or through variables are not literals and are left as they are.

A masked literal stays a literal, so the pt-query-digest and pgbadger fingerprints of the masked
statement are those of the original (a string becomes `?` either way).

Every masked form holds one of `TRIGGER_WORDS` (any case): text without one is never changed.
The compiled scanners (`_scan_text.pxi`, `line_kind`) send a line through `mask_secrets` only
when it holds one; tests/parsers/test_masking.py keeps the two lists in step.
"""

from __future__ import annotations

import re

MASK = "***"
TRIGGER_WORDS = (
    "password",
    "identified",
    "crypt",
    "encode",
    "decode",
    "hmac",
    "rds_set_external",
    "://",
)

_Q = r"""(?:'(?:[^'\\]|\\.|'')*(?:'|\Z)|"(?:[^"\\]|\\.|"")*(?:"|\Z))"""
_FLAGS = re.I | re.A | re.S
# (words every match holds, lower-case; pattern), applied in this order. A pattern is skipped
# when one of its words is not in the text: it could not match. Masking only rewrites the inside
# of literals (or a bare value), so it never creates a word for a later pattern.
_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (
        ("identified",),
        re.compile(r"(\bidentified\s+(?:with\s+\S+\s+)?(?:by|as)\s+(?:password\s+)?)" + _Q, _FLAGS),
    ),
    (("password", "("), re.compile(r"(\bpassword\s*\(\s*)" + _Q, _FLAGS)),
    (("password", "set"), re.compile(r"(\bset\s+password\b[^=;]*=\s*)" + _Q, _FLAGS)),
    # A libpq connection string inside an SQL literal: `password=value`, or the value quoted
    # for libpq with the SQL literal's own quote doubled (`password=''a b''`) or escaped.
    (
        ("password", "="),
        re.compile(
            r"(\bpassword\s*=\s*)(''(?:[^']|'''')*?''|\\'(?:[^'\\]|\\.)*?\\'"
            r"|[^\s'\\()]++(?!\())",
            _FLAGS,
        ),
    ),
    # An empty literal hides nothing (and may open a connection-string value masked above).
    (
        ("password",),
        # `password` as a word or after `_` (`master_password`); the look-behind after the word,
        # not before it, lets the regex engine look for the word first (three times faster).
        re.compile(r"(password(?<![a-z0-9]password)\b\s*=?\s*)(?!''(?!'))" + _Q, _FLAGS),
    ),
    (("identified", "replace"), re.compile(r"(\bidentified\b.*?\breplace\s+)" + _Q, _FLAGS)),
)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]*:)[^\s@'\"/]+(?=@)", _FLAGS)

# Function -> indexes of the arguments whose literals are secrets.
_SECRET_ARGUMENTS: dict[str, tuple[int, ...]] = {
    "aes_encrypt": (1,),
    "aes_decrypt": (1,),
    "des_encrypt": (1,),
    "des_decrypt": (1,),
    "encode": (1,),
    "decode": (1,),
    "pgp_sym_encrypt": (1,),
    "pgp_sym_decrypt": (1,),
    "pgp_sym_encrypt_bytea": (1,),
    "pgp_sym_decrypt_bytea": (1,),
    "pgp_pub_decrypt": (1, 2),
    "pgp_pub_decrypt_bytea": (1, 2),
    "encrypt": (1,),
    "decrypt": (1,),
    "encrypt_iv": (1,),
    "decrypt_iv": (1,),
    "hmac": (1,),
    "crypt": (0,),
}
# (host, port, user, password, …) in every variant of the RDS replication procedures.
_RDS_PROCEDURE = re.compile(r"rds_set_external_(?:master|source)\w*", re.A)
_RDS_PASSWORD = (3,)
# PostgreSQL's encode/decode take a format name where MySQL's take a key: not a secret.
_PG_FORMATS = frozenset({"hex", "base64", "base64url", "base32hex", "escape"})
# Tokens of a call's argument list: literals, names (a call when `(` follows), parentheses,
# commas. Anything else between them is skipped.
_TOKEN = re.compile(
    r"(?P<q>" + _Q + r")|(?P<name>`?[a-z_][\w$]*`?)(?P<call>\s*\()?|(?P<open>\()|(?P<close>\))|,",
    _FLAGS,
)


def _replace(m: re.Match[str]) -> str:
    literal = m.group(0)[len(m.group(1)) :]
    quote = literal[:1]
    closed = len(literal) > 1 and literal.endswith(quote)
    return m.group(1) + quote + MASK + (quote if closed else "")


def _replace_value(m: re.Match[str]) -> str:
    value = m.group(2)
    if value.startswith("''"):
        return m.group(1) + "''" + MASK + "''"
    if value.startswith("\\'"):
        return m.group(1) + "\\'" + MASK + "\\'"
    return m.group(1) + MASK


def _masked_literal(literal: str) -> str:
    quote = literal[0]
    closed = len(literal) > 1 and literal.endswith(quote)
    return quote + MASK + (quote if closed else "")


def _secret_arguments(name: str) -> tuple[int, ...] | None:
    name = name.strip("`").lower()
    found = _SECRET_ARGUMENTS.get(name)
    if found is None and _RDS_PROCEDURE.fullmatch(name):
        return _RDS_PASSWORD
    return found


def _mask_call_arguments(text: str) -> str:
    """Every literal inside a secret argument of a call listed above, at any depth."""
    # One frame per open parenthesis: (function name or "", its secret arguments, argument index).
    frames: list[tuple[str, tuple[int, ...] | None, list[int]]] = []
    pieces: list[str] = []
    last = 0
    for m in _TOKEN.finditer(text):
        literal = m.group("q")
        if literal is not None:
            if any(
                secret is not None
                and index[0] in secret
                and not (name in ("encode", "decode") and literal[1:-1].lower() in _PG_FORMATS)
                for name, secret, index in frames
            ):
                pieces += (text[last : m.start()], _masked_literal(literal))
                last = m.end()
        elif m.group("name") is not None:
            if m.group("call") is not None:
                name = m.group("name").strip("`").lower()
                frames.append((name, _secret_arguments(name), [0]))
        elif m.group("open") is not None:
            frames.append(("", None, [0]))
        elif m.group("close") is not None:
            if frames:
                frames.pop()
        elif frames:
            frames[-1][2][0] += 1
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def mask_secrets(text: str) -> str:
    """The text with secrets replaced by `***` (the same object when there are none)."""
    if "://" in text:
        text = _URL_PASSWORD.sub(r"\1" + MASK, text)
    # Every other masked form has a quoted literal; most log text has none.
    if "'" not in text and '"' not in text:
        return text
    low = text.lower()
    if "password" in low or "identified" in low:
        for words, pattern in _PATTERNS:
            for word in words:
                if word not in low:
                    break
            else:
                text = pattern.sub(
                    _replace_value if pattern.groups == 2 else _replace,
                    text,
                )
    if (
        "crypt" in low or "code" in low or "hmac" in low or "rds_set_external" in low
    ) and "(" in text:
        text = _mask_call_arguments(text)
    return text
