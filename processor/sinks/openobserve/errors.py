"""Every exception the OpenObserve client raises, in one place (httpx `_exceptions.py` style).

Shipping never raises for what the server answers: its outcomes are data (`ShipResult`). These
exceptions are for searches, and for events the caller handed over that cannot be sent.

    OpenObserveError            status, body, retriable
    ├── InvalidEvent            an event the client cannot send (not JSON, no event_id...)
    └── SearchError             a `_search` request failed; `code` is OpenObserve's error code
        ├── QueryRefused        HTTP 400: SQL invalid (20001), stream/field not found (20002,
        │                       20004), function unknown (20005), execution error (20008)...
        ├── OrganizationNotFound HTTP 404 (plain-text body)
        ├── SearchUnavailable   retries exhausted on a transport error, 408, 429 or 5xx
        ├── PartialAnswer       HTTP 200 with `is_partial` (a querier failed, or the range was
        │                       shortened): it proves nothing about what is absent
        └── BadAnswer           HTTP 200 whose body is not a search answer

`retriable` tells a caller whether the same request may succeed later: it is False for a
refusal that resending cannot change (a 400 is permanent; the client never retries one), True
where the server or the network may recover.
"""

from __future__ import annotations

import json

STREAM_NOT_FOUND = 20002
FIELD_NOT_FOUND = 20004
SQL_EXECUTION_ERROR = 20008


class OpenObserveError(Exception):
    """Base class; carries the HTTP status and body when there was an answer."""

    retriable = False

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class InvalidEvent(OpenObserveError, ValueError):
    """An event the client cannot send; it is returned to the caller, never dropped."""

    retriable = False


class SearchError(OpenObserveError):
    """A search that failed; `code` is OpenObserve's error code from the body when known."""

    retriable = False

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message, status, body)
        self.code = error_code(body)

    @property
    def nothing_stored(self) -> bool:
        """The stream or the field does not exist yet: no record can match."""
        return self.code in (STREAM_NOT_FOUND, FIELD_NOT_FOUND)


class QueryRefused(SearchError):
    """HTTP 400: the query cannot run as written (permanent: never retried)."""

    retriable = False


class OrganizationNotFound(SearchError):
    """HTTP 404: the organization does not exist (a setting is wrong)."""

    retriable = False


class SearchUnavailable(SearchError):
    """The search kept failing in a way that may pass (network, 408, 429, 5xx)."""

    retriable = True


class PartialAnswer(SearchError):
    """HTTP 200 with `is_partial: true`: the hits are true, the missing ones are unknown. Raised
    where a complete answer is required (a count); `notes` are the server's `function_error`."""

    retriable = True

    def __init__(self, message: str, notes: tuple[str, ...] = ()) -> None:
        super().__init__(message, 200)
        self.notes = notes


class BadAnswer(SearchError):
    """HTTP 200 whose body is not a search answer (a proxy page, a truncated body)."""

    retriable = True


def error_code(body: str) -> int | None:
    """OpenObserve's `code` from a JSON error body (None for plain text)."""
    try:
        code = json.loads(body).get("code") if body else None
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None
