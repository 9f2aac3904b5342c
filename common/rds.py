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

Each carries the answer's `code`, HTTP `status` (0: no answer) and `message`, so that a caller
with finer classes of its own (the processor's download errors) maps them without guessing.

Calls botocore does not make (the complete download's signed REST GET) go through the same door
with `RdsApi.metered(operation)`: a token first, then counted the same way.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter as CallCounter
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from prometheus_client import Counter

from common.rate_limit import Priority, backoff_delay
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

    def __init__(self, operation: str, message: str, code: str = "", status: int = 0) -> None:
        super().__init__(f"{operation}: {code}: {message}" if code else f"{operation}: {message}")
        self.operation = operation
        self.code = code
        self.status = status
        self.message = message


class RdsThrottled(RdsError):
    retriable = True


class RdsNotReady(RdsError):
    retriable = True


class RdsNotFound(RdsError):
    pass


class RdsMalformed(RdsError):
    pass


class RdsCallFailed(RdsError):
    def __init__(
        self,
        operation: str,
        message: str,
        code: str = "",
        retriable: bool = True,
        status: int = 0,
    ) -> None:
        super().__init__(operation, message, code, status)
        self.retriable = retriable


class Budget(Protocol):
    """What `RdsApi` needs of a request budget: `RdsBucket`, or `Unmetered` for tools."""

    async def acquire(self, priority: Priority = Priority.DISCOVERY, cost: int = 1) -> float: ...

    async def penalise(self) -> None: ...


class Unmetered:
    """No shared budget (a tool or a test on its own client): nothing to wait for or drain."""

    async def acquire(self, priority: Priority = Priority.DISCOVERY, cost: int = 1) -> float:
        return 0.0

    async def penalise(self) -> None:
        return None


def is_throttle(code: str, status: int) -> bool:
    """`Throttling` (the code RDS sends), its documented variants, or an HTTP 429."""
    return code in THROTTLE_CODES or status == 429


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
        bucket: Budget,
        settings: RdsSettings,
        priority: Priority = Priority.DISCOVERY,
        calls: CallLog | None = None,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._settings = settings
        self._priority = priority
        self.calls = calls or CallLog()

    @classmethod
    def unmetered(cls, client: Any, priority: Priority = Priority.PROCESSOR) -> RdsApi:
        """A client of its own with no shared budget and no retries of `Throttling` (raised at
        once as `RdsThrottled`): for tools, benchmarks and tests that hold a bare client."""
        settings = RdsSettings(rds_throttle_retries=0)
        return cls(client, Unmetered(), settings, priority)

    @property
    def client(self) -> Any:
        return self._client

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
                    delay = self.backoff(attempt)
                    if delay is None:
                        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                        raise RdsThrottled(operation, message, code, int(status or 0)) from exc
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                self._count(operation, "error")
                raise _classify(operation, code, message, exc) from exc
            except (TimeoutError, BotoCoreError, OSError) as exc:
                self._count(operation, "error")
                raise RdsCallFailed(operation, f"{type(exc).__name__}: {exc}") from exc
            self._count(operation, "ok")
            return response

    def backoff(self, attempt: int) -> float | None:
        """The wait before retry `attempt` (0-based) of a throttled call; None: no more."""
        s = self._settings
        if attempt >= s.rds_throttle_retries:
            return None
        return backoff_delay(attempt, s.rds_backoff_base_sec, s.rds_backoff_max_sec)

    @asynccontextmanager
    async def metered(self, operation: str) -> AsyncIterator[None]:
        """A call made outside botocore (`async with api.metered("DownloadCompleteDBLogFile"):`):
        a token first, then counted. An exception whose `code`/`status` say throttled (429)
        penalises the bucket and counts as `throttled`; the caller retries (`backoff`) or not."""
        await self._bucket.acquire(self._priority)
        try:
            yield
        except BaseException as exc:
            code = str(getattr(exc, "code", "") or "")
            status = getattr(exc, "status", 0)
            if is_throttle(code, status if isinstance(status, int) else 0):
                self._count(operation, "throttled")
                RDS_THROTTLES.labels(operation).inc()
                await self._bucket.penalise()
            elif not isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
                self._count(operation, "error")
            raise
        self._count(operation, "ok")

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
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in NOT_FOUND_CODES:
        return RdsNotFound(operation, message, code, status)
    if code in NOT_READY_CODES:
        return RdsNotReady(operation, message, code, status)
    return RdsCallFailed(operation, message, code, status >= 500, status)
