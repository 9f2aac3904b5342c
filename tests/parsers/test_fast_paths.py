"""The compiled scanners give exactly the events of the per-line path (`_line`).

Error, general and audit parsers scan each buffer with the compiled scanners (`_scan.pyx`) and
hand only unusual lines to `_line`; the reference here is the same parser with the base class's
plain per-line loop, which is also what runs without the compiled module. Also: the masking
shortcuts against masking with every pattern applied.
"""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.parsers import LOG_TYPES, PARSERS, LogParser, mask_secrets, parser_for
from processor.parsers.masking import (
    _PATTERNS,
    TRIGGER_WORDS,
    _mask_call_arguments,
    _replace,
    _replace_value,
)
from tests.parsers.generate import WRITERS
from tests.parsers.helpers import as_records, implementation, sample

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _per_line(log_type: str, base_offset: int, limit: int) -> LogParser:
    """The parser for `log_type` with its whole-buffer pass replaced by the per-line loop."""

    class PerLine(PARSERS[log_type]):  # type: ignore[misc, valid-type]
        _lines = LogParser._lines

    parser: LogParser = PerLine(base_offset, limit)
    return parser


def _generated(log_type: str, seed: int) -> list[bytes]:
    buf = io.BytesIO()
    WRITERS[log_type](buf, 8000, seed=seed)
    return buf.getvalue().split(b"\n")


