"""The OpenObserve client: ship events exactly once, and ask what was stored.

client.py      OpenObserveClient: ship / ship_encoded / search / count_batch / stored_event_ids /
               which_stored (stored, absent or unknown per event: recovery and `verify`)
buffer.py      OpenObserveBuffer: a time- and size-bounded batch for one stream
sender.py      delivery of one batch: send, judge, retry, reconcile, split on 413
batches.py     encoding of events and the one batch cutter (Accumulator)
search.py      `_search` queries (SQL quoting, paging, ranges split, partial answers)
transport.py   the shared HTTP pool; retries of searches
outcomes.py    ShipResult, PermanentFailure, Unsettled, StoredCheck: outcomes as data
errors.py      every exception, with `retriable`
retry.py, window.py, metrics.py
"""

from processor.sinks.openobserve.buffer import OpenObserveBuffer
from processor.sinks.openobserve.client import OpenObserveClient
from processor.sinks.openobserve.errors import (
    BadAnswer,
    InvalidEvent,
    OpenObserveError,
    OrganizationNotFound,
    PartialAnswer,
    QueryRefused,
    SearchError,
    SearchUnavailable,
)
from processor.sinks.openobserve.outcomes import (
    PermanentFailure,
    Presence,
    ShipResult,
    StoredCheck,
    Unsettled,
)
from processor.sinks.openobserve.search import SearchResult

__all__ = [
    "BadAnswer",
    "InvalidEvent",
    "OpenObserveBuffer",
    "OpenObserveClient",
    "OpenObserveError",
    "OrganizationNotFound",
    "PartialAnswer",
    "PermanentFailure",
    "Presence",
    "QueryRefused",
    "SearchError",
    "SearchResult",
    "SearchUnavailable",
    "ShipResult",
    "StoredCheck",
    "Unsettled",
]
