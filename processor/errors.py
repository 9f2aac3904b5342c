"""Errors of the processor's own flow, and where each component's errors live. Which to retry:

    processor.errors.ProcessorError
    ├── DeliveryUnsettled   OpenObserve could not say whether some events of a range are
    │                       stored: the intent stays pending, the message is retried later and
    │                       recovery asks again (retriable)
    └── InvalidMessage      the Kafka value is not a LogFileMessage: dead-lettered at once
                            (= processor.consumer.PoisonMessage, retriable = False)

    processor.checkpoint.errors     LeaseHeld, LeaseLost, CheckpointConflict
    processor.download.errors       RDS answers and the portion reader (Throttled, …)
    processor.accounts.NoRoleForAccount   a message's (account, region) without a role
    processor.sinks.openobserve.errors   ingestion and search (QueryRefused, PartialAnswer, …)

Every class says `retriable`; the consumer retries what is retriable (or says nothing) with
backoff up to PROCESSOR_MAX_ATTEMPTS and dead-letters the rest at once.
"""

from __future__ import annotations

from processor.consumer import PoisonMessage


class ProcessorError(Exception):
    retriable = True


class DeliveryUnsettled(ProcessorError):
    """Events whose fate OpenObserve could not establish; never resent blindly."""

    retriable = True

    def __init__(self, message: str, event_ids: list[str]) -> None:
        super().__init__(message)
        self.event_ids = event_ids


InvalidMessage = PoisonMessage

__all__ = ["DeliveryUnsettled", "InvalidMessage", "ProcessorError"]