# Lines the fast passes must recognise, and near misses they must leave to `_line`.
ODD = [
    b"",
    b"   ",
    b"\t\t   12 Query\tselect 1",
    b"231128  9:13:22 [Note] short format",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-010116] [Server]",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-010116] [Server] ",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-010116] [Serv]er] odd subsystem",
    b"2023-13-28T09:13:22.104678Z 0 [Note] [MY-010116] [Server] month 13",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-\xb2] [Server] superscript digit",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [Server] ALTER USER u IDENTIFIED BY 'pw'",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [Server] caf\xc3\xa9 and bad \xff",
    b"2024-01-03T07:15:38.660108Z\t   12 Query",
    b"2024-01-03T07:15:38.660108Z\t   12 Query\t",
    b"2024-01-03T07:15:38.660108Z\t12 Init DB\tshop",
    b"2024-01-03T07:15:38.660108Z\t12 Connect\tapp@host on ",
    b"2024-02-30T07:15:38.660108Z\t12 Query\tFebruary 30",
    b"2024-01-03T07:15:38.660108Z\t   \xb2 Query\tsuperscript thread",
    b"2024-01-03T07:15:38.660108Z\t12 Query\tSET PASSWORD = 'x\xc3\xa9'",
    b"  continued with spaces",
    b"lower-case continuation",
    b"WHERE upper-case continuation",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'password = \\'x\\'',0",
    b"1703817810074458,h,u,h,1,2,QUERY,db,obj",
    b"1703817810074458,h,u,h,,,QUERY,db,'',",
    b"99999999999999999999999,h,u,h,1,2,QUERY,db,'huge time',0",
    b"1703817810074458,h,u,h,\xb2,2,QUERY,db,'superscript id',\xb2",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'caf\xc3\xa9',1",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'bad \xff',1",
    b"1703817810074458,h,u,h," + b"9" * 5000 + b",2,QUERY,db,'too many digits',0",
    b"20240323 13:36:07,host,user,localhost,4,149867,QUERY,,'SELECT 1',0,,",
    # Near misses of the compiled scanners' shapes.
    b"170381781007445,h,u,h,1,2,QUERY,db,'15 digits',0",
    b"17038178100744581,h,u,h,1,2,QUERY,db,'17 digits',0",
    b"4102444800000000,h,u,h,1,2,QUERY,db,'2100 exactly',0",
    b"4102444799999999,h,u,h,1,2,QUERY,db,'just before 2100',0",
    b"0000000000000000,h,u,h,1,2,QUERY,db,'the epoch',0",
    b"1709164800000000,h,u,h,1,2,QUERY,db,'2024-02-29',0",
    b"1703817810074458,h,u,h,1234567890123456789,2,QUERY,db,'19-digit id',0",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'negative retcode',-1",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'19-digit retcode',1234567890123456789",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'carriage return',0\r",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'a\\\\'b\\'c\\\\\\\\d',0",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'\\',0",
    b"1703817810074458,h,u,h,1,2,QUERY,db,',0",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'',0",
    b"1703817810074458,h,u,h,1,2,QUERY,db,a,b,c",
    b"1703817810074458,h,u,h,1,2,QUERY,db,a,b,7",
    b"1703817810074458,h,u,h,1,2,QUERY,db",
    b"1703817810074458,h,PassWord,h,1,2,QUERY,db,'no secret in the object',0",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'SET PASSWORD = \\'pw\\'',0",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'xxxpasswor',0",
    b"1703817810074458,h\xc3\xa9,u,h,1,2,QUERY,db,'host not ASCII',0",
    b"2024-02-29T07:15:38.660108Z\t12 Query\tleap day",
    b"2023-02-29T07:15:38.660108Z\t12 Query\tnot a leap year",
    b"0000-01-03T07:15:38.660108Z\t12 Query\tyear zero",
    b"2024-01-03T24:15:38.660108Z\t12 Query\thour 24",
    b"2024-01-03T07:15:60.660108Z\t12 Query\tsecond 60",
    b"2024-01-03T07:15:38.660108+00:00\t12 Query\toffset",
    b"2024-01-03T07:15:38.660108Z\t12  Query\ttwo spaces",
    b"2024-01-03T07:15:38.660108Z\t12 Query \ttrailing space",
    b"2024-01-03T07:15:38.660108Z\t12 query\tlower case",
    b"2024-01-03T07:15:38.660108Z\t12 Init DB\tshop",
    b"2024-01-03T07:15:38.660108Z\t1234567890123456789 Query\t19-digit thread",
    b"2024-01-03T07:15:38.660108Z\t12 Query\tselect 'password' from t",
    b"2024-01-03T07:15:38.660108Z\t12 Connect\ta@b@c on db",
    b"2024-01-03T07:15:38.660108Z\t12 Connect\tuser@host  on db",
    b"2024-01-03T07:15:38.660108Z\t12 Connect\tuser@host on",
    b"2024-01-03T07:15:38.660108Z\t12 Query\t",
    b"(continuation starting with a bracket",
    b"/ continuation starting with a slash",
    b"/rdsdbbin/oscar/bin/mysqld, Version: 8.0.28 (Source distribution). started with:",
    b"Tcp port: 3306  Unix socket: /tmp/mysql.sock",
    b"Time                 Id Command    Argument",
    b"TCPish continuation",
    b"Timeless continuation",
    b"  IDENTIFIED BY 'continued secret'",
    b"  caf\xc3\xa9 continued",
    b"2023-11-28T09:13:22.104678Z 0 [ERROR] [MY-013183] [InnoDB] upper-case level",
    b"2023-11-28T09:13:22.104678Z 0 [Foo] [MY-1] [Server] unknown level",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-] [Server] no code digits",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-12a] [Server] letter in code",
    b"2023-11-28T09:13:22.104678Z 0 [] [MY-1] [Server] empty level",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [] empty subsystem",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [a b] space in subsystem",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [Server]x glued",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [Server]",
    b"2023-11-28T09:13:22.104678Z 1234567890123456789 [Note] [MY-1] [Server] 19-digit thread",
    b"2023-11-28 09:13:22 47512412345 [Note] MySQL 5.6 format",
    b"[continuation with a bracket]",
    # MySQL 5.0 general log (command padded with spaces), commands without continuation lines.
    b"\t\t   42 Quit",
    b"061226 15:42:36 11 Connect root@localhost on db",
    b"061226 15:42:36\t     11 Connect     root@localhost as  on db",
    b"\t\t     11 Quit       ",
    b"\t\t     11 Query       select 1",
    b"\t\t     11 Init DB     shop",
    b"2024-01-03T07:15:38.660108Z\t12 Quit\t",
    b"2024-01-03T07:15:38.660108Z\t12 Prepare\tselect ?",
    b"2024-01-03T07:15:38.660108Z\t12 Execute\tselect 1",
    b"2024-01-03T07:15:38.660108Z\t12 Connect\tu@h as  on db using TCP/IP",
    # MySQL 5.0/5.1 error log: InnoDB's message right after the time, and its dump.
    b"091121 13:17:58InnoDB: Warning: a long semaphore wait:",
    b"091121 13:17:581 not a time",
    b"--Thread 1174727008 has waited at btr/btr0cur.c line 443 for 241.00 seconds the semaphore:",
    # Every trigger word, and near misses of them.
    b"2024-01-03T07:15:38.660108Z\t12 Query\tCHANGE MASTER TO MASTER_PASSWORD='pw'",
    b"2024-01-03T07:15:38.660108Z\t12 Query\tSELECT AES_ENCRYPT('a', 'k')",
    b"2024-01-03T07:15:38.660108Z\t12 Query\tSELECT ENCODE('a', 'k'), DECODE('b', 'k')",
    b"2024-01-03T07:15:38.660108Z\t12 Query\tSELECT hmac('a', 'k', 'sha1')",
    b"2024-01-03T07:15:38.660108Z\t12 Query\tCALL mysql.rds_set_external_master('h', 1, 'u', 'pw')",
    b"2024-01-03T07:15:38.660108Z\t12 Query\tSELECT 'pg://u:pw@h'",
    b"2024-01-03T07:15:38.660108Z\t12 Query\tSELECT 'passwor', 'rds_set_externa', 'cryp', ':/'",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [Repl] source_password = 'pw'",
    b"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [Repl] url mysql://u:pw@h",
    b"  password=pw host=h",
    b"  , 'k3y')",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'SELECT AES_DECRYPT(c, \\'k\\')',0",
    b"1703817810074458,h,u,h,1,2,QUERY,db,'CALL mysql.rds_set_external_source(\\'h\\', 1, \\'u\\', \\'pw\\')',0",
]
POOL = sorted({line for t in LOG_TYPES for line in sample(t).split(b"\n")} | set(ODD))
GENERATED = {t: _generated(t, 7) for t in ("error", "general", "audit")}


