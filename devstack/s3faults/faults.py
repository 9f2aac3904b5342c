"""S3 faults, switched at run time through `/_admin/faults` in the OpenObserve emulator's
request shape (a partial update of `S3Faults`; `DELETE` clears; `seed` makes choices repeatable),
so a test speaks one fault language to both.

Where a fault strikes, by operation (`operations`, S3's names: `PutObject`, `UploadPart`,
`CompleteMultipartUpload`, `CopyObject`...; empty = all):

* before moto sees the request (nothing written): `status_*` (500 InternalError, 503 SlowDown),
  `reset_*` (the connection is reset), `latency_*`;
* after moto applied it (the write happened, the answer lies): `after_write_*` — a 500, a 503
  or a reset where the true answer was. This is what makes a retry meet its own earlier
  success: a retried CompleteMultipartUpload finds the upload gone (NoSuchUpload).
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Injected = Literal["500", "503", "reset"]


class S3Faults(BaseModel):
    """The current switches (every field optional in an update)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    operations: list[str] = Field(
        default_factory=list, description="Operations the faults strike (empty: every one)."
    )
    status_rate: float = Field(0.0, ge=0, le=1, description="Chance a request is refused.")
    statuses: list[Literal[500, 503]] = Field(
        default_factory=lambda: list[Literal[500, 503]]([500, 503]),
        min_length=1,
        description="Statuses injected (uniform): 500 InternalError, 503 SlowDown.",
    )
    status_next: int = Field(0, ge=0, description="The next N requests get statuses[0].")
    reset_rate: float = Field(0.0, ge=0, le=1, description="Chance the connection is reset.")
    reset_next: int = Field(0, ge=0, description="The next N requests are reset.")
    latency_ms: float = Field(0.0, ge=0, description="Added to every request.")
    latency_jitter_ms: float = Field(0.0, ge=0, description="Uniform extra latency on top.")
    after_write_rate: float = Field(
        0.0, ge=0, le=1, description="Chance an applied request is answered by `after_write`."
    )
    after_write_next: int = Field(
        0, ge=0, description="The next N applied requests are answered by after_write[0]."
    )
    after_write: list[Injected] = Field(
        default_factory=lambda: list[Injected](["500"]),
        min_length=1,
        description="What answers a request moto applied: 500, 503 or reset.",
    )
    seed: int | None = Field(None, description="Seeds the fault generator when set.")


class S3FaultState:
    """The faults in force and the seeded generator behind them."""

    def __init__(self) -> None:
        self.current = S3Faults()
        self._rng = random.Random()

    def update(self, changes: dict[str, Any]) -> S3Faults:
        """Apply a partial update; raises `pydantic.ValidationError` on a bad field or value."""
        self.current = S3Faults.model_validate({**self.current.model_dump(), **changes})
        if "seed" in changes:
            self._rng = random.Random(self.current.seed)
        return self.current

    def clear(self) -> S3Faults:
        self.current = S3Faults()
        self._rng = random.Random()
        return self.current

    def strikes(self, operation: str) -> bool:
        ops = self.current.operations
        return not ops or operation in ops

    def latency_sec(self) -> float:
        f = self.current
        extra = self._rng.uniform(0, f.latency_jitter_ms) if f.latency_jitter_ms else 0.0
        return (f.latency_ms + extra) / 1000.0

    def before(self) -> Injected | None:
        """A fault answering this request before it reaches moto, or None."""
        f = self.current
        if f.reset_next > 0:
            self.current = f.model_copy(update={"reset_next": f.reset_next - 1})
            return "reset"
        if f.status_next > 0:
            self.current = f.model_copy(update={"status_next": f.status_next - 1})
            return _status(f.statuses[0])
        if f.reset_rate > 0 and self._rng.random() < f.reset_rate:
            return "reset"
        if f.status_rate > 0 and self._rng.random() < f.status_rate:
            return _status(self._rng.choice(f.statuses))
        return None

    def after(self) -> Injected | None:
        """A fault answering a request moto has applied, instead of its answer, or None."""
        f = self.current
        if f.after_write_next > 0:
            self.current = f.model_copy(update={"after_write_next": f.after_write_next - 1})
            return f.after_write[0]
        if f.after_write_rate > 0 and self._rng.random() < f.after_write_rate:
            return self._rng.choice(f.after_write)
        return None


def _status(code: Literal[500, 503]) -> Injected:
    return "503" if code == 503 else "500"
