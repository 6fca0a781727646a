"""`gridwatch replay`: publish a recorded stream file to MQTT at any speed.

Why reuse the live publisher: a replay must look to the bridge exactly like
the live stream it was recorded from (same topics, same upload rhythm, same
duplicates and late uploads), only faster or slower.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from tqdm import tqdm

from ..config import Settings
from .offline import StreamFile
from .publisher import MqttPublisher, PacedPublisher
from .stream import iter_batches


def replay_file(settings: Settings, path: str | Path, duration_s: float | None = None,
                bad_rate: float = 0.0, stop_event: threading.Event | None = None,
                progress: bool = False) -> dict[str, float]:
    """Publish every batch of ``path`` paced by ``settings.simulator.speed``; return counts."""
    stream = StreamFile.open(path)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    sink = MqttPublisher(settings.mqtt, f"gridwatch-replay-{random.getrandbits(32):08x}")
    pacer = PacedPublisher(sink, settings.mqtt.topic_prefix, settings.simulator.speed,
                           bad_rate, int(stream.metadata.get("seed", 0)), stop_event, deadline)
    started = time.monotonic()
    bar = tqdm(total=stream.num_rows, unit="rd", unit_scale=True, desc="replay",
               disable=None if progress else True, mininterval=1.0, leave=False)
    complete = True
    try:
        with bar:
            for table in stream.tables():
                before = pacer.counts["readings_published"]
                complete = pacer.publish_all(iter_batches(table))
                bar.update(pacer.counts["readings_published"] - before)
                if not complete:
                    break
    finally:
        sink.close()
    result: dict[str, float] = dict(pacer.counts)
    result["complete"] = complete
    result["unconfirmed"] = sink.unconfirmed
    result["duration_s"] = round(time.monotonic() - started, 3)
    return result
