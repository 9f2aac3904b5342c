"""`python -m devstack.demo [options]` (what `make demo ARGS="..."` runs)."""

from __future__ import annotations

import sys

from devstack.demo.run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
