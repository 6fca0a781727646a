"""Creates the Kafka topics with the configured partition count before anyone uses them.

Why up front: a broker that auto-creates a topic on first produce gives it
the broker's default partition count, which silently caps how many workers
can share the load.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ..config import KafkaSettings

log = logging.getLogger(__name__)


def bootstrap_servers(url: str) -> str:
    """``kafka://h1:9092;h2:9092`` -> ``h1:9092,h2:9092`` for aiokafka."""
    return ",".join(part.replace("kafka://", "") for part in url.replace(";", ",").split(","))


async def ensure_topics(settings: KafkaSettings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers(settings.url))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.readings_topic, settings.deadletter_topic, settings.alerts_topic]
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
