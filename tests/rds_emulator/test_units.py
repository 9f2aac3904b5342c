"""Pure logic of the emulator, in process: token buckets, the clock, SigV4 checking against
botocore's signers, the portion marker loop over arbitrary page sizes, determinism, formats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from devstack.rds.clock import Clock
from devstack.rds.config import Config
from devstack.rds.logapi import find_view
from devstack.rds.portions import TRUNCATED, portion
from devstack.rds.sigv4 import SignatureError, verify
from devstack.rds.state import Emulator
from devstack.rds.store import audit_file_count
from devstack.rds.throttle import Throttle

START = 1795429800.0  # 2026-11-23T10:30:00Z


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize(
    ("burst", "rate", "steps", "expected"),
    [
        (3, 1.0, [0, 0, 0, 0], [True, True, True, False]),
        (1, 2.0, [0, 0, 0.5, 0], [True, False, True, False]),
        (2, 12.0, [0, 0, 0, 0.1, 0], [True, True, False, True, False]),
        (0, 1.0, [0], [False]),
    ],
)
def test_token_bucket(burst: float, rate: float, steps: list[float], expected: list[bool]) -> None:
    clock = FakeTime()
    t = Throttle(burst, rate, monotonic=clock)
    got = []
    for dt in steps:
        clock.t += dt
        got.append(t.allow("acct", "eu-west-1", "DescribeDBLogFiles"))
    assert got == expected


def test_buckets_are_per_region_and_complete_download_is_exempt() -> None:
    clock = FakeTime()
    t = Throttle(1, 0.001, monotonic=clock)
    assert t.allow("a", "eu-west-1", "DescribeDBLogFiles")
    assert not t.allow("a", "eu-west-1", "DownloadDBLogFilePortion")
    assert t.allow("a", "us-east-1", "DownloadDBLogFilePortion")
    assert all(t.allow("a", "eu-west-1", "DownloadCompleteDBLogFile") for _ in range(10))


def test_clock_speed_freeze_and_advance() -> None:
    real = FakeTime()
    c = Clock(1000.0, 60.0, monotonic=real)
    real.t = 2.0
    assert c.now() == 1120.0
    c.set_speed(0)
    real.t = 100.0
    assert c.now() == 1120.0
    c.advance(3600)
    assert c.now() == 4720.0
    with pytest.raises(ValueError):
        c.advance(-1)


# Log file names as RDS has them: path segments that never are "." or ".." nor empty.
_names = st.from_regex(
    r"[a-z0-9][a-z0-9._-]{0,15}(/[a-z0-9][a-z0-9._-]{0,15}){0,2}", fullmatch=True
)


@settings(max_examples=60, deadline=None)
@given(instance=st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True), name=_names,
       presign=st.booleans(), region=st.sampled_from(["us-east-1", "eu-west-1", "ap-south-2"]))  # fmt: skip
def test_sigv4_accepts_botocore_signatures(
    instance: str, name: str, presign: bool, region: str
) -> None:
    url = f"http://127.0.0.1:9999/v19/downloadCompleteLogFile/{instance}/{name}"
    req = AWSRequest(method="GET", url=url)
    creds = Credentials("testing", "testing")
    signer = SigV4QueryAuth(creds, "rds", region) if presign else SigV4Auth(creds, "rds", region)
    signer.add_auth(req)
    prepared = req.prepare()
    path, _, query = prepared.url.split("127.0.0.1:9999", 1)[1].partition("?")
    headers = {"Host": "127.0.0.1:9999", **dict(req.headers.items())}
    who = verify("GET", path, query, headers, b"", {"testing": "testing"})
    assert who.region == region and who.access_key == "testing"
    with pytest.raises(SignatureError):
        verify("GET", path, query, headers, b"", {"testing": "other"})
    with pytest.raises(SignatureError):
        verify("GET", path + "x", query, headers, b"", {"testing": "testing"})


def test_sigv4_rejects_unsigned_and_unknown_keys() -> None:
    with pytest.raises(SignatureError, match="not signed"):
        verify("GET", "/v19/x/y", "", {}, b"", {"testing": "testing"})
    req = AWSRequest(method="GET", url="http://h/v19/downloadCompleteLogFile/i/f")
    SigV4Auth(Credentials("AKIAOTHER", "s"), "rds", "us-east-1").add_auth(req)
    with pytest.raises(SignatureError, match="unknown access key"):
        verify("GET", "/v19/downloadCompleteLogFile/i/f", "", {"Host": "h", **dict(req.headers)},
               b"", {"testing": "testing"})  # fmt: skip


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Emulator:
    config = Config(data_dir=tmp_path_factory.mktemp("emu"), instances=12, seed=2, mysql_fraction=0.5,
                    start_time=START, clock_speed=0.0, busy_fraction=1.0, rate_scale=3.0,
                    logging="all", profile="happy")  # fmt: skip
    return Emulator(config)


def _instance(emu: Emulator, engine: str) -> str:
    return next(i for i, x in sorted(emu.fleet.instances.items())
                if x.engine == engine and x.status == "available")  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(
    pages=st.lists(st.integers(min_value=1, max_value=12000), min_size=1, max_size=8).filter(
        lambda p: sum(p) / len(p) > 1500
    )
)
def test_marker_loop_rebuilds_any_file(emu: Emulator, pages: list[int]) -> None:
    iid = _instance(emu, "aurora-postgresql")
    logs = emu.store.get(iid, START)
    assert logs is not None
    for f in logs.listed(START):
        view = find_view(emu, logs, f.listed_name, START)
        marker, out, i = "0", [], 0
        while True:
            p = portion(emu, logs, view.file, marker, pages[i % len(pages)])
            i += 1
            data = p.data or b""
            out.append(data[: -len(TRUNCATED)] if data.endswith(TRUNCATED) else data)
            marker = p.marker
            if not p.pending:
                break
        assert b"".join(out) == f.path.read_bytes()
        assert len(b"".join(out)) == f.size


def test_generation_is_deterministic(tmp_path: Path) -> None:
    def build(seed: int, where: str) -> dict[str, bytes]:
        c = Config(data_dir=tmp_path / where, instances=3, seed=seed, start_time=START,
                   clock_speed=0.0, busy_fraction=1.0, profile="happy")  # fmt: skip
        e = Emulator(c)
        out = {}
        for iid in sorted(e.fleet.instances):
            logs = e.store.get(iid, START + 900)
            assert logs is not None
            out.update({f"{iid}/{f.name}": f.path.read_bytes() for f in logs.all_files()})
        return out

    a, b, c = build(5, "a"), build(5, "b"), build(6, "c")
    assert a == b
    assert a != c
    assert sum(len(v) for v in a.values()) > 100_000


PG_PREFIX = re.compile(
    rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC:[^:]*:[^@]*@[^:]*:\[\d+\]:"
    rb"(LOG|ERROR|FATAL|DETAIL|STATEMENT|WARNING|HINT):  "
)


def test_log_formats(emu: Emulator) -> None:
    pg = emu.store.get(_instance(emu, "aurora-postgresql"), START)
    my = emu.store.get(_instance(emu, "aurora-mysql"), START)
    assert pg is not None and my is not None
    pg_text = b"".join(f.path.read_bytes() for f in pg.all_files())
    for line in pg_text.split(b"\n")[:-1]:
        assert line.startswith(b"\t") or PG_PREFIX.match(line), line
    assert b"\n\t" in pg_text  # continuation lines of multi-line statements
    files = {f.name.split("/")[0]: f for f in my.all_files() if f.size}
    slow = files["slowquery"].path.read_bytes()
    assert slow.count(b"started with:\nTcp port: 3306") >= 2
    assert slow.count(b"# Query_time: ") > 20 and b"SET timestamp=" in slow
    assert re.search(rb"\n  FROM orders o\n", slow)
    audit = [f for f in my.all_files() if f.log_type == "audit" and f.size]
    assert len({f.name.split(".")[2] for f in audit}) == audit_file_count(my.inst.instance_class)
    for line in audit[0].path.read_bytes().split(b"\n")[:-1]:
        assert re.match(rb"^\d{16},[^,]+,[^,]*,[^,]*,\d+,\d+,[A-Z_]+,", line), line
    error = b"".join(f.path.read_bytes() for f in my.all_files() if f.log_type == "error")
    assert re.search(rb"Z \d+ \[(Note|Warning|ERROR|System)\] ", error)
    assert b"server_audit: Audit STARTED." in error or b"rdsdbdata/log" in error
    assert b"*** (1) TRANSACTION:\nTRANSACTION " in error