def _run(parser: LogParser, raw: bytes, cuts: list[int]) -> list[object]:
    """Records of every event, and the committed offset after each feed."""
    trace: list[object] = []
    prev = 0
    for cut in [*sorted(c for c in set(cuts) if c <= len(raw)), len(raw)]:
        trace += as_records(parser.feed(raw[prev:cut]))
        trace.append(("committed", parser.committed_offset))
        prev = cut
    trace += as_records(parser.flush())
    s = parser.stats
    trace.append(
        (
            s.events,
            s.parse_errors,
            s.truncated_lines,
            s.invalid_utf8,
            s.skipped_header_lines,
            s.skipped_header_bytes,
            s.internal_errors,
            s.blank_lines,
            s.blank_bytes,
        )
    )
    return trace


# Characters that make or break the line shapes the scanners accept.
SHAPE_CHARS = list(b"0123456789,'\\ \tTZ:.-[]MY@PpIiaz\r\xe9")


@st.composite
def _line(draw: st.DrawFn, pool: list[bytes]) -> bytes:
    """A pool line, or one with a character replaced, inserted or dropped: a near miss."""
    line = draw(st.sampled_from(pool))
    if not line or draw(st.integers(0, 2)) == 0:
        return line
    at = draw(st.integers(0, len(line) - 1))
    char = bytes([draw(st.sampled_from(SHAPE_CHARS))])
    how = draw(st.sampled_from(["replace", "insert", "drop"]))
    if how == "replace":
        return line[:at] + char + line[at + 1 :]
    if how == "insert":
        return line[:at] + char + line[at:]
    return line[:at] + line[at + 1 :]


@pytest.mark.parametrize("log_type", ["error", "general", "audit"])
@SETTINGS
@given(data=st.data())
def test_whole_buffer_pass_equals_per_line_path(log_type: str, data: st.DataObject) -> None:
    pool = POOL + GENERATED[log_type]
    lines = data.draw(st.lists(_line(pool), max_size=60))
    raw = b"\n".join(lines) + data.draw(st.sampled_from([b"", b"\n"]))
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=8))
    limit = data.draw(st.sampled_from([7, 40, 200, 1 << 20]))
    with implementation("compiled"):
        fast = _run(parser_for(log_type, 5, limit), raw, cuts)
    assert fast == _run(_per_line(log_type, 5, limit), raw, cuts)


