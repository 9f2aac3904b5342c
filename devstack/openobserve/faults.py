"""Injectable faults and the server's limits, switched at run time through `/_admin/faults`.

Before the write (ingestion refused, nothing stored): `status_*`, `latency_*`, `payload_limit`.
Inside a 200: `record_fail_rate` (counted failed), `silent_loss_rate` (dropped, not counted).
After the write (the records are stored or acknowledged, the answer lies): `after_write_*` (a
502/504 or a stalled answer past the client's timeout once the records are stored) and
`hidden_loss_rate` (counted successful, never written: the server counts a record before its
disk write and only logs a failed write). Search: `search_partial_rate` (a querier failed:
HTTP 200, `is_partial`, part of the records missing), `visibility_lag_ms` (records invisible for
that long after their write) and `max_query_range_hours` (a longer range is silently shortened
to its last hours, and marked partial). Random choices use one seeded generator: a test that
sets `seed` gets the same decisions for the same sequence of requests.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AfterWrite = Literal["502", "504", "timeout"]

DEFAULT_PAYLOAD_LIMIT = 209_715_200  # ZO_PAYLOAD_LIMIT


class Faults(BaseModel):
    """The current fault switches and limits (every field optional in an update)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    status_rate: float = Field(0.0, ge=0, le=1, description="Chance an ingest request fails.")
    statuses: list[int] = Field(
        default_factory=lambda: [503], min_length=1, description="Statuses injected (uniform)."
    )
    status_next: int = Field(0, ge=0, description="The next N ingest requests get statuses[0].")
    retry_after_sec: int = Field(
        0, ge=0, description="`Retry-After` (seconds) on an injected 429 or 503; 0: none."
    )
    latency_ms: float = Field(0.0, ge=0, description="Added to every ingest request.")
    latency_jitter_ms: float = Field(0.0, ge=0, description="Uniform extra latency on top.")
    record_fail_rate: float = Field(
        0.0, ge=0, le=1, description="Chance a record is counted `failed` inside a 200."
    )
    silent_loss_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Chance a record is dropped and not counted (successful+failed < sent).",
    )
    hidden_loss_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Chance a record is counted successful but never written (200 hides it).",
    )
    after_write_rate: float = Field(
        0.0, ge=0, le=1, description="Chance a stored request is answered by `after_write`."
    )
    after_write_next: int = Field(
        0, ge=0, description="The next N stored requests are answered by after_write[0]."
    )
    after_write: list[AfterWrite] = Field(
        default_factory=lambda: list[AfterWrite](["502"]),
        min_length=1,
        description="What answers a request after its records were stored: 502, 504, timeout.",
    )
    after_write_stall_ms: float = Field(
        5_000.0, ge=0, description="`timeout`: how long the answer is held (past the client's)."
    )
    search_partial_rate: float = Field(
        0.0, ge=0, le=1, description="Chance a search answer is partial (a querier failed)."
    )
    search_partial_share: float = Field(
        0.5, ge=0, le=1, description="Share of the records a partial answer leaves out."
    )
    visibility_lag_ms: float = Field(
        0.0, ge=0, description="Records are invisible to search this long after their write."
    )
    max_query_range_hours: float = Field(
        0.0, ge=0, description="A stream's max query range (0: none); longer ranges shortened."
    )
    payload_limit: int = Field(DEFAULT_PAYLOAD_LIMIT, ge=1, description="413 above this.")
    ingest_allowed_upto_hours: float = Field(5.0, gt=0, description="ZO_INGEST_ALLOWED_UPTO.")
    ingest_allowed_in_future_hours: float = Field(
        24.0, gt=0, description="ZO_INGEST_ALLOWED_IN_FUTURE."
    )
    cols_limit: int = Field(1000, ge=1, description="ZO_COLS_PER_RECORD_LIMIT (per batch).")
    seed: int | None = Field(None, description="Seeds the fault generator when set.")


class FaultState:
    """The faults in force, the defaults a reset returns to, and the generator behind them."""

    def __init__(self, defaults: Faults) -> None:
        self._defaults = defaults.model_copy()
        self.current = defaults.model_copy()
        self._rng = random.Random(defaults.seed)

    def update(self, changes: dict[str, Any]) -> Faults:
        """Apply a partial update; raises `pydantic.ValidationError` on a bad field or value."""
        merged = {**self.current.model_dump(), **changes}
        self.current = Faults.model_validate(merged)
        if "seed" in changes:
            self._rng = random.Random(self.current.seed)
        return self.current

    def clear(self) -> Faults:
        self.current = self._defaults.model_copy()
        self._rng = random.Random(self.current.seed)
        return self.current

    def latency_sec(self) -> float:
        faults = self.current
        extra = self._rng.uniform(0, faults.latency_jitter_ms) if faults.latency_jitter_ms else 0
        return (faults.latency_ms + extra) / 1000.0

    def injected_status(self) -> int | None:
        """A status to answer this ingest request with instead of handling it, or None."""
        faults = self.current
        if faults.status_next > 0:
            self.current = faults.model_copy(update={"status_next": faults.status_next - 1})
            return faults.statuses[0]
        if faults.status_rate > 0 and self._rng.random() < faults.status_rate:
            return self._rng.choice(faults.statuses)
        return None

    def after_write(self) -> AfterWrite | None:
        """How to answer a request whose records were just stored, instead of the truth."""
        faults = self.current
        if faults.after_write_next > 0:
            self.current = faults.model_copy(
                update={"after_write_next": faults.after_write_next - 1}
            )
            return faults.after_write[0]
        if faults.after_write_rate > 0 and self._rng.random() < faults.after_write_rate:
            return self._rng.choice(faults.after_write)
        return None

    def partial_search(self) -> int | None:
        """A salt choosing which records a partial answer leaves out, or None (a full answer)."""
        faults = self.current
        if faults.search_partial_rate > 0 and self._rng.random() < faults.search_partial_rate:
            return self._rng.randrange(1, 2**31)
        return None

    def record_fate(self) -> str:
        """`ok`, `fail` (counted failed), `lose` (dropped, not counted) or `hide` (counted
        successful, not written) for one good record."""
        faults = self.current
        if faults.silent_loss_rate > 0 and self._rng.random() < faults.silent_loss_rate:
            return "lose"
        if faults.hidden_loss_rate > 0 and self._rng.random() < faults.hidden_loss_rate:
            return "hide"
        if faults.record_fail_rate > 0 and self._rng.random() < faults.record_fail_rate:
            return "fail"
        return "ok"

    @property
    def any_record_faults(self) -> bool:
        faults = self.current
        return (
            faults.silent_loss_rate > 0
            or faults.record_fail_rate > 0
            or (faults.hidden_loss_rate > 0)
        )
