"""Versioned schema of a concentrator batch, the unit that flows MQTT -> Kafka -> Faust.

A concentrator uploads its meters' 15-minute readings in one message. The
bridge validates that message here, before anything reaches Kafka, so that a
detector never has to defend itself against a malformed reading: every
rejection carries a reason a person can read, and the raw bytes go to the
dead-letter topic with it.

Wire format (JSON, ``schema`` = ``gridwatch.batch.v1``)::

    {"schema": "gridwatch.batch.v1", "concentrator": "C-F01-A01",
     "area": "F01-A01", "feeder": "F01", "sent_at": 1767571200.0,
     "readings": [
        {"meter": "F01-A01-M001", "ts": 1767571200, "role": "customer",
         "phases": 1, "energy_kwh": 1234.5, "voltage": [221.3],
         "current": [3.2], "power_kw": 0.7, "pf": 0.95, "events": []}, ...]}

``role`` is ``customer`` or ``area`` (the transformer-area meter);
``energy_kwh`` is the cumulative import register; ``voltage`` and ``current``
hold one value per phase (1 or 3). Optional: ``reverse_kwh`` (export
register), ``events`` (meter event codes such as ``cover_open``), ``rated_kva``
(on the area meter: the transformer's rating, for overload detection; 0 = unknown).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

SCHEMA_V1 = "gridwatch.batch.v1"
SUPPORTED_SCHEMAS = (SCHEMA_V1,)
ROLES = ("customer", "area")
KNOWN_EVENTS = frozenset({
    "cover_open", "terminal_cover_open", "magnetic_interference", "power_down", "power_up",
    "reverse_energy", "clock_reset", "phase_failure",
})
MAX_READINGS_PER_BATCH = 10_000


class SchemaError(ValueError):
    """A payload does not match the batch schema; the message says where and why."""


@dataclass(slots=True)
class Reading:
    """One meter's reading at one interval end."""

    meter: str
    ts: float
    role: str
    phases: int
    energy_kwh: float
    voltage: list[float]
    current: list[float]
    power_kw: float = 0.0
    pf: float = 1.0
    reverse_kwh: float = 0.0
    events: list[str] = field(default_factory=list)
    rated_kva: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {
            "meter": self.meter, "ts": self.ts, "role": self.role, "phases": self.phases,
            "energy_kwh": self.energy_kwh, "voltage": self.voltage, "current": self.current,
            "power_kw": self.power_kw, "pf": self.pf, "reverse_kwh": self.reverse_kwh,
            "events": self.events,
        }
        if self.rated_kva:
            out["rated_kva"] = self.rated_kva
        return out


@dataclass(slots=True)
class Batch:
    """One concentrator upload: one area's readings, possibly several intervals."""

    concentrator: str
    area: str
    feeder: str
    sent_at: float
    readings: list[Reading]
    schema: str = SCHEMA_V1

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema, "concentrator": self.concentrator, "area": self.area,
            "feeder": self.feeder, "sent_at": self.sent_at,
            "readings": [r.to_dict() for r in self.readings],
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()


