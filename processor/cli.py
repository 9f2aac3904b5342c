"""`aurora-processor`: the processor's command line.

    aurora-processor parse --log-type slowquery FILE   # FILE may be `-` (stdin) or a .gz
    aurora-processor fingerprint "SELECT * FROM t WHERE id = 5"

`parse` prints one JSON object per event (NDJSON) and a summary on stderr; `fingerprint` prints
pt-query-digest's fingerprint and query id of a MySQL statement (`--pg` for pgbadger's
normalisation of a PostgreSQL one).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from processor.parsers import LOG_TYPES, fingerprint, fingerprint_pg, mask_secrets, parser_for

CHUNK_BYTES = 1 << 20
Command = Callable[[argparse.Namespace], int]


class _Input(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


@contextmanager
def _open_input(path: str) -> Iterator[_Input]:
    if path == "-":
        yield sys.stdin.buffer
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
    parser = parser_for(args.log_type, args.offset, args.max_line_bytes)
    out = sys.stdout
    dumps = json.dumps
    count = 0
    with _open_input(args.file) as stream:
        # stdin is taken to start at --offset already; a file is read from there.
        if args.offset and args.file != "-":
            stream.seek(args.offset)
        while chunk := stream.read(CHUNK_BYTES):
            for event in parser.feed(chunk):
                out.write(dumps(event.to_dict(), ensure_ascii=False) + "\n")
                count += 1
        for event in parser.flush():
            out.write(dumps(event.to_dict(), ensure_ascii=False) + "\n")
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
    print(json.dumps(summary), file=sys.stderr)
    return 0


def _cmd_fingerprint(args: argparse.Namespace) -> int:
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
    """Place for the long-running service's subcommands (`run`, `stats`), added by the lead:
    `p = sub.add_parser("run", ...); p.set_defaults(func=...)`."""


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
