"""Writes metric points to InfluxDB (or VictoriaMetrics) with influxdb-client.

Why batched and asynchronous: the worker must never wait on the metrics
store. influxdb-client's batching write API buffers points, flushes them
from a background thread and retries with backoff, so a store outage delays
metrics instead of stalling detection; success and failure callbacks keep
counts that the pipeline reports about itself.

Why marks: points in the buffer die with the process. The writer numbers
the lines it is handed (`submitted`) and counts those flushed (`settled`,
written or given up after retries). influxdb-client flushes its batches one
at a time, in order, so every line numbered up to `settled` has left the
buffer; the worker keeps the rest beside the area's state
(`area_record.Pending`) and a restarted worker writes them again. `epoch`
tells this writer's numbers from a dead process's.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import WriteOptions

from ..config import MetricsSettings
from ..vocabulary.measurements import MetricPoint

log = logging.getLogger(__name__)


def to_influx_point(point: MetricPoint) -> Point:
    p = Point(point.measurement).time(int(point.ts * 1000), WritePrecision.MS)
    for key, value in point.tags.items():
        p = p.tag(key, value)
    for key, value in point.fields.items():
        p = p.field(key, float(value))
    return p


def to_lines(points: Iterable[MetricPoint]) -> list[str]:
    """Points as InfluxDB line protocol with millisecond timestamps (what the writer buffers
    and a worker keeps pending)."""
    return [to_influx_point(p).to_line_protocol() for p in points]


class MetricsWriter:
    """Batched, asynchronous, retrying writer; counts points written and failed."""

    def __init__(self, settings: MetricsSettings) -> None:
        self.settings = settings
        self.written = 0
        self.failed = 0
        self.submitted = 0
        self.epoch = uuid.uuid4().hex[:16]
        self._lock = threading.Lock()
        self._client = InfluxDBClient(url=settings.url, token=settings.token or "none",
                                      org=settings.org)
        options = WriteOptions(batch_size=settings.batch_size,
                               flush_interval=settings.flush_interval_ms,
                               retry_interval=settings.retry_interval_ms,
                               max_retries=settings.max_retries,
                               max_retry_delay=30_000, exponential_base=2)
        self._api = self._client.write_api(write_options=options,
                                           success_callback=self._on_success,
                                           error_callback=self._on_error)

    def _on_success(self, conf: tuple, data: str | bytes) -> None:
        with self._lock:
            self.written += _line_count(data)

    def _on_error(self, conf: tuple, data: str | bytes, exc: BaseException) -> None:
        with self._lock:
            self.failed += _line_count(data)
        log.error("metrics write failed after retries (%s lines): %s", _line_count(data), exc)

    @property
    def settled(self) -> int:
        """Lines flushed so far (written or failed), in submission order."""
        with self._lock:
            return self.written + self.failed

    def write(self, points: Iterable[MetricPoint]) -> None:
        self.write_lines(to_lines(points))

    def write_lines(self, lines: list[str]) -> int:
        """Buffer line-protocol lines; return the mark `settled` reaches once they are flushed."""
        if lines:
            self._api.write(bucket=self.settings.bucket, org=self.settings.org,
                            record=lines, write_precision=WritePrecision.MS)
            self.submitted += len(lines)
        return self.submitted

    def close(self) -> None:
        """Flush what is buffered, then release the client."""
        self._api.close()
        self._client.close()


def _line_count(data: str | bytes) -> int:
    text = data.decode() if isinstance(data, bytes) else data
    return text.count("\n") + 1 if text else 0