def _finite(value: Any) -> bool:
    """A JSON number that fits a float and is finite (JSON integers can be any length)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _number(obj: dict[str, Any], key: str, where: str, *, required: bool = True,
            default: float = 0.0, minimum: float | None = None) -> float:
    if key not in obj:
        if required:
            raise SchemaError(f"{where}: missing field '{key}'")
        return default
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaError(f"{where}: field '{key}' must be a number, got {value!r}")
    if not _finite(value):
        raise SchemaError(f"{where}: field '{key}' must be a finite number, got {value!r:.40}")
    if minimum is not None and value < minimum:
        raise SchemaError(f"{where}: field '{key}' must be >= {minimum}, got {value!r}")
    return float(value)


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value or len(value) > 128:
        raise SchemaError(f"{where}: field '{key}' must be a non-empty string (<=128 chars), "
                          f"got {value!r}")
    return value


def _phase_values(obj: dict[str, Any], key: str, phases: int, where: str) -> list[float]:
    values = obj.get(key)
    if not isinstance(values, list) or len(values) != phases:
        raise SchemaError(f"{where}: field '{key}' must be a list of {phases} number(s), "
                          f"got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v) or v < 0:
            raise SchemaError(f"{where}: field '{key}' holds {v!r:.40}, not a finite number >= 0")
        out.append(float(v))
    return out


def parse_reading(obj: Any, where: str) -> Reading:
    """Validate one reading object."""
    if not isinstance(obj, dict):
        raise SchemaError(f"{where}: a reading must be an object, got {type(obj).__name__}")
    role = obj.get("role", "customer")
    if role not in ROLES:
        raise SchemaError(f"{where}: field 'role' must be one of {ROLES}, got {role!r}")
    phases = obj.get("phases", 1)
    if phases not in (1, 3) or isinstance(phases, bool):
        raise SchemaError(f"{where}: field 'phases' must be 1 or 3, got {phases!r}")
    events = obj.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise SchemaError(f"{where}: field 'events' must be a list of strings")
    unknown = [e for e in events if e not in KNOWN_EVENTS]
    if unknown:
        raise SchemaError(f"{where}: unknown event code(s) {unknown}; "
                          f"known: {sorted(KNOWN_EVENTS)}")
    return Reading(
        meter=_text(obj, "meter", where),
        ts=_number(obj, "ts", where, minimum=0),
        role=role,
        phases=phases,
        energy_kwh=_number(obj, "energy_kwh", where, minimum=0),
        voltage=_phase_values(obj, "voltage", phases, where),
        current=_phase_values(obj, "current", phases, where),
        power_kw=_number(obj, "power_kw", where, required=False),
        pf=_number(obj, "pf", where, required=False, default=1.0),
        reverse_kwh=_number(obj, "reverse_kwh", where, required=False, minimum=0),
        events=list(events),
        rated_kva=_number(obj, "rated_kva", where, required=False, minimum=0),
    )


def parse_batch_obj(obj: Any) -> Batch:
    """Validate an already-decoded batch object."""
    if not isinstance(obj, dict):
        raise SchemaError(f"batch must be a JSON object, got {type(obj).__name__}")
    schema = obj.get("schema")
    if schema not in SUPPORTED_SCHEMAS:
        raise SchemaError(f"unsupported schema {schema!r}; supported: {list(SUPPORTED_SCHEMAS)}")
    readings = obj.get("readings")
    if not isinstance(readings, list) or not readings:
        raise SchemaError("field 'readings' must be a non-empty list")
    if len(readings) > MAX_READINGS_PER_BATCH:
        raise SchemaError(f"batch holds {len(readings)} readings, more than "
                          f"{MAX_READINGS_PER_BATCH}")
    return Batch(
        schema=schema,
        concentrator=_text(obj, "concentrator", "batch"),
        area=_text(obj, "area", "batch"),
        feeder=_text(obj, "feeder", "batch"),
        sent_at=_number(obj, "sent_at", "batch", minimum=0),
        readings=[parse_reading(r, f"readings[{i}]") for i, r in enumerate(readings)],
    )


def trusted_batch(obj: dict[str, Any]) -> Batch:
    """Rebuild a batch the bridge already validated, without checking it again.

    Why: validation is the bridge's job at the edge; re-checking every field
    in the worker would halve its throughput. A record that is nevertheless
    malformed (written to the topic by something else) raises here or in
    the detectors, and the worker dead-letters it with the reason.
    """
    readings = [Reading(meter=r["meter"], ts=r["ts"], role=r.get("role", "customer"),
                        phases=r.get("phases", 1), energy_kwh=r["energy_kwh"],
                        voltage=r["voltage"], current=r["current"],
                        power_kw=r.get("power_kw", 0.0), pf=r.get("pf", 1.0),
                        reverse_kwh=r.get("reverse_kwh", 0.0), events=r.get("events", []),
                        rated_kva=r.get("rated_kva", 0.0))
                for r in obj["readings"]]
    return Batch(obj["concentrator"], obj["area"], obj["feeder"], obj["sent_at"], readings,
                 obj["schema"])


def parse_batch(payload: bytes) -> Batch:
    """Decode and validate raw bytes from MQTT.

    >>> b = parse_batch(b'{"schema":"gridwatch.batch.v1","concentrator":"C1","area":"A1",'
    ...   b'"feeder":"F1","sent_at":1,"readings":[{"meter":"M1","ts":900,"energy_kwh":1.5,'
    ...   b'"voltage":[221.0],"current":[2.0]}]}')
    >>> (b.area, b.readings[0].voltage)
    ('A1', [221.0])
    >>> parse_batch(b'{"schema":"v0"}')
    Traceback (most recent call last):
    ...
    gridwatch.vocabulary.schema.SchemaError: unsupported schema 'v0'; supported: [...]
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"payload is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"payload is not JSON: {exc.msg} at line {exc.lineno} "
                          f"column {exc.colno}") from exc
    except ValueError as exc:  # e.g. an integer literal longer than Python converts
        raise SchemaError(f"payload is not usable JSON: {exc}") from exc
    except RecursionError as exc:
        raise SchemaError("payload is not usable JSON: nested too deeply") from exc
    return parse_batch_obj(obj)
