"""Plausibility bounds: schema-valid readings that no meter can have produced.

Why a second gate after the schema: the schema checks types and signs, so
``energy_kwh: 1e300``, a phase at 1 MV or a power factor of 1e10 pass it
and would then poison every baseline, balance and roll-up downstream. The
bridge refuses such a batch as a whole (one reading that absurd says the
concentrator or its firmware is faulty) and dead-letters it with a reason
that names the reading, the quantity, the value and the configured bound.

Registers only count up: between two readings of one meter in one batch
(in time order), the change of the import and export registers must lie in
``energy_step_kwh``; a register running backwards is refused the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..config import Bounds, PlausibilitySettings
from ..vocabulary.schema import Batch, Reading, SchemaError

SETTING = "bridge.plausible"


def _check(where: str, quantity: str, values: Iterable[float], bounds: Bounds,
           unit: str) -> None:
    for value in values:
        if not bounds.min <= value <= bounds.max:
            raise SchemaError(f"{where}: {quantity} {value!r} {unit} outside the plausible range "
                              f"[{bounds.min:g}, {bounds.max:g}] ({SETTING}.{quantity})")


def check_reading(reading: Reading, where: str, bounds: PlausibilitySettings) -> None:
    """Raise SchemaError naming the first quantity of `reading` outside its bounds.

    >>> from gridwatch.vocabulary.schema import Reading
    >>> check_reading(Reading("M1", 900.0, "customer", 1, 12.5, [1e6], [2.0]), "readings[0]",
    ...               PlausibilitySettings())
    Traceback (most recent call last):
    ...
    gridwatch.vocabulary.schema.SchemaError: readings[0]: voltage_v 1000000.0 V outside the \
plausible range [0, 1000] (bridge.plausible.voltage_v)
    """
    _check(where, "energy_kwh", [reading.energy_kwh], bounds.energy_kwh, "kWh")
    _check(where, "reverse_kwh", [reading.reverse_kwh], bounds.reverse_kwh, "kWh")
    _check(where, "voltage_v", reading.voltage, bounds.voltage_v, "V")
    _check(where, "current_a", reading.current, bounds.current_a, "A")
    _check(where, "power_kw", [reading.power_kw], bounds.power_kw, "kW")
    _check(where, "pf", [reading.pf], bounds.pf, "")
    _check(where, "rated_kva", [reading.rated_kva], bounds.rated_kva, "kVA")


def check_steps(readings: list[Reading], bounds: Bounds) -> None:
    """Each meter's registers, in time order, move by a plausible step (never backwards)."""
    by_meter: dict[str, list[tuple[float, int]]] = {}
    for index, reading in enumerate(readings):
        by_meter.setdefault(reading.meter, []).append((reading.ts, index))
    for meter, stamps in by_meter.items():
        stamps.sort()
        for (_, before), (_, after) in zip(stamps, stamps[1:], strict=False):
            a, b = readings[before], readings[after]
            for register in ("energy_kwh", "reverse_kwh"):
                step = getattr(b, register) - getattr(a, register)
                if not bounds.min <= step <= bounds.max:
                    raise SchemaError(
                        f"readings[{after}] (meter {meter!r}): {register} changed by {step:g} kWh "
                        f"since readings[{before}], outside the plausible step "
                        f"[{bounds.min:g}, {bounds.max:g}] ({SETTING}.energy_step_kwh)")


def check_batch(batch: Batch, bounds: PlausibilitySettings) -> None:
    """Raise SchemaError for the first implausible value in `batch`; return None if all pass."""
    for index, reading in enumerate(batch.readings):
        check_reading(reading, f"readings[{index}] (meter {reading.meter!r})", bounds)
    check_steps(batch.readings, bounds.energy_step_kwh)
