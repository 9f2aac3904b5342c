"""Create the log topics and the dead-letter topic if they are missing (idempotent).

One code path for every place topics are made: the local stack (replication 1 on tansu) and the
Kubernetes Job of the Helm chart (`python -m common.kafka_topics --replication-factor 3` against
MSK or the cluster's Kafka, with the same security settings as the services, MSK IAM included).
An existing topic is left as it is: partitions are never changed behind an operator's back.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from common.kafka import security_options
from common.logging import configure_logging
from common.settings import KafkaSettings, SettingsError, load_settings

log = structlog.get_logger(__name__)


def wanted_topics(settings: KafkaSettings) -> list[str]:
    """Every topic the services use: one per log type, then the dead-letter topic."""
    return [*settings.topics().values(), settings.kafka_topic_dlq]


async def ensure_topics(
    settings: KafkaSettings, partitions: int, replication_factor: int
) -> list[str]:
    """Create the missing topics; return the names created (empty when all existed)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, **security_options(settings)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(name=t, num_partitions=partitions, replication_factor=replication_factor)
            for t in wanted_topics(settings)
            if t not in existing
        ]
        if new:
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:  # another creator won the race: same outcome
                log.info("topics_already_exist", topics=[t.name for t in new])
        log.info("topics_ready", topics=wanted_topics(settings), created=[t.name for t in new])
        return [t.name for t in new]
    finally:
        await admin.close()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m common.kafka_topics", description=__doc__)
    ap.add_argument("--partitions", type=int, default=12, help="partitions of a new topic")
    ap.add_argument("--replication-factor", type=int, default=3, help="of a new topic")
    args = ap.parse_args(argv)
    configure_logging("INFO", "json")
    try:
        settings = load_settings().kafka
    except SettingsError as exc:
        print(f"{ap.prog}: {exc}", file=sys.stderr)
        return 2
    asyncio.run(ensure_topics(settings, args.partitions, args.replication_factor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
