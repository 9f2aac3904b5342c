"""When to retry an OpenObserve request, and how long to wait: full-jitter exponential backoff."""

from __future__ import annotations

import random

# Retried: the request may succeed later. 400/401/403 and other 4xx never will.
RETRYABLE_STATUSES = frozenset({408, 429})
# Statuses after which nothing of the request was written (the server refused it up front), so
# a resend cannot duplicate. After any other failure the client first asks what was stored.
CLEAN_STATUSES = frozenset({408, 413, 429, 503})


def is_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


class Backoff:
    """`delay(n)` for the n-th retry (1-based): uniform in [0, min(cap, base * 2**(n-1))]."""

    def __init__(self, base_sec: float, cap_sec: float, rng: random.Random | None = None) -> None:
        self.base = base_sec
        self.cap = cap_sec
        self._rng = rng or random.Random()

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * (2 ** max(retry - 1, 0)))
        wait = self._rng.uniform(0, ceiling)
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(retry_after, self.cap))
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (the delta form; the date form is ignored)."""
    if not value:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        return None
