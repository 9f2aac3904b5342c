"""Bad input: a file name the system does not follow, or one that looks followed but does not
parse, is logged once per instance and skipped; a malformed fleet entry is logged once and left
out; the rest of the answer is used."""

from __future__ import annotations

from typing import Any

from structlog.testing import capture_logs

from common.settings import DiscoverySettings
from discovery.fleet import FleetLister, Instance, _compact_instance
from discovery.listing import LogFileLister

INST = Instance(
    "123456789012", "us-east-1", "db1", "db-RID", "c1", "aurora-mysql", "8.0", "available",
    "db.r6g.large", True, {}, "pg", (),
)  # fmt: skip
RAW = [
    ["error/mysql-error.log", 0, 1],  # known, never followed: silent
    ["external/mysql-external.log", 10, 1],  # unknown
    ["slowquery/mysql-slowquery.log.2026-13-01.05", 10, 1],  # looks followed, bad date
    ["slowquery/mysql-slowquery.log", 10, 1_764_000_000_000],
]


def test_unknown_and_unparsable_names_logged_once_and_skipped() -> None:
    lister = LogFileLister(None, None, 60)  # type: ignore[arg-type]
    with capture_logs() as logs:
        for _ in range(3):
            found = lister._sightings(INST, RAW)
            assert [s.name for s in found] == ["slowquery/mysql-slowquery.log"]
    events = [(e["event"], e["log_file_name"]) for e in logs]
    assert events == [
        ("log_file_not_followed", "external/mysql-external.log"),
        ("log_file_name_unparsable", "slowquery/mysql-slowquery.log.2026-13-01.05"),
    ]
    assert all(e["instance_id"] == "db1" for e in logs)


class Pages:
    """Serves fixed pages in place of RdsApi.pages (a malformed answer no server here gives)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    async def pages(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        return self.items


async def test_malformed_instance_logged_once_and_left_out() -> None:
    good = {"DBInstanceIdentifier": "ok", "DbiResourceId": "db-1", "Engine": "aurora-mysql"}
    bad = {"DBInstanceIdentifier": "broken", "Engine": "aurora-mysql"}  # no DbiResourceId
    lister = FleetLister(
        Pages([good, bad]), None, frozenset({"aurora-mysql"}), DiscoverySettings(), "r", 1
    )  # type: ignore[arg-type]
    with capture_logs() as logs:
        for _ in range(2):
            out = await lister._load(
                "DescribeDBInstances",
                "DBInstances",
                _compact_instance,
            )
            assert [i["id"] for i in out] == ["ok"]
    assert [(e["event"], e["item"]) for e in logs] == [("rds_answer_malformed", "broken")]
