"""Consumer lag of the worker group: how many readings records wait unprocessed.

Lag is the number operators watch to know whether detection keeps up with
the meters; it is read from the broker, not from the worker, so it is right
even when the worker is down.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ..clients.kafka import client_options
from ..config import KafkaSettings


async def consumer_lag(settings: KafkaSettings) -> int:
    """Sum over the readings topic's partitions of end offset minus committed offset."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **client_options(settings))
    await admin.start()
    await consumer.start()
    try:
        await consumer.topics()
        partitions = consumer.partitions_for_topic(settings.readings_topic) or set()
        tps = [TopicPartition(settings.readings_topic, p) for p in partitions]
        if not tps:
            return 0
        ends = await consumer.end_offsets(tps)
        committed = await admin.list_consumer_group_offsets(settings.app_id, partitions=tps)
        return sum(max(0, ends[tp] - max(0, committed[tp].offset if tp in committed else 0))
                   for tp in tps)
    finally:
        await consumer.stop()
        await admin.close()
