"""Consumer lag of the worker group: how many readings records wait unprocessed.

Lag is the number operators watch to know whether detection keeps up with
the meters; it is read from the broker, not from the worker, so it is right
even when the worker is down.

Why clamped at zero: the embedded broker (tansu) was measured reporting a
partition's end offset up to 4 below its real next offset (issue 12), so
end minus committed can come out negative once the worker has caught up.
Each partition's lag is clamped at 0: with tansu the figure shown is a
lower bound, short by at most `TANSU_END_OFFSET_ERROR` records per
partition; with Apache Kafka it is exact.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ..clients.kafka import client_options
from ..config import KafkaSettings

TANSU_END_OFFSET_ERROR = 4      # records: how far below the next offset tansu's end offset was seen


def partition_lag(end: int, committed: int | None) -> int:
    """Records waiting on one partition, never negative (see the module docstring).

    >>> partition_lag(120, 100), partition_lag(96, 100), partition_lag(5, None)
    (20, 0, 5)
    """
    return max(0, end - max(0, committed if committed is not None else 0))


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
        return sum(partition_lag(ends[tp], committed[tp].offset if tp in committed else None)
                   for tp in tps)
    finally:
        await consumer.stop()
        await admin.close()
