"""Every RDS query-API call of both services goes through `RdsApi.call`.

Why one door: each call spends the account's shared budget, so each takes a token from the
shared bucket first (common/rate_limit.py), is counted by operation and outcome, and a
`Throttling` answer penalises the bucket for every replica and is retried here with full-jitter
backoff (botocore's own retries are off for these clients: they would spend tokens unseen).

Errors (`retriable` says whether trying again later can help):

    RdsError
    ├── RdsThrottled      still `Throttling` after the retries (retriable)
    ├── RdsNotReady       `DBInstanceNotReady` (paused Serverless v2), `InvalidDBInstanceState`
    │                     (stopped, stopping, starting) (retriable)
    ├── RdsNotFound       instance, cluster, parameter group or log file not found
    ├── RdsMalformed      an answer without the fields the API promises
    └── RdsCallFailed     any other error answer or a transport failure (retriable if 5xx/transport)
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter as CallCounter
from collections import deque
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from prometheus_client import Counter

from common.rate_limit import Priority, RdsBucket, backoff_delay
from common.settings import RdsSettings

log = structlog.get_logger(__name__)

RDS_CALLS = Counter(
    "aurora_rds_api_calls_total", "RDS API calls by operation and outcome", ["operation", "outcome"]
)
RDS_THROTTLES = Counter(
    "aurora_rds_throttles_total", "RDS answers `Throttling` by operation", ["operation"]
)
THROTTLE_CODES = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded"})
NOT_FOUND_CODES = frozenset(
    {
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
        "DBClusterNotFoundFault",
        "DBLogFileNotFoundFault",
        "DBParameterGroupNotFound",
        "DBParameterGroupNotFoundFault",
        "DBClusterParameterGroupNotFound",
        "DBClusterParameterGroupNotFoundFault",
    }
)
# DBInstanceNotReady: a paused Serverless v2 instance; InvalidDBInstanceState: stopped/stopping.
NOT_READY_CODES = frozenset(
    {"DBInstanceNotReady", "DBInstanceNotReadyFault", "InvalidDBInstanceState"}
)


class RdsError(Exception):
    retriable = False

    def __init__(self, operation: str, message: str, code: str = "") -> None:
        super().__init__(f"{operation}: {message}")
        self.operation = operation
        self.code = code


class RdsThrottled(RdsError):
    retriable = True


class RdsNotReady(RdsError):
    retriable = True


class RdsNotFound(RdsError):
    pass


class RdsMalformed(RdsError):
    pass


class RdsCallFailed(RdsError):
    def __init__(self, operation: str, message: str, code: str = "", retriable: bool = True):
        super().__init__(operation, message, code)
        self.retriable = retriable


def _snake(operation: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", operation).lower()


class CallLog:
    """Calls of the last minutes, for `stats` (calls per minute by operation)."""

    def __init__(self, window_sec: float = 600.0) -> None:
        self._window = window_sec
        self._calls: deque[tuple[float, str, str]] = deque()

    def add(self, operation: str, outcome: str) -> None:
        now = time.monotonic()
        self._calls.append((now, operation, outcome))
        while self._calls and now - self._calls[0][0] > self._window:
            self._calls.popleft()

    def per_minute(self) -> dict[str, float]:
        now = time.monotonic()
        recent = [(op, oc) for t, op, oc in self._calls if now - t <= 60]
        return dict(CallCounter(op for op, _ in recent))

    def totals(self) -> dict[str, int]:
        return dict(CallCounter(f"{op}:{oc}" for _, op, oc in self._calls))


class RdsApi:
    """One account and region's RDS client behind the shared bucket."""

    def __init__(
        self,
        client: Any,
        bucket: RdsBucket,
        settings: RdsSettings,
        priority: Priority = Priority.DISCOVERY,
        calls: CallLog | None = None,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._settings = settings
        self._priority = priority
        self.calls = calls or CallLog()

    def use_client(self, client: Any) -> None:
        """Switch to a new client (fresh assumed-role credentials)."""
        self._client = client

    def _count(self, operation: str, outcome: str) -> None:
        RDS_CALLS.labels(operation, outcome).inc()
        self.calls.add(operation, outcome)

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call `operation` (e.g. "DescribeDBLogFiles") with `params`; the parsed answer."""
        method = getattr(self._client, _snake(operation))
        attempt = 0
        while True:
            await self._bucket.acquire(self._priority)
            try:
                response: dict[str, Any] = await method(**params)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = str(error.get("Code", ""))
                message = str(error.get("Message", exc))
                if code in THROTTLE_CODES:
                    self._count(operation, "throttled")
                    RDS_THROTTLES.labels(operation).inc()
                    await self._bucket.penalise()
                    if attempt >= self._settings.rds_throttle_retries:
                        raise RdsThrottled(operation, message, code) from exc
                    s = self._settings
                    await asyncio.sleep(
                        backoff_delay(attempt, s.rds_backoff_base_sec, s.rds_backoff_max_sec)
                    )
                    attempt += 1
                    continue
                self._count(operation, "error")
                raise _classify(operation, code, message, exc) from exc
            except (TimeoutError, BotoCoreError, OSError) as exc:
                self._count(operation, "error")
                raise RdsCallFailed(operation, f"{type(exc).__name__}: {exc}") from exc
            self._count(operation, "ok")
            return response

    async def pages(self, operation: str, result_key: str, **params: Any) -> list[Any]:
        """Every item of a Marker-paginated operation, page after page."""
        items: list[Any] = []
        marker: str | None = None
        while True:
            page = await self.call(operation, **params, **({"Marker": marker} if marker else {}))
            found = page.get(result_key)
            if not isinstance(found, list):
                raise RdsMalformed(operation, f"answer without a {result_key} list")
            items += found
            marker = page.get("Marker")
            if not marker:
                return items


def _classify(operation: str, code: str, message: str, exc: ClientError) -> RdsError:
    if code in NOT_FOUND_CODES:
        return RdsNotFound(operation, message, code)
    if code in NOT_READY_CODES:
        return RdsNotReady(operation, message, code)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return RdsCallFailed(operation, f"{code}: {message}", code, retriable=status >= 500)
