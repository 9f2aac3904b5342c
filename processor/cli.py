"""`aurora-processor`: the processor's command line.

    aurora-processor run                               # the service (processor/commands.py)
    aurora-processor stats | verify [--since 24h]
    aurora-processor parse --log-type slowquery FILE   # FILE may be `-` (stdin) or a .gz
    aurora-processor fingerprint "SELECT * FROM t WHERE id = 5"

`parse` prints one JSON object per event (NDJSON) and a summary on stderr; `fingerprint` prints
pt-query-digest's fingerprint and query id of a MySQL statement (`--pg` for pgbadger's
normalisation of a PostgreSQL one). Logs go to stderr: stdout holds only the output.

Exit codes: 0 done; 1 the input is damaged (a truncated or corrupt .gz: the events of the bytes
read before the damage are printed, then the reason on stderr); 2 bad usage or an unreadable file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, cast

from common.logging import configure_logging
from processor.parsers import LOG_TYPES, fingerprint, fingerprint_pg, mask_secrets, parser_for

CHUNK_BYTES = 1 << 20
EXIT_DAMAGED_INPUT = 1
Command = Callable[[argparse.Namespace], int]
# What gzip raises on a truncated or corrupt stream (BadGzipFile is an OSError).
_DAMAGED = (EOFError, gzip.BadGzipFile, zlib.error)
# Characters JSON leaves raw that line-based readers take as line ends (str.splitlines, many
# editors and JavaScript before ES2019): NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR. Control
# characters below U+0020 (VT, FF, FS, GS, RS among them) are escaped by json itself.
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def ndjson_line(record: dict[str, Any]) -> str:
    """One JSON object on one line (UTF-8 text kept, line separators escaped), with its newline."""
    line = json.dumps(record, ensure_ascii=False)
    if not line.isascii():
        line = line.translate(_LINE_BREAKS)
    return line + "\n"


class _Input(Protocol):
    def read1(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


@contextmanager
def _open_input(path: str) -> Iterator[_Input]:
    if path == "-":
        # Typed BinaryIO, but a BufferedReader (which has read1) in any real process.
        yield cast(_Input, sys.stdin.buffer)
        return
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield unzipped
        else:
            yield raw


def _cmd_parse(args: argparse.Namespace) -> int:
    configure_logging("INFO", "console", stream=sys.stderr)
    parser = parser_for(args.log_type, args.offset, args.max_line_bytes)
    write = sys.stdout.write
    count = 0
    damage: Exception | None = None
    with _open_input(args.file) as stream:
        # stdin is taken to start at --offset already; a file is read from there.
        if args.offset and args.file != "-":
            stream.seek(args.offset)
        try:
            # read1: one read of the underlying stream at a time, so that damage found by a
            # later read cannot take with it the bytes decompressed before (read() would).
            while chunk := stream.read1(CHUNK_BYTES):
                for event in parser.feed(chunk):
                    write(ndjson_line(event.to_dict()))
                    count += 1
        except _DAMAGED as exc:
            # Keep what was read: the bytes before the damage are real log lines.
            damage = exc
        for event in parser.flush():
            write(ndjson_line(event.to_dict()))
            count += 1
    s = parser.stats
    summary: dict[str, Any] = {
        "events": count,
        "parse_errors": s.parse_errors,
        "truncated_lines": s.truncated_lines,
        "invalid_utf8": s.invalid_utf8,
        "skipped_header_lines": s.skipped_header_lines,
        "blank_lines": s.blank_lines,
        "bytes": s.bytes_seen,
    }
    if damage is not None:
        summary["error"] = f"damaged input: {damage}"
    sys.stdout.flush()
    print(json.dumps(summary), file=sys.stderr)
    if damage is not None:
        print(
            f"aurora-processor: {args.file}: the compressed input is damaged ({damage}); "
            f"the {count} events of the {s.bytes_seen} bytes read before it were printed",
            file=sys.stderr,
        )
        return EXIT_DAMAGED_INPUT
    return 0


def _cmd_fingerprint(args: argparse.Namespace) -> int:
    configure_logging("INFO", "console", stream=sys.stderr)
    sql: str = args.sql
    if args.pg:
        fp, qid = fingerprint_pg(sql)
    else:
        fp, qid = fingerprint(sql)
    if args.json:
        print(json.dumps({"fingerprint": mask_secrets(fp), "query_id": qid}, ensure_ascii=False))
    else:
        print(f"fingerprint: {mask_secrets(fp)}")
        print(f"query_id: {qid}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; each subcommand sets `func`. The service's own subcommands (`run`,
    `stats`) are registered in `_add_service_commands`."""
    ap = argparse.ArgumentParser(prog="aurora-processor", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("parse", help="parse a log file and print its events as NDJSON")
    p.add_argument("--log-type", required=True, choices=LOG_TYPES)
    p.add_argument("file", metavar="FILE", help="log file, `-` for stdin; .gz is decompressed")
    p.add_argument(
        "--offset", type=int, default=0, help="start at this byte offset (an entry boundary)"
    )
    p.add_argument("--max-line-bytes", type=int, default=1 << 20, help="truncate longer lines")
    p.set_defaults(func=_cmd_parse)

    f = sub.add_parser("fingerprint", help="print pt-query-digest's fingerprint and query id")
    f.add_argument("sql", metavar="SQL")
    f.add_argument("--pg", action="store_true", help="PostgreSQL normalisation, as pgbadger's")
    f.add_argument("--json", action="store_true", help="print one JSON object")
    f.set_defaults(func=_cmd_fingerprint)

    _add_service_commands(sub)
    return ap


def _add_service_commands(sub: Any) -> None:
    """The service's subcommands (`run`, `stats`, `verify`): processor/commands.py."""
    from processor.commands import add_commands  # the service's imports, not the parser's

    add_commands(sub)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except BrokenPipeError:
        # `aurora-processor parse … | head` closes stdout early; that is not an error.
        sys.stderr.close()
        return 0
    except OSError as exc:
        print(f"aurora-processor: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
