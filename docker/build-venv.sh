#!/bin/sh
# The Python part of both images' build stage, shared with tests/deploy so that what the test
# proves is what the image runs: build the wheel with the compiled log scanners required (a
# missing compiler fails the build instead of shipping parsers at a third of their speed), then
# install it with its pinned dependencies into a fresh virtual environment at $1.
#   usage: docker/build-venv.sh VENV_DIR [SOURCE_DIR]
set -eu
venv="$1"
src="${2:-.}"
python="${PYTHON:-python3}"
wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
AURORA_REQUIRE_COMPILED=1 "$python" -m pip wheel --no-deps --wheel-dir "$wheels" "$src"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --no-compile "$wheels"/aurora_log_system-*.whl
# Byte-compile once here: the image's root filesystem is read-only at run time.
"$venv/bin/python" -m compileall -q "$venv/lib"
