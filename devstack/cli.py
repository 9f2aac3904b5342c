"""`aurora-devstack up|down|status|env`: the local stack from a shell."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from common.logging import configure_logging
from devstack.procs import ReadinessTimeout
from devstack.stack import HOST, Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aurora-devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start every local server, wait until ready, provision; return")
    sub.add_parser("down", help="stop every local server; leaves no process behind")
    sub.add_parser("status", help="each server's pid, port and whether it is alive (JSON)")
    sub.add_parser("env", help="KEY=VALUE lines pointing the services at the stack")
    args = parser.parse_args(argv)
    configure_logging("WARNING", "console")
    stack = Stack()
    if args.command == "up":
        try:
            state = stack.up()
        except ReadinessTimeout as exc:
            print(f"aurora-devstack: {exc}", file=sys.stderr)
            return 1
        for name, server in state.servers.items():
            print(f"{name:12} {HOST}:{server.port:<18} pid {server.pid:<8} log {server.log}")
        for name in stack.missing():
            print(f"{name:12} not started: its emulator is not built in this checkout yet")
        print(f"state in {stack.root}; `aurora-devstack env` prints the variables")
    elif args.command == "down":
        stopped = stack.down()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    elif args.command == "status":
        print(json.dumps(stack.status(), indent=2))
    else:
        for key, value in stack.env().items():
            print(f"{key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
