"""The one registry of problem kinds: every condition a detector names and the simulator injects.

Why one registry: detectors emit `Finding.kind`, the simulator labels what it
injects, the evaluation scores one against the other, and the alert policy
mutes the consequences of an outage. When each of them kept its own list, the
lists drifted (two different ``THEFT_KINDS``). Here a kind is declared once,
with everything the other floors need to know about it:

* ``level``: the entity it is reported on (meter, area, feeder, concentrator);
* ``problem_class``: fault, theft, leakage, voltage or data quality (reports
  group by it);
* ``severity``: the severity a detector gives it unless it says otherwise;
* ``found_by``: the detector (its ``NAME``) that reports it;
* ``consequence_of``: kinds it is a known consequence of. An alert of this
  kind during one of those is a true symptom, not a false alarm, when scoring;
* ``muted_by``: outage kinds that mute it in the alert policy (whoever has no
  supply cannot be judged for theft, loss or voltage);
* ``tolerance_s``: how late after the labelled problem ends an alert still
  counts as finding it when scoring (slow evidence needs days, a fault an hour);
* ``metric``: the (measurement, field) its detector's evidence shows in, which
  the evaluation report plots beside each alert;
* ``labelled``: whether the simulator injects it (labels may carry it);
* ``leads``: kinds it announces *before* they begin (a forecast warning). An
  alert of this kind counts as followed by its event when a label of one of
  those kinds on the same entity begins within ``lead_s`` after it, or is
  under way when it fires.

Adding a kind = one `register` call below (or in the new detector's module,
before use) and the detector that fires it. Constants such as `OUTAGE_AREA`
exist so code names a kind without a string literal a typo could break.
"""

from __future__ import annotations

from dataclasses import dataclass

from .measurements import AREA_BALANCE, AREA_FORECAST, AREA_INTERVAL

METER, AREA, FEEDER, CONCENTRATOR = "meter", "area", "feeder", "concentrator"
LEVELS = (METER, AREA, FEEDER, CONCENTRATOR)
FAULT, THEFT, LEAKAGE, VOLTAGE, DATA_QUALITY = "fault", "theft", "leakage", "voltage", \
    "data_quality"
CLASSES = (THEFT, LEAKAGE, VOLTAGE, FAULT, DATA_QUALITY)
HOUR_S = 3600.0
DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """One kind of problem and what every floor needs to know about it."""

    name: str
    level: str
    problem_class: str
    found_by: str
    severity: str = "warning"
    consequence_of: tuple[str, ...] = ()
    muted_by: tuple[str, ...] = ()
    tolerance_s: float = 6 * HOUR_S
    metric: tuple[str, str] = (AREA_INTERVAL, "readings")
    labelled: bool = True
    leads: tuple[str, ...] = ()
    lead_s: float = 0.0

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"kind {self.name!r}: level {self.level!r} not one of {LEVELS}")
        if self.problem_class not in CLASSES:
            raise ValueError(f"kind {self.name!r}: class {self.problem_class!r} "
                             f"not one of {CLASSES}")


KINDS: dict[str, ProblemKind] = {}


def register(kind: ProblemKind) -> str:
    """Declare a kind (once); return its name for use as a constant.

    >>> register(ProblemKind("theft_bypass", METER, THEFT, "energy_balance"))
    Traceback (most recent call last):
    ...
    ValueError: kind 'theft_bypass' is already registered
    """
    if kind.name in KINDS:
        raise ValueError(f"kind {kind.name!r} is already registered")
    KINDS[kind.name] = kind
    return kind.name