@pytest.mark.parametrize("log_type", ["error", "general", "audit"])
@SETTINGS
@given(
    lines=st.lists(st.binary(max_size=120), max_size=30),
    ordinary=st.lists(st.integers(0, 5), max_size=30),
)
def test_compiled_scanners_on_random_bytes(
    log_type: str, lines: list[bytes], ordinary: list[int]
) -> None:
    # Random bytes between ordinary entries: the scanners see garbage as lines and as next lines.
    plain = [line for line in GENERATED[log_type] if line[:1].isdigit()][:6]
    mixed = [plain[i % len(plain)] for i in ordinary] + lines
    random.Random(len(lines)).shuffle(mixed)
    raw = b"\n".join(mixed) + b"\n"
    with implementation("compiled"):
        fast = _run(parser_for(log_type, 0, 200), raw, [len(raw) // 2])
    assert fast == _run(_per_line(log_type, 0, 200), raw, [len(raw) // 2])


@pytest.mark.parametrize("log_type", ["error", "general", "audit"])
def test_every_odd_line_between_ordinary_entries(log_type: str) -> None:
    # Deterministic where the property test samples: each odd line, alone and twice, between
    # ordinary entries of the format, so the scanners meet it as a line and as a next line.
    ordinary = [line for line in GENERATED[log_type] if line[:1].isdigit()][:3]
    for odd in ODD:
        lines = [ordinary[0], odd, ordinary[1], odd, odd, ordinary[2]]
        raw = b"\n".join(lines) + b"\n"
        for limit in (40, 1 << 20):
            with implementation("compiled"):
                fast = _run(parser_for(log_type, 0, limit), raw, [])
            assert fast == _run(_per_line(log_type, 0, limit), raw, []), odd


@pytest.mark.parametrize("log_type", ["error", "general", "audit"])
def test_whole_buffer_pass_on_a_large_generated_log(log_type: str) -> None:
    buf = io.BytesIO()
    WRITERS[log_type](buf, 300_000, seed=11)
    raw = buf.getvalue()
    cuts = list(range(0, len(raw), 65_537))
    with implementation("compiled"):
        fast = _run(parser_for(log_type), raw, cuts)
    assert fast == _run(_per_line(log_type, 0, 1 << 20), raw, cuts)


def test_audit_ids_that_are_not_plain_digits_are_null_not_internal_errors() -> None:
    parser = parser_for("audit")
    raw = ("1703817810074458,h,u,h,\u00b2,2,QUERY,db,'x',\u00b2\n").encode()
    (event,) = parser.feed(raw) + parser.flush()
    assert parser.stats.internal_errors == 0
    assert event.parse_error is False
    assert event.fields["connectionid"] is None
    assert event.fields["queryid"] == 2
    assert event.fields["retcode"] is None


def _mask_every_pattern(text: str) -> str:
    """Masking without the shortcuts: every pattern over any text."""
    from processor.parsers.masking import _URL_PASSWORD, MASK

    text = _URL_PASSWORD.sub(r"\1" + MASK, text)
    if "'" not in text and '"' not in text:
        return text  # by design: the other forms are masked in text holding a literal
    for _words, pattern in _PATTERNS:
        text = pattern.sub(_replace_value if pattern.groups == 2 else _replace, text)
    return _mask_call_arguments(text)


TOKENS = [
    "password",
    "PASSWORD",
    "Passwords",
    "master_password",
    "identified",
    "IDENTIFIED",
    " by ",
    " AS ",
    " with ",
    "replace",
    "SET",
    "set",
    "(",
    ")",
    ",",
    "'",
    "''",
    '"',
    "\\",
    "=",
    " ",
    "x",
    "é",
    "\n",
    ";",
    "AES_ENCRYPT",
    "decode",
    "hex",
    "pgp_sym_decrypt",
    "crypt",
    "mysql.rds_set_external_master",
    "pg://u:",
    "@",
    "/",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=20))
def test_masking_shortcuts_change_nothing(tokens: list[str]) -> None:
    text = "".join(tokens)
    assert mask_secrets(text) == _mask_every_pattern(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*TOKENS, "pass", "word", "identif", "ied", "cryp", "t"])))
def test_text_without_a_trigger_word_is_never_changed(tokens: list[str]) -> None:
    # What lets the compiled scanners skip `mask_secrets` on a line without a trigger word.
    text = "".join(tokens)
    if not any(word in text.lower() for word in TRIGGER_WORDS):
        assert mask_secrets(text) is text
