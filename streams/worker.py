"""The Faust worker: a thin adapter that drives the detection stage from Kafka.

What it adds to `gridwatch.detectors.stage.DetectionStage` (the same object
`gridwatch evaluate` drives) is transport only: agents, tables, topics and
the metrics sink. The area's batch goes through `DetectionStage.process`;
immediate findings go to the alerts topic; the feeder report goes,
repartitioned by feeder, to a second agent that runs `judge_feeder` against
that feeder's state table.

Why this shape (see MISSION.md, architecture): a Kafka record is one area's
batch, keyed by area, so each area lives on exactly one partition and one
worker at a time. That area's detector state is one value in a Faust table,
read and written once per batch: the changelog stays small, a restarted or
rebalanced worker recovers the state from it, and nothing in the design
assumes a single process. Findings go to the alerts topic; metrics to the
store through the batched writer.

Silence watchdog (`gridwatch.detectors.silence`): the agent notes each
area's upload, a timer reports areas that stopped uploading while they are
still silent. Its state is one small record per area in its own table,
``area-silence``, written with the area's state after each batch (so both
recover to the same point). Not derived from ``area-state``: the timer
must mark a silence as reported (or a restart would report it again), and
only a table using the producer's partitioner can be written outside an
agent; and decoding every area's full detector state once a second to find
its last upload would cost far too much. Keyed by area like the readings,
the record lives on its area's partition; the timer checks only areas of
partitions this worker owns, each against that partition's own clock, so
a partition still catching up is not taken for silence.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import struct
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
import numpy as np

from ..clients.kafka import faust_credentials
from ..config import ConfigError, Settings, load_settings
from ..detectors.feeder import FeederOutages
from ..detectors.redelivery import BATCH_ID_HEADER
from ..detectors.stage import DetectionStage, FeederReport
from ..detectors.state import AreaState
from ..detectors.theft_watch import suspect_points
from ..vocabulary.findings import FIRING, Finding
from ..vocabulary.inspections import InspectionOutcome
from ..vocabulary.measurements import PIPELINE, MetricPoint
from ..vocabulary.schema import trusted_batch
from .area_record import AreaRecord, Pending
from .broker_reset import BrokerResets, intervals_lost, regressed
from .config_watch import ConfigWatcher
from .metrics import MetricsWriter, to_lines
from .stats import write_stats

log = logging.getLogger(__name__)


@dataclass
class WorkerCounters:
    batches: int = 0
    readings_processed: int = 0
    alerts_raised: int = 0
    findings_produced: int = 0
    deadletters: int = 0
    replayed_skipped: int = 0
    inspections_applied: int = 0
    redelivered_skipped: int = 0      # uploads the bridge delivered twice (same batch id)
    metrics_reemitted: int = 0        # points a killed worker left unconfirmed, written again
    last_batch_at: float = 0.0
    open_by_kind: dict[str, int] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__, open_by_kind=dict(self.open_by_kind))

    def count_finding(self, kind: str, firing: bool) -> None:
        self.findings_produced += 1
        self.alerts_raised += firing
        self.open_by_kind[kind] = max(0, self.open_by_kind.get(kind, 0) + (1 if firing else -1))


OFFSET = struct.Struct(">q")
STOP_GRACE_S = 3.0   # from the start of shutdown to exit, whatever Faust is still doing


def pack_state(offset: int, state: bytes) -> bytes:
    """Table value: the last applied Kafka offset of the area, then its detector state.

    >>> unpack_state(pack_state(41, b"state"))
    (41, b'state')
    """
    return OFFSET.pack(offset) + state


def unpack_state(raw: bytes | None) -> tuple[int, bytes | None]:
    """(last applied offset, state bytes), or (-1, None) for an area never seen."""
    if not raw:
        return -1, None
    return OFFSET.unpack_from(raw)[0], raw[OFFSET.size:]


def last_applied(state: AreaState) -> float:
    """The newest interval the area's state has applied (NaN for a fresh area)."""
    column = state.meters.col["last_ts"]
    return float(np.nanmax(column)) if column.size and not np.isnan(column).all() else np.nan