def kind_of(name: str) -> ProblemKind:
    """The registered kind called ``name``; a clear error for a name nobody registered."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown problem kind {name!r}; registered: {sorted(KINDS)}") from None


def kinds_where(problem_class: str | None = None, found_by: str | None = None,
                labelled: bool | None = None) -> tuple[str, ...]:
    """Names of the registered kinds matching every given criterion, in registration order.

    >>> kinds_where(THEFT, found_by="theft_signs")
    ('theft_phase_tamper', 'theft_reverse_energy', 'theft_tamper_event')
    """
    return tuple(k.name for k in KINDS.values()
                 if (problem_class is None or k.problem_class == problem_class)
                 and (found_by is None or k.found_by == found_by)
                 and (labelled is None or k.labelled == labelled))


def muted_by(source: str) -> tuple[str, ...]:
    """The kinds an open ``source`` alert mutes.

    >>> "outage_area" in muted_by("outage_feeder"), "voltage_swell" in muted_by("outage_area")
    (True, False)
    """
    return tuple(k.name for k in KINDS.values() if source in k.muted_by)


_OUTAGES = ("outage_area", "outage_feeder")
_THEFT_BALANCE = ("theft_bypass", "theft_night_bypass", "theft_meter_stopped")
_THEFT_SIGNS = ("theft_phase_tamper", "theft_reverse_energy", "theft_tamper_event")


def _theft(name: str, found_by: str) -> str:
    others = tuple(k for k in _THEFT_BALANCE + _THEFT_SIGNS if k != name)
    return register(ProblemKind(name, METER, THEFT, found_by, consequence_of=others,
                                muted_by=_OUTAGES, tolerance_s=3 * DAY_S,
                                metric=(AREA_BALANCE, "excess_z")))


THEFT_BYPASS = _theft("theft_bypass", "energy_balance")
THEFT_NIGHT_BYPASS = _theft("theft_night_bypass", "energy_balance")
THEFT_METER_STOPPED = _theft("theft_meter_stopped", "energy_balance")
THEFT_PHASE_TAMPER = _theft("theft_phase_tamper", "theft_signs")
THEFT_REVERSE_ENERGY = _theft("theft_reverse_energy", "theft_signs")
THEFT_TAMPER_EVENT = _theft("theft_tamper_event", "theft_signs")
LEAKAGE_KIND = register(ProblemKind("leakage", AREA, LEAKAGE, "energy_balance",
                                    muted_by=_OUTAGES, tolerance_s=3 * DAY_S,
                                    metric=(AREA_BALANCE, "excess_z")))
METERING_FAULT = register(ProblemKind("metering_fault", AREA, LEAKAGE, "energy_balance",
                                      labelled=False))
LOW_VOLTAGE_ZONE = register(ProblemKind(
    "low_voltage_zone", AREA, VOLTAGE, "low_voltage",
    consequence_of=("transformer_overload", "voltage_sag"), muted_by=_OUTAGES,
    tolerance_s=6 * HOUR_S, metric=(AREA_INTERVAL, "low_voltage_points")))
OUTAGE_AREA = register(ProblemKind("outage_area", AREA, FAULT, "faults", severity="critical",
                                   consequence_of=("outage_feeder",),
                                   muted_by=("outage_feeder",), tolerance_s=HOUR_S,
                                   metric=(AREA_INTERVAL, "voltage_min_v")))
OUTAGE_FEEDER = register(ProblemKind("outage_feeder", FEEDER, FAULT, "feeder_outage",
                                     severity="critical", tolerance_s=HOUR_S,
                                     metric=(AREA_INTERVAL, "voltage_min_v")))
METER_POWER_LOSS = register(ProblemKind(
    "meter_power_loss", METER, FAULT, "faults",
    consequence_of=("outage_area", "outage_feeder", "phase_loss"), muted_by=_OUTAGES,
    tolerance_s=HOUR_S, metric=(AREA_INTERVAL, "voltage_min_v")))
PHASE_LOSS = register(ProblemKind("phase_loss", AREA, FAULT, "faults", severity="critical",
                                  consequence_of=_OUTAGES, muted_by=_OUTAGES,
                                  tolerance_s=HOUR_S, metric=(AREA_INTERVAL, "voltage_min_v")))
TRANSFORMER_OVERLOAD = register(ProblemKind("transformer_overload", AREA, FAULT, "faults",
                                            tolerance_s=HOUR_S,
                                            metric=(AREA_INTERVAL, "power_kw")))
VOLTAGE_SAG = register(ProblemKind("voltage_sag", AREA, FAULT, "faults", muted_by=_OUTAGES,
                                   tolerance_s=HOUR_S, metric=(AREA_INTERVAL, "voltage_mean_v")))
VOLTAGE_SWELL = register(ProblemKind("voltage_swell", AREA, FAULT, "faults",
                                     tolerance_s=HOUR_S,
                                     metric=(AREA_INTERVAL, "voltage_max_v")))
DQ_CONCENTRATOR_DROPOUT = register(ProblemKind(
    "dq_concentrator_dropout", CONCENTRATOR, DATA_QUALITY, "data_quality", muted_by=_OUTAGES,
    tolerance_s=2 * HOUR_S))
DQ_STUCK_METER = register(ProblemKind(
    "dq_stuck_meter", METER, DATA_QUALITY, "data_quality",
    consequence_of=("outage_area", "outage_feeder", "meter_power_loss", "phase_loss"),
    muted_by=_OUTAGES, tolerance_s=6 * HOUR_S))
DQ_DUPLICATE = register(ProblemKind("dq_duplicate", CONCENTRATOR, DATA_QUALITY, "data_quality",
                                    muted_by=_OUTAGES, tolerance_s=HOUR_S))
DQ_OUT_OF_ORDER = register(ProblemKind("dq_out_of_order", CONCENTRATOR, DATA_QUALITY,
                                       "data_quality", muted_by=_OUTAGES, tolerance_s=HOUR_S))
DQ_CLOCK_SKEW = register(ProblemKind("dq_clock_skew", METER, DATA_QUALITY, "data_quality",
                                     muted_by=_OUTAGES, tolerance_s=2 * HOUR_S))
# Early warnings from the day-ahead load forecast: nobody injects them, they announce the
# labelled overload or low-voltage zone up to a day and a half ahead (the day-ahead horizon
# plus the hours the forecast takes to confirm).
FORECAST_OVERLOAD = register(ProblemKind(
    "forecast_overload", AREA, FAULT, "forecast", muted_by=_OUTAGES, tolerance_s=HOUR_S,
    metric=(AREA_FORECAST, "peak"), labelled=False, leads=("transformer_overload",),
    lead_s=36 * HOUR_S))
FORECAST_LOW_VOLTAGE = register(ProblemKind(
    "forecast_low_voltage", AREA, VOLTAGE, "forecast", muted_by=_OUTAGES, tolerance_s=HOUR_S,
    consequence_of=("transformer_overload", "voltage_sag"),
    metric=(AREA_FORECAST, "peak"), labelled=False, leads=("low_voltage_zone",),
    lead_s=36 * HOUR_S))


def leading(kind: str) -> tuple[str, ...]:
    """The kinds an alert of ``kind`` announces ahead of their onset (its ``leads``).

    >>> leading("forecast_overload"), leading("transformer_overload")
    (('transformer_overload',), ())
    """
    known = KINDS.get(kind)
    return known.leads if known is not None else ()
# pipeline health: the Kafka broker lost its log (offsets regressed), see streams/broker_reset.py
PIPELINE_BROKER_RESET = register(ProblemKind("pipeline_broker_reset", AREA, DATA_QUALITY, "worker",
                                             severity="critical", labelled=False))


def class_of(kind: str) -> str:
    """The reporting class a kind belongs to ("other" for a name nobody registered).

    >>> class_of("theft_bypass"), class_of("dq_duplicate"), class_of("made_up")
    ('theft', 'data_quality', 'other')
    """
    known = KINDS.get(kind)
    return known.problem_class if known is not None else "other"
