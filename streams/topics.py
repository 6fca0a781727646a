"""Creates the Kafka topics with the configured partition count before anyone uses them.

Why up front: a broker that auto-creates a topic on first produce gives it
the broker's default partition count, which silently caps how many workers
can share the load.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ..clients.kafka import bootstrap_servers, client_options
from ..config import KafkaSettings

__all__ = ["bootstrap_servers", "ensure_topics"]
log = logging.getLogger(__name__)


async def ensure_topics(settings: KafkaSettings) -> None:
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.readings_topic, settings.deadletter_topic, settings.alerts_topic,
                  settings.inspections_topic]   # co-partitioned with the readings, by area
        new = [NewTopic(name, settings.partitions, settings.replication)
               for name in wanted if name not in existing]
        if new:
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                log.info("topics created concurrently by another process")
            log.info("created topics %s", [t.name for t in new])
    finally:
        await admin.close()
