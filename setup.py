"""Builds the compiled modules: `processor.parsers._scan` (error, general and audit scanners),
`_slowlog` (the slow log's scanner and fingerprint) and `_pg` (the PostgreSQL parser and
pgbadger's normalisation); the rest is in pyproject.toml.

The parsers work without it, in pure Python at about a third of the speed (the gauge
`aurora_parser_compiled_scanners` is 0 then, and the log says why), so a machine without a C
compiler can still install and run the services: a failed build is a warning, not an error,
unless AURORA_REQUIRE_COMPILED=1 (set it where speed matters, e.g. in an image build).
"""

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError)


class OptionalBuildExt(build_ext):
    """`build_ext` that warns instead of failing when the extension cannot be compiled."""

    def initialize_options(self) -> None:
        super().initialize_options()
        self.skipped: set[str] = set()  # file names of the extensions not built

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as exc:
            self._skipped(exc)
            self.skipped.add(os.path.basename(self.get_ext_fullpath(ext.name)))

    def copy_extensions_to_source(self) -> None:
        built = self.extensions
        self.extensions = [e for e in built if not self._was_skipped(self.get_ext_fullpath(e.name))]
        try:
            super().copy_extensions_to_source()
        finally:
            self.extensions = built

    def get_outputs(self) -> list[str]:
        return [out for out in super().get_outputs() if not self._was_skipped(out)]

    def get_output_mapping(self) -> dict[str, str]:
        mapping: dict[str, str] = super().get_output_mapping()
        return {k: v for k, v in mapping.items() if not self._was_skipped(k)}

    def _was_skipped(self, path: str) -> bool:
        return os.path.basename(path) in self.skipped

    @staticmethod
    def _skipped(exc: Exception) -> None:
        if os.environ.get("AURORA_REQUIRE_COMPILED") == "1":
            raise exc
        print(
            f"WARNING: the compiled log scanners were not built ({exc}); the parsers will run "
            "in pure Python, about a third of the speed. Install a C compiler and the Python "
            "headers, then reinstall.",
            file=sys.stderr,
        )


setup(
    cmdclass={"build_ext": OptionalBuildExt},
    ext_modules=cythonize(
        [
            Extension(
                "processor.parsers._scan",
                ["processor/parsers/_scan.pyx"],
                include_dirs=["processor/parsers"],  # _scan_event.h
                depends=[
                    "processor/parsers/_scan_event.h",
                    "processor/parsers/_scan_text.pxi",
                    "processor/parsers/_scan_time.pxi",
                ],
            ),
            Extension(
                "processor.parsers._slowlog",
                ["processor/parsers/_slowlog.pyx"],
                include_dirs=["processor/parsers"],  # _scan_event.h
                depends=[
                    "processor/parsers/_scan_event.h",
                    "processor/parsers/_slowlog_entries.pxi",
                    "processor/parsers/_slowlog_fingerprint.pxi",
                ],
            ),
            Extension(
                "processor.parsers._pg",
                ["processor/parsers/_pg.pyx"],
                include_dirs=["processor/parsers"],  # _scan_event.h
                depends=[
                    "processor/parsers/_pg_class.pxi",
                    "processor/parsers/_pg_lines.pxi",
                    "processor/parsers/_pg_normalize.pxi",
                    "processor/parsers/_pg_prefix.pxi",
                    "processor/parsers/_scan_event.h",
                ],
            ),
        ],
        compiler_directives={"language_level": "3"},
    ),
)
