"""The alert dispatcher: Kafka alerts topic -> store -> groups -> notifiers.

Why this order: a record's offset is committed only after its alert is in
the store (one SQLite transaction per polled batch), and a notification is
recorded as sent only after its receiver took it. A crash therefore costs
at most a re-read of uncommitted records (harmless: alert ids are
deterministic and storing is idempotent) and a re-send of a notification
whose delivery was not yet recorded, with the same ``Idempotency-Key``.
A record that is not a valid Finding goes to the dead-letter topic with the
reason, and its offset is committed too: nothing blocks the partition.

Deliveries run as their own tasks: a dead webhook that is being retried
with backoff never delays the e-mail of the same group, nor other groups.

Scale-out: dispatchers in one consumer group share the partitions and all
store what they consume; one of them, the holder of a lease in the store,
reads every change back from the store and notifies (a group may span
partitions, so grouping needs one place). When it stops it hands the lease
back; when it dies, a standby takes over after ``alerts.lease_s`` and
rebuilds its groups from the store, as after a restart.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError

from ..clients.kafka import client_options
from ..config import Settings
from ..streams.metrics import MetricsWriter
from ..streams.topics import ensure_topics
from .delivery import Deliverer
from .engine import AlertEngine, Pending
from .flapping import FlapDetector
from .inspections import InspectionOutbox
from .links import public_base_url
from .model import Alert, AlertParseError, parse_alert_record
from .notifiers import Notifier, build_notifier
from .notifiers.mqtt import MqttPublisher
from .order_metrics import OrderMetrics
from .policy import AlertPolicy, load_policy
from .routing import owning_team
from .sqlite_store import SqliteAlertStore
from .store import AlertStore

log = logging.getLogger(__name__)

STAT_KEYS = ("alerts_received", "alerts_stored", "alerts_delivered", "notifications_sent",
             "delivery_failures", "delivery_retries", "deadletters", "escalations", "leader")
SHUTDOWN_GRACE_S = 2.0  # deliveries in flight at SIGTERM; the whole stop stays under 5 s
LEASE_NAME = "alerts-notifier"
ESCALATION_CHECK_S = 0.5  # acknowledgements are read from the store at this pace
OUTBOX_CHECK_S = 2.0      # closed theft work orders are sent to the worker at this pace
ORDER_METRICS_S = 60.0  # work-order and theft totals to the metrics store at this pace
FETCH_MAX_WAIT_MS = 50  # alerts are few and urgent: do not let the broker hold a fetch


def store_path(settings: Settings) -> Path:
    """Where the SQLite alert store lives: ``alerts.store_path`` or under the state dir."""
    if settings.alerts.store_path:
        return Path(settings.alerts.store_path)
    return Path(settings.stack.state_dir) / "alerts.sqlite"


def open_store(settings: Settings) -> AlertStore:
    return SqliteAlertStore(store_path(settings))


def deadletter_record(record: ConsumerRecord, reason: str) -> bytes:
    """What goes to the dead-letter topic: the raw record and why it was refused."""
    return json.dumps({
        "reason": f"dispatcher: {reason}", "topic": record.topic,
        "partition": record.partition, "offset": record.offset,
        "key": (record.key or b"").decode("utf-8", "replace"), "received_at": time.time(),
        "raw_b64": base64.b64encode(record.value or b"").decode(),
    }).encode()


class Dispatcher:
    """One running dispatcher: its Kafka clients, engine, notifiers and tasks."""

    def __init__(self, settings: Settings, policy: AlertPolicy, store: AlertStore,
                 stats: dict[str, Any]) -> None:
        self.settings, self.policy, self.store, self.stats = settings, policy, store, stats
        alerts = settings.alerts
        self.engine: AlertEngine | None = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.deliverer = Deliverer(store, alerts.retries, alerts.retry_backoff_s,
                                   alerts.retry_backoff_max_s, stats, alerts.retry_window_s)
        self.mqtt = MqttPublisher(settings.mqtt, f"{settings.mqtt.client_id}-alerts")
        self.notifiers: dict[str, Notifier] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.cursor = 0
        self.outbox = InspectionOutbox(store)
        self.order_metrics = OrderMetrics(store, settings.kpis.organisation)
        self.metrics: MetricsWriter | None = None

    def _write_order_metrics(self, now: float) -> None:
        """The work-order and theft totals, to the metrics store (the leader's job).

        No retries: the totals are written again a minute later, so a lost
        write costs nothing, and a metrics store that is down must not hold
        up the dispatcher's shutdown.
        """
        if self.metrics is None:
            self.metrics = MetricsWriter(dataclasses.replace(self.settings.metrics,
                                                             max_retries=0))
        self.metrics.write(self.order_metrics.points(now))

    def _kafka_clients(self) -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
        kafka = self.settings.kafka
        consumer = AIOKafkaConsumer(
            kafka.alerts_topic, **client_options(kafka), group_id=self.settings.alerts.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest",
            session_timeout_ms=int(kafka.session_timeout_s * 1000),
            heartbeat_interval_ms=int(kafka.heartbeat_interval_s * 1000),
            rebalance_timeout_ms=int(kafka.rebalance_timeout_s * 1000),
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS)
        producer = AIOKafkaProducer(acks="all", **client_options(kafka))
        return consumer, producer

    async def run(self, stop: asyncio.Event) -> None:
        consumer, producer = self._kafka_clients()
        async with aiohttp.ClientSession() as session:
            self.notifiers = {
                integration.name: build_notifier(integration, session, self.settings.alerts.smtp,
                                                 self.mqtt)
                for receiver in self.policy.receivers.values()
                for integration in receiver.integrations
            }
            await ensure_topics(self.settings.kafka)
            await producer.start()
            await consumer.start()
            try:
                workers = [asyncio.create_task(self._consume(consumer, producer, stop)),
                           asyncio.create_task(self._schedule(stop)),
                           asyncio.create_task(self._send_inspections(producer, stop))]
                stopped = asyncio.create_task(stop.wait())
                done, _ = await asyncio.wait([*workers, stopped],
                                             return_when=asyncio.FIRST_COMPLETED)
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                stopped.cancel()
                for task in done:
                    if task is not stopped and task.exception():
                        raise task.exception()  # type: ignore[misc]
                await self._drain()
            finally:
                self.store.release_lease(LEASE_NAME, self.holder)
                await consumer.stop()
                await producer.stop()
                await asyncio.to_thread(self.mqtt.close)
                if self.metrics is not None:
                    await asyncio.to_thread(self.metrics.close)

    async def _consume(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer,
                       stop: asyncio.Event) -> None:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            records = [r for partition_records in batches.values() for r in partition_records]
            if not records:
                continue
            now = time.time()
            alerts: list[Alert] = []
            for record in records:
                try:
                    alert = parse_alert_record(record.value, now)
                except AlertParseError as exc:
                    log.warning("alert record %s/%d@%d refused: %s", record.topic,
                                record.partition, record.offset, exc)
                    await self._deadletter(producer, record, str(exc), stop)
                    continue
                alert.team = owning_team(self.policy.route, alert.labels())
                alerts.append(alert)
            self.stats["alerts_received"] += len(alerts)
            stored = await asyncio.to_thread(self.store.upsert_alerts, alerts) if alerts else []
            self.stats["alerts_stored"] += len(stored)
            try:
                await consumer.commit()
            except KafkaError as exc:
                log.warning("offset commit failed (%s); the next commit covers these records, "
                            "or they are re-read, harmlessly", exc)

    async def _deadletter(self, producer: AIOKafkaProducer, record: ConsumerRecord,
                          reason: str, stop: asyncio.Event) -> None:
        """Park a refused record on the dead-letter topic, waiting out a broker outage.

        The offset is not committed past a record that is not parked yet: if the
        dispatcher stops first, the record is read (and refused) again.
        """
        delay = self.settings.alerts.retry_backoff_s
        while True:
            try:
                await producer.send_and_wait(self.settings.kafka.deadletter_topic,
                                             deadletter_record(record, reason), key=record.key)
            except KafkaError as exc:
                if stop.is_set():
                    raise
                log.warning("dead-letter topic unreachable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.alerts.retry_backoff_max_s)
            else:
                self.stats["deadletters"] += 1
                return

    def _lead(self, now: float) -> None:
        """Take, keep or lose the notifying role; a new leader rebuilds from the store."""
        alerts = self.settings.alerts
        if self.store.acquire_lease(LEASE_NAME, self.holder, alerts.lease_s, now):
            if self.engine is None:
                self.cursor = self.store.change_cursor()
                self.engine = AlertEngine(self.policy, self.store, FlapDetector(
                    alerts.flap_window_s, alerts.flap_max_transitions),
                    public_base_url(self.settings), alerts.replay_backoff_s,
                    alerts.replay_backoff_max_s)
                self.engine.restore(now)
                self.stats["leader"] = 1
                log.info("dispatcher %s notifies (lease %s)", self.holder, LEASE_NAME)
        elif self.engine is not None:
            log.warning("dispatcher %s lost the notifying lease; standing by", self.holder)
            self.engine = None
            self.stats["leader"] = 0

    async def _schedule(self, stop: asyncio.Event) -> None:
        """Every dispatcher stores what it consumes; the lease holder alone notifies."""
        tick = self.settings.alerts.tick_s
        next_lease = next_escalation_check = next_order_metrics = 0.0
        while not stop.is_set():
            now = time.time()
            if now >= next_lease:
                next_lease = now + self.settings.alerts.lease_s / 3
                self._lead(now)
            engine = self.engine
            if engine is not None:
                changed, self.cursor = self.store.changed_since(self.cursor)
                engine.ingest(changed, now)
                for pending in engine.due(now):
                    self._spawn(self._deliver_group(engine, pending))
                if now >= next_escalation_check:
                    next_escalation_check = now + ESCALATION_CHECK_S
                    for alert_id, pendings in engine.escalations_due(now):
                        self._spawn(self._escalate(engine, alert_id, pendings))
                engine.save_records()
                if now >= next_order_metrics:
                    next_order_metrics = now + ORDER_METRICS_S
                    self._spawn(asyncio.to_thread(self._write_order_metrics, now))
            await asyncio.sleep(tick)

    async def _send_inspections(self, producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
        """The lease holder sends closed theft work orders to the inspections topic, keyed
        by area (the worker that owns the area learns from them); a broker outage only
        delays them (`InspectionOutbox`)."""
        topic = self.settings.kafka.inspections_topic
        while not stop.is_set():
            await asyncio.sleep(OUTBOX_CHECK_S)
            if self.engine is None:
                continue
            outcomes = await asyncio.to_thread(self.outbox.pending)
            try:
                for outcome in outcomes:
                    await producer.send_and_wait(topic, json.dumps(outcome.to_dict()).encode(),
                                                 key=outcome.area.encode())
                    self.outbox.sent([outcome])
            except KafkaError as exc:
                log.warning("inspections topic unreachable (%s); retrying", exc)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _deliver_group(self, engine: AlertEngine, pending: Pending) -> None:
        ok = False
        try:
            ok = await self.deliverer.deliver(self.notifiers[pending.integration.name],
                                              pending.notification)
        finally:
            engine.delivered(pending, ok, time.time())

    async def _escalate(self, engine: AlertEngine, alert_id: str,
                        pendings: list[Pending]) -> None:
        await asyncio.gather(*(self.deliverer.deliver(self.notifiers[p.integration.name],
                                                      p.notification) for p in pendings))
        engine.escalated(alert_id, time.time())
        self.stats["escalations"] += 1

    async def _drain(self) -> None:
        """Let deliveries in flight finish (briefly), so a clean stop repeats nothing."""
        if self.tasks:
            _, late = await asyncio.wait(set(self.tasks), timeout=SHUTDOWN_GRACE_S)
            for task in late:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*late, return_exceptions=True)
        if self.engine is not None:
            self.engine.save_records()


async def run_dispatcher(settings: Settings, stop: asyncio.Event,
                         stats: dict[str, Any] | None = None) -> None:
    """Consume the alerts topic and notify until `stop` is set.

    `stats` (if given) is updated in place: ``alerts_received``,
    ``alerts_stored``, ``alerts_delivered`` (alert states, firing or resolved,
    that reached at least one receiver), ``notifications_sent`` (per receiver),
    ``delivery_failures`` (retry windows that ended without success, each
    with a dead-letter record in the store; the news is replayed later), ``delivery_retries``,
    ``deadletters`` (records sent to the Kafka dead-letter topic) and
    ``escalations``.
    """
    stats = {} if stats is None else stats
    for key in STAT_KEYS:
        stats.setdefault(key, 0)
    policy = load_policy(settings)
    store = open_store(settings)
    try:
        await Dispatcher(settings, policy, store, stats).run(stop)
    finally:
        store.close()
