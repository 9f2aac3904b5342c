"""`python -m devstack.openobserve`: the OpenObserve emulator on one loopback port.

Limits default to the server's environment variables (`ZO_PAYLOAD_LIMIT`,
`ZO_INGEST_ALLOWED_UPTO`, `ZO_INGEST_ALLOWED_IN_FUTURE`, `ZO_COLS_PER_RECORD_LIMIT`,
`ZO_INGEST_FLATTEN_LEVEL`, `ZO_QUERY_DEFAULT_LIMIT`, `ZO_FEATURE_FULLTEXT_EXTRA_FIELDS`,
`ZO_DEFAULT_MAX_QUERY_RANGE_DAYS`), so a
test can start the emulator the way it would configure a real server.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
from pathlib import Path

import structlog
from aiohttp import web

from common.logging import configure_logging
from devstack.openobserve.app import Emulator, Options
from devstack.openobserve.auth import Credentials, load_passcode
from devstack.openobserve.faults import DEFAULT_PAYLOAD_LIMIT, Faults, FaultState
from devstack.openobserve.sql import DEFAULT_FULLTEXT_FIELDS
from devstack.openobserve.store import Store

log = structlog.get_logger(__name__)


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m devstack.openobserve", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5080)
    p.add_argument("--data-dir", type=Path, required=True, help="kept across restarts")
    p.add_argument("--user", default="root@example.com", help="root user's e-mail")
    p.add_argument("--password", required=True, help="root user's password")
    p.add_argument("--passcode", default=None, help="ingestion passcode (default: generated)")
    p.add_argument(
        "--payload-limit",
        type=int,
        default=int(_env("ZO_PAYLOAD_LIMIT", str(DEFAULT_PAYLOAD_LIMIT))),
    )
    p.add_argument(
        "--ingest-allowed-upto",
        type=float,
        default=float(_env("ZO_INGEST_ALLOWED_UPTO", "5")),
        help="hours",
    )
    p.add_argument(
        "--ingest-allowed-in-future",
        type=float,
        default=float(_env("ZO_INGEST_ALLOWED_IN_FUTURE", "24")),
        help="hours",
    )
    p.add_argument("--cols-limit", type=int, default=int(_env("ZO_COLS_PER_RECORD_LIMIT", "1000")))
    p.add_argument("--flatten-level", type=int, default=int(_env("ZO_INGEST_FLATTEN_LEVEL", "3")))
    p.add_argument(
        "--query-default-limit", type=int, default=int(_env("ZO_QUERY_DEFAULT_LIMIT", "1000"))
    )
    p.add_argument(
        "--max-query-range-days",
        type=float,
        default=float(_env("ZO_DEFAULT_MAX_QUERY_RANGE_DAYS", "0")),
        help="every stream's max query range (0: none); the fault max_query_range_hours",
    )
    p.add_argument(
        "--index-fields",
        default="batch_id",
        help="fields given an SQLite index (a stream's secondary index fields)",
    )
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    args.data_dir.mkdir(parents=True, exist_ok=True)
    extra = [f.strip() for f in _env("ZO_FEATURE_FULLTEXT_EXTRA_FIELDS", "").split(",")]
    options = Options(
        flatten_level=args.flatten_level,
        query_default_limit=args.query_default_limit,
        fulltext_fields=DEFAULT_FULLTEXT_FIELDS + tuple(f for f in extra if f),
    )
    faults = FaultState(
        Faults(
            payload_limit=args.payload_limit,
            ingest_allowed_upto_hours=args.ingest_allowed_upto,
            ingest_allowed_in_future_hours=args.ingest_allowed_in_future,
            cols_limit=args.cols_limit,
            max_query_range_hours=args.max_query_range_days * 24,
        )
    )
    creds = Credentials(args.user, args.password, load_passcode(args.data_dir, args.passcode))
    index_fields = [f.strip() for f in args.index_fields.split(",") if f.strip()]
    emulator = Emulator(Store(args.data_dir, index_fields), faults, creds, options)
    # Bodies are decompressed by us, under the payload limit, and counted on the wire.
    runner = web.AppRunner(emulator.app(), access_log=None, auto_decompress=False)
    await runner.setup()
    await web.TCPSite(runner, args.host, args.port).start()
    # A request allocates ~10k containers per MB that all live until it is written, so the
    # default thresholds (700) run collections over them over and over: what is loaded at start
    # is left out of every collection, and the young generation is collected far less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    log.info(
        "openobserve_emulator_started", host=args.host, port=args.port, data=str(args.data_dir)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        emulator.close()
        log.info("openobserve_emulator_stopped")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging(args.log_level, "json")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
