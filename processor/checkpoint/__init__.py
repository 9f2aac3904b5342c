"""Checkpoints of file generations in DynamoDB: lease, fencing, write-ahead intent, two cursors."""

from processor.checkpoint.errors import CheckpointConflict, CheckpointError, LeaseHeld, LeaseLost
from processor.checkpoint.model import Checkpoint, FileKey, Intent, ParserState
from processor.checkpoint.store import CheckpointStore, new_owner_id

__all__ = [
    "Checkpoint",
    "CheckpointConflict",
    "CheckpointError",
    "CheckpointStore",
    "FileKey",
    "Intent",
    "LeaseHeld",
    "LeaseLost",
    "ParserState",
    "new_owner_id",
]