def header(headers: Any, name: str) -> str | None:
    """A Kafka record header's value as text (Faust hands them as pairs or a mapping).

    >>> header([("gridwatch-batch-id", b"ab12")], "gridwatch-batch-id"), header(None, "x")
    ('ab12', None)
    """
    pairs = headers.items() if isinstance(headers, dict) else headers or ()
    for key, value in pairs:
        if key == name:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


def create_app(settings: Settings, stats_path: str | None = None,
               config_path: str | None = None) -> faust.App:
    """Build the Faust app, its topics, its state table and its agent."""
    kafka = settings.kafka
    data_dir = Path(settings.worker.data_dir or Path(settings.stack.state_dir) / "worker")
    data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        kafka.app_id,
        broker=kafka.url,
        broker_credentials=faust_credentials(kafka),
        store="memory://",
        datadir=str(data_dir),
        topic_partitions=kafka.partitions,
        topic_replication_factor=kafka.replication,
        broker_rebalance_timeout=kafka.rebalance_timeout_s,
        broker_session_timeout=kafka.session_timeout_s,
        broker_heartbeat_interval=kafka.heartbeat_interval_s,
        broker_commit_interval=settings.worker.commit_interval_s,
        web_port=settings.worker.web_port,
        web_enabled=True,
    )
    readings = app.topic(kafka.readings_topic, key_type=bytes, value_type=bytes,
                         key_serializer="raw", value_serializer="json",
                         partitions=kafka.partitions)
    alerts = app.topic(kafka.alerts_topic, key_serializer="raw", value_serializer="json")
    deadletters = app.topic(kafka.deadletter_topic, key_serializer="raw", value_serializer="json")
    # Area outages are judged again per feeder (all areas dark together = feeder outage);
    # the areas of one feeder live on any worker, so their reports are repartitioned by feeder.
    feeder_reports = app.topic(f"{kafka.app_id}-feeder-reports", key_type=bytes,
                               key_serializer="raw", value_serializer="json",
                               partitions=kafka.partitions, internal=True)
    # bytes key and value types make Faust use the raw codec for the changelogs too
    area_state = app.Table("area-state", default=None, key_type=bytes, value_type=bytes,
                           partitions=kafka.partitions)
    # closed theft work orders, keyed by area like the readings (same partition, same worker)
    inspections = app.topic(kafka.inspections_topic, key_type=bytes, value_type=bytes,
                            key_serializer="raw", value_serializer="json",
                            partitions=kafka.partitions)
    feeder_state = app.Table("feeder-state", default=None, key_type=bytes, value_type=bytes,
                             partitions=kafka.partitions)
    silence_state = app.Table("area-silence", default=None, key_type=bytes, value_type=bytes,
                              partitions=kafka.partitions, use_partitioner=True)
    stage = DetectionStage(settings.detectors, kpis=settings.kpis)
    silence = stage.silence
    owned: set[int] = set()
    last_stalled: list[int] = []          # partitions last found stalled upstream
    metrics = MetricsWriter(settings.metrics)
    counters = WorkerCounters()
    broker_resets = BrokerResets()
    interval_s = settings.detectors.data_quality.interval_s
    watcher = ConfigWatcher(config_path, settings)
    reload_requested = {"flag": False}
    # one area's state is read, changed and written by one agent at a time
    area_locks: defaultdict[bytes, asyncio.Lock] = defaultdict(asyncio.Lock)

    def reload_detectors() -> None:
        try:
            fresh = watcher.reload()
        except ConfigError as exc:
            log.error("configuration reload rejected, keeping the running parameters: %s", exc)
            return
        if fresh is not None:
            stage.reconfigure(fresh.detectors)

    @app.agent(readings)
    async def detect(stream: faust.Stream) -> None:
        async for event in stream.events():
            await handle(event.key, event.value, event.message.offset, event.message.partition,
                         header(event.message.headers, BATCH_ID_HEADER))

    async def handle(key: bytes, value: Any, offset: int, partition: int,
                     batch_id: str | None = None) -> None:
        async with area_locks[key]:
            await detect_batch(key, value, offset, partition, batch_id)

    async def detect_batch(key: bytes, value: Any, offset: int, partition: int,
                           batch_id: str | None) -> None:
        record = AreaRecord.unpack(area_state.get(key))
        if record.pending.orphaned(metrics.epoch):
            reemit_metrics(key, record)
        state = AreaState.loads(record.state)
        if offset <= record.offset and not regressed(batch_id, state.scalars.get("batch_ids", {})):
            counters.replayed_skipped += 1  # redelivered after a restart: already applied
            return
        try:
            batch = trusted_batch(value)
            if offset <= record.offset:   # new data under regressed offsets: the broker reset
                await publish(broker_resets.note(partition, record.offset, offset, batch,
                                                 intervals_lost(last_applied(state), batch,
                                                                interval_s)))
            if partition not in owned:
                adopt_partitions()
            result = stage.process(batch, state, time.time(), partition, batch_id)
        except Exception as exc:  # a malformed record or a detector bug must not lose the batch
            log.exception("cannot process a record of area %r", key)
            counters.deadletters += 1
            await deadletters.send(key=key, value={"reason": f"worker: {exc!r}", "record": value})
            return
        # Findings first, state second: a crash in between replays the batch, and the
        # replayed findings carry the same alert ids, which the dispatcher deduplicates.
        await publish(result.immediate())
        await feeder_reports.send(key=batch.feeder.encode(),
                                  value=result.feeder_report().to_dict())
        lines = to_lines(result.points)
        record.pending.settle(metrics.epoch, metrics.settled)
        record.pending.add(metrics.epoch, metrics.write_lines(lines), lines)
        record.offset, record.state = offset, state.dumps()
        area_state[key] = record.pack()
        save_silence()
        counters.redelivered_skipped += result.redelivered
        counters.batches += 1
        counters.readings_processed += result.readings
        counters.last_batch_at = time.time()

    @app.agent(inspections)
    async def learn_inspections(stream: faust.Stream) -> None:
        async for event in stream.events():
            await apply_inspection(event.key, event.value)

    async def apply_inspection(key: bytes, value: Any) -> None:
        """Teach the area's theft ranking a closed work order's verdict."""
        try:
            outcome = InspectionOutcome.from_dict(value)
        except ValueError as exc:
            counters.deadletters += 1
            await deadletters.send(key=key, value={"reason": f"worker: {exc}", "record": value})
            return
        async with area_locks[key]:
            record = AreaRecord.unpack(area_state.get(key))
            if record.state is None:
                log.warning("inspection of meter %s: area %s has no state here", outcome.meter,
                            outcome.area)
                return
            state = AreaState.loads(record.state)
            suspects = stage.apply_inspection(state, outcome)
            if suspects is None:
                return
            record.state = state.dumps()
            area_state[key] = record.pack()
            metrics.write(suspect_points(outcome.area, suspects, time.time()))
            counters.inspections_applied += 1
            log.info("area %s learnt %s of meter %s; open theft suspects now: %s", outcome.area,
                     outcome.finding, outcome.meter,
                     ", ".join(f"{s.meter} ({s.risk:.2f})" for s in suspects) or "none")

    def reemit_metrics(key: bytes, record: AreaRecord) -> None:
        """Write again the points a killed worker left unconfirmed, now owed by this writer."""
        lines = record.pending.lines()
        record.pending = Pending()
        record.pending.add(metrics.epoch, metrics.write_lines(lines), lines)
        area_state[key] = record.pack()
        counters.metrics_reemitted += len(lines)

    async def publish(findings: list[Finding]) -> None:
        for finding in findings:
            await alerts.send(key=(finding.area or finding.feeder).encode(),
                              value=finding.to_dict())
            counters.count_finding(finding.kind, finding.status == FIRING)

    @app.agent(feeder_reports)
    async def judge_feeders(stream: faust.Stream) -> None:
        async for event in stream.events():
            key, report = event.key, event.value
            last_offset, raw = unpack_state(feeder_state.get(key))
            if event.message.offset <= last_offset:
                counters.replayed_skipped += 1
                continue
            feeders = FeederOutages(state=json.loads(raw) if raw else None)
            await publish(stage.judge_feeder(feeders, FeederReport.from_dict(report)))
            feeder_state[key] = pack_state(event.message.offset,
                                           json.dumps(feeders.to_dict()).encode())

    @app.timer(interval=1.0)
    async def report() -> None:
        stats = counters.as_dict() | {"metrics_written": metrics.written,
                                      "metrics_failed": metrics.failed,
                                      "broker_reset_records": broker_resets.records,
                                      "broker_reset_intervals_lost": broker_resets.intervals_lost}
        write_stats(stats_path, stats)
        metrics.write([MetricPoint(PIPELINE, {"component": "worker"},
                                   {k: float(v) for k, v in stats.items()
                                    if isinstance(v, (int, float)) and k != "started_at"},
                                   time.time())])
        if watcher.changed() or reload_requested["flag"]:
            reload_requested["flag"] = False
            reload_detectors()

    def save_silence() -> None:
        for area in silence.take_dirty():
            silence_state[area.encode()] = silence.record(area)

    def adopt_partitions() -> None:
        """Follow the partitions owned: forget the others' areas, load the new ones' records.

        Called by the timer and, before the first batch of a partition, by the
        agent (which may run before the timer after a rebalance).
        """
        active = {tp.partition for tp in app.assignor.assigned_actives()
                  if tp.topic == kafka.readings_topic}
        if active != owned:
            owned.clear()
            owned.update(active)
            silence.keep_shards(owned)
            silence.restore(((k.decode(), v) for k, v in silence_state.items() if v), owned,
                            time.time())

    @app.timer(interval=1.0)
    async def watch_silence() -> None:
        """Report areas silent too long, each partition on its own stream clock."""
        if app.rebalancing or app.in_recovery:
            return
        adopt_partitions()
        now = time.time()
        stalled = silence.stalled_shards(owned, now)
        if stalled != last_stalled:
            if stalled:
                log.warning("nothing at all arrived on partitions %s for over %d intervals: "
                            "the feed is stalled upstream (bridge, broker or head-end); its "
                            "concentrators' drop-outs are not reported one by one",
                            stalled, silence.settings.silence_intervals)
            last_stalled[:] = stalled
        await publish(silence.check_shards(owned, now))
        save_silence()

    @app.on_before_shutdown.connect  # type: ignore[misc]
    async def flush(app: faust.App, **kwargs: Any) -> None:
        # Faust's own shutdown (agents, consumer thread, group leave) was measured at 15 s
        # and more; a worker must stop within 5 s of SIGTERM. What must not be lost is
        # flushed here, then the process exits after a short grace: records applied but
        # not committed are replayed by the next worker (skipped or re-applied, see handle).
        threading.Timer(STOP_GRACE_S, os._exit, (0,)).start()
        metrics.close()
        await app.producer.flush()
        write_stats(stats_path, counters.as_dict() | {"metrics_written": metrics.written,
                                                      "metrics_failed": metrics.failed})

    signal.signal(signal.SIGHUP, lambda *_: reload_requested.update(flag=True))
    return app


def run_worker(config_path: str | None, stats_path: str | None, loglevel: str = "warning") -> None:
    """Run one Faust worker until SIGTERM/SIGINT."""
    settings = load_settings(config_path)
    app = create_app(settings, stats_path, config_path)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
