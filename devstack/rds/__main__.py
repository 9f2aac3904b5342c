"""`python -m devstack.rds --host 127.0.0.1 --port PORT --data-dir DIR [options]`."""

from __future__ import annotations

import asyncio
import signal
import sys

import structlog
from aiohttp import web

from common.logging import configure_logging
from devstack.rds.app import build_app
from devstack.rds.config import parse_args
from devstack.rds.state import Emulator


async def serve(argv: list[str]) -> None:
    config = parse_args(argv)
    configure_logging(config.log_level, "json")
    log = structlog.get_logger("devstack.rds")
    config.data_dir.mkdir(parents=True, exist_ok=True)
    emu = Emulator(config)
    runner = web.AppRunner(build_app(emu), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, backlog=1024)
    await site.start()
    log.info(
        "rds_emulator_ready",
        host=config.host,
        port=config.port,
        instances=len(emu.fleet.instances),
        seed=config.seed,
        clock_speed=config.clock_speed,
        profile=config.profile,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("rds_emulator_stopping")
    await runner.cleanup()


def main() -> None:
    asyncio.run(serve(sys.argv[1:]))


if __name__ == "__main__":
    main()
