"""`aurora-processor parse|fingerprint`, run as the installed console script."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.parsers.helpers import SAMPLES, as_records, parse_all, sample


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("aurora-processor")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("aurora-processor")
    return [found] if found else [sys.executable, "-m", "processor.cli"]


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*_cli(), *args], input=stdin, capture_output=True, check=False, timeout=60
    )


def _ndjson(out: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.decode().splitlines()]


def test_parse_file_prints_the_events_as_ndjson() -> None:
    res = _run("parse", "--log-type", "slowquery", str(SAMPLES / "slowquery.log"))
    assert res.returncode == 0, res.stderr
    assert _ndjson(res.stdout) == json.loads(
        json.dumps(as_records(parse_all("slowquery", sample("slowquery"))))
    )
    summary = json.loads(res.stderr.decode().strip().splitlines()[-1])
    assert summary["events"] == 7
    assert summary["skipped_header_lines"] == 6


def test_parse_gzip_and_stdin_give_the_same_events(tmp_path: Path) -> None:
    gz = tmp_path / "postgresql.log.gz"
    gz.write_bytes(gzip.compress(sample("postgresql")))
    from_gz = _run("parse", "--log-type", "postgresql", str(gz))
    from_stdin = _run("parse", "--log-type", "postgresql", "-", stdin=sample("postgresql"))
    assert from_gz.returncode == from_stdin.returncode == 0
    assert from_gz.stdout == from_stdin.stdout
    assert len(_ndjson(from_gz.stdout)) == 9


def test_fingerprint_prints_fingerprint_and_query_id() -> None:
    res = _run("fingerprint", "SELECT * FROM t1 WHERE a IN (1,2,3) AND b='x'")
    assert res.returncode == 0
    assert res.stdout.decode().splitlines() == [
        "fingerprint: select * from t? where a in(?+) and b=?",
        "query_id: 790638D811E7AF476E771B562DC921E8",
    ]


def test_fingerprint_json_and_pg() -> None:
    res = _run("fingerprint", "--pg", "--json", "SELECT * FROM t WHERE id IN (1, 2)")
    assert json.loads(res.stdout)["fingerprint"] == "select * from t where id in (...);"


@pytest.mark.parametrize(
    "args", [("parse", "--log-type", "nope", "x"), ("parse", "--log-type", "error", "/no/such")]
)
def test_bad_usage_is_a_clear_error(args: tuple[str, ...]) -> None:
    res = _run(*args)
    assert res.returncode == 2
    assert res.stderr.strip()


def test_a_truncated_gzip_keeps_what_was_read_says_why_and_fails(tmp_path: Path) -> None:
    raw = sample("general") * 200
    whole = gzip.compress(raw)
    gz = tmp_path / "general.log.gz"
    gz.write_bytes(whole[: len(whole) * 2 // 3])
    res = _run("parse", "--log-type", "general", str(gz))
    assert res.returncode == 1
    stderr = res.stderr.decode()
    assert "Traceback" not in stderr
    assert "damaged" in stderr and "general.log.gz" in stderr
    summary = json.loads(stderr.splitlines()[-2])
    read = summary["bytes"]
    assert 0 < read < len(raw)
    # Exactly the events of the bytes read before the damage, the last partial line included.
    assert _ndjson(res.stdout) == json.loads(
        json.dumps(as_records(parse_all("general", raw[:read])))
    )
    assert summary["events"] == len(_ndjson(res.stdout))


def test_a_corrupt_gzip_is_a_clear_error(tmp_path: Path) -> None:
    gz = tmp_path / "x.log.gz"
    gz.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
    res = _run("parse", "--log-type", "error", str(gz))
    assert res.returncode == 1
    assert res.stdout == b""
    assert "damaged" in res.stderr.decode() and "Traceback" not in res.stderr.decode()


def test_pure_python_logs_to_stderr_and_stdout_is_only_ndjson() -> None:
    env = {**os.environ, "AURORA_PARSERS_PURE": "1"}
    res = subprocess.run(
        [*_cli(), "parse", "--log-type", "error", str(SAMPLES / "error.log")],
        capture_output=True,
        check=False,
        timeout=60,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    records = _ndjson(res.stdout)
    assert len(records) == len(parse_all("error", sample("error")))
    assert all("offset" in r for r in records)
    assert "parser_scanners_disabled" in res.stderr.decode()


def test_line_separators_in_events_are_escaped_in_the_ndjson() -> None:
    # U+2028, U+2029 and U+0085 are not JSON control characters: json.dumps leaves them raw.
    breaks = "\u2028 \u2029 \u0085"
    log = f"2023-11-28T09:13:22.104678Z 0 [Note] [MY-1] [Server] a{breaks}b\n".encode()
    res = _run("parse", "--log-type", "error", "-", stdin=log * 3)
    assert res.returncode == 0
    text = res.stdout.decode()
    assert not any(c in text for c in "\u2028\u2029\u0085")
    lines = text.splitlines()  # splitlines breaks at each of them: none is left raw
    assert len(lines) == 3
    assert [json.loads(line)["message"] for line in lines] == [f"a{breaks}b"] * 3
