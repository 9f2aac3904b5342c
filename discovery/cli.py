"""`aurora-discovery run|once|stats`: the discovery daemon (fleet listing, change detection)."""

from __future__ import annotations

import argparse
import sys

NOT_BUILT = (
    "aurora-discovery: the discovery service is not built in this version yet; "
    "the local stack (`aurora-devstack up`) and the emulators are."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aurora-discovery", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="poll the fleet forever, publishing log-file messages")
    sub.add_parser("once", help="one discovery cycle, then exit")
    sub.add_parser("stats", help="what discovery knows: instances, files, lag")
    parser.parse_args(argv)
    print(NOT_BUILT, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
