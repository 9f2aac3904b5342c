"""OpenObserve's ingestion window as the client sees it, and what to do with events outside it.

The server counts an event older than `now - ZO_INGEST_ALLOWED_UPTO` (or later than
`now + ZO_INGEST_ALLOWED_IN_FUTURE`) as `failed` inside a 200. The client finds such events
before sending (with a safety margin) and applies `openobserve_old_events`: `ingest_time` sends
them with `_timestamp` = now (the real time stays in `event_time`), `s3_only` keeps them out of
OpenObserve and tells the caller, who has them in the S3 archive.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.settings import OpenObserveSettings

HOUR_US = 3_600_000_000
TOO_OLD_PREFIX = "Too old data"
TOO_FAR_PREFIX = "Too far data"


@dataclass(frozen=True)
class Window:
    upto_us: int
    future_us: int
    margin_us: int

    @classmethod
    def from_settings(cls, settings: OpenObserveSettings) -> Window:
        return cls(
            int(settings.openobserve_ingest_window_hours * HOUR_US),
            int(settings.openobserve_ingest_future_hours * HOUR_US),
            int(settings.openobserve_window_margin_sec * 1_000_000),
        )

    def outside(self, timestamp_us: int, now_us: int) -> bool:
        """True when the server may refuse this timestamp by the time it receives it."""
        low = now_us - self.upto_us + self.margin_us
        high = now_us + self.future_us - self.margin_us
        return timestamp_us < low or timestamp_us > high

    def suspect(self, timestamp_us: int, now_us: int, server_error: str) -> bool:
        """After the server said some records were out of its window (its window may be smaller
        than configured): is this event, one of those missing, plausibly one of them?"""
        if server_error.startswith(TOO_OLD_PREFIX):
            return timestamp_us < now_us - self.margin_us
        if server_error.startswith(TOO_FAR_PREFIX):
            return timestamp_us > now_us + self.margin_us
        return False
