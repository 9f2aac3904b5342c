"""The demo's pass over the whole local stack: every parsed event is in OpenObserve, every file in S3."""

from __future__ import annotations

import zstandard

from common.aws import AwsClients
from common.log_types import LOG_TYPES
from common.settings import Settings
from devstack.preview import run_preview


async def test_preview_moves_every_event_once(settings: Settings) -> None:
    report = await run_preview(settings, per_engine=1)
    assert set(report.files) == set(LOG_TYPES)
    for log_type in report.files:
        assert report.events[log_type] > 0
        assert report.parse_errors[log_type] == 0
        assert report.failed[log_type] == 0
        assert report.delivered[log_type] == report.events[log_type]
        assert report.searched[log_type] == report.events[log_type]
    clients = AwsClients(settings.aws)
    async with clients.client("s3") as s3:
        listed = await s3.list_objects_v2(Bucket=settings.s3.s3_bucket, Prefix="raw/")
        keys = [o["Key"] for o in listed.get("Contents", [])]
        assert len(keys) >= report.s3_objects
        obj = await s3.get_object(Bucket=settings.s3.s3_bucket, Key=keys[0])
        async with obj["Body"] as body:
            raw = zstandard.ZstdDecompressor().decompressobj().decompress(await body.read())
    start, end = keys[0].rsplit(".", 2)[-2].split("-")
    assert len(raw) == int(end) - int(start)
