"""`python -m devstack.s3faults --upstream http://127.0.0.1:MOTO [--port P]`: the S3 fault proxy."""

from __future__ import annotations

import argparse

from aiohttp import web

from common.logging import configure_logging
from devstack.s3faults.app import make_app


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m devstack.s3faults", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--upstream", required=True, help="moto server's URL")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    configure_logging(args.log_level, "json")
    web.run_app(make_app(args.upstream), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
