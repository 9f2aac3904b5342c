"""Injectable faults and the server's limits, switched at run time through `/_admin/faults`.

Faults apply to the ingestion routes only (search stays healthy, so that a client can always
reconcile what was stored). Random choices use one seeded generator: a test that sets `seed`
gets the same decisions for the same sequence of requests.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PAYLOAD_LIMIT = 209_715_200  # ZO_PAYLOAD_LIMIT


class Faults(BaseModel):
    """The current fault switches and limits (every field optional in an update)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    status_rate: float = Field(0.0, ge=0, le=1, description="Chance an ingest request fails.")
    statuses: list[int] = Field(
        default_factory=lambda: [503], min_length=1, description="Statuses injected (uniform)."
    )
    status_next: int = Field(0, ge=0, description="The next N ingest requests get statuses[0].")
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

    def record_fate(self) -> str:
        """`ok`, `fail` (counted failed) or `lose` (dropped, not counted) for one good record."""
        faults = self.current
        if faults.silent_loss_rate > 0 and self._rng.random() < faults.silent_loss_rate:
            return "lose"
        if faults.record_fail_rate > 0 and self._rng.random() < faults.record_fail_rate:
            return "fail"
        return "ok"

    @property
    def any_record_faults(self) -> bool:
        return self.current.silent_loss_rate > 0 or self.current.record_fail_rate > 0
