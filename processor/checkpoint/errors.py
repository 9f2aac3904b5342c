"""Errors of the checkpoint store. Which to retry:

    CheckpointError
    ├── LeaseHeld           another live processor holds the file: not ours now; the message
    │                       will come back (retriable = True, later)
    ├── LeaseLost           our lease was taken over: stop touching the file at once, ship
    │                       nothing more (retriable = False for this run)
    └── CheckpointConflict  the row kept changing, or our cursors moved under our own lease
                            (a bug or a clock far off): log, count, let the message retry
                            (retriable = True)

DynamoDB's own failures (throttling, timeouts) arrive as botocore errors after botocore's
retries and are the caller's transient failures.
"""

from __future__ import annotations

from processor.checkpoint.model import FileKey


class CheckpointError(Exception):
    retriable = True

    def __init__(self, key: FileKey, message: str) -> None:
        super().__init__(f"{key.resource_id}/{key.generation}: {message}")
        self.key = key


class LeaseHeld(CheckpointError):
    retriable = True

    def __init__(self, key: FileKey, owner: str | None, until: float) -> None:
        super().__init__(key, f"lease held by {owner} until {until:.0f}")
        self.owner = owner
        self.until = until


class LeaseLost(CheckpointError):
    retriable = False

    def __init__(self, key: FileKey, owner: str | None) -> None:
        super().__init__(key, f"lease lost to {owner}")
        self.owner = owner


class CheckpointConflict(CheckpointError):
    retriable = True
