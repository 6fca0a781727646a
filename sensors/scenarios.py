"""Scenario files: which problems strike, how many times and for how long; the seed says where.

Why declarative counts rather than fixed places: a detector tuned on one
layout of problems learns that layout. A scenario lists kinds with a count,
a duration range and parameter ranges; `plan_events` draws the entity, the
onset and the parameters of each occurrence from the seed, so another seed
gives another grid *and* other places and times. Occurrences never overlap
in an area (with a margin), so each label stays attributable. Pinning an
occurrence (``entity:``, ``start_h:``) is possible for hand-made test cases.

File format (YAML)::

    name: default
    days: 60
    start: "2026-01-05T00:00:00+00:00"
    interval_s: 900
    warmup_days: 7                # no problem starts before: detectors learn baselines
    grid: {substations: 2, feeders_per_substation: 3, areas_per_feeder: 4,
           meters_per_area: 20}   # any GridSpec field
    customers: {variability: calibrated}   # or legacy (the default; see sensors.variability)

``extends: default.yaml`` takes every top-level key the file does not give
from that file (beside it).
    events:
      - {kind: theft_bypass, count: 3, duration_days: [7, 25], fraction: [0.4, 0.8]}
      - {kind: leakage, count: 3, shape: ramp}

A parameter given as ``[lo, hi]`` is drawn uniformly, a list of words is a
choice, a scalar is fixed; each must have the shape of its default. Problems
are present for readings with ``start < ts <= end`` (readings are stamped at
the end of their interval).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..vocabulary.kinds import AREA, FEEDER, METER, kind_of
from ..vocabulary.labels import Label
from .simulator import DAY_S, parse_start
from .topology import Grid, GridSpec
from .variability import LEGACY, VARIABILITIES

HOUR_S = 3600
MARGIN_S = 12 * HOUR_S
PLACEMENT_TRIES = 400
PLAN_STREAM = 3
MAX_EXTENDS = 4


class ScenarioError(ValueError):
    """A scenario file is wrong; the message names the file and the key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"scenario {source}: {key}: {problem}")


@dataclass(frozen=True)
class KindRule:
    """Defaults of one kind: duration range (hours) and parameter ranges."""

    duration_h: tuple[float, float]
    params: dict[str, Any] = field(default_factory=dict)
    three_phase_only: bool = False
    heavy_user: bool = False


DAYS_H = 24.0
KIND_RULES: dict[str, KindRule] = {
    "theft_bypass": KindRule((7 * DAYS_H, 25 * DAYS_H), {"fraction": [0.4, 0.8]},
                             heavy_user=True),
    "theft_night_bypass": KindRule((7 * DAYS_H, 25 * DAYS_H),
                                   {"fraction": [0.8, 1.0], "night_from_h": 22.0,
                                    "night_to_h": 6.0}, heavy_user=True),
    "theft_meter_stopped": KindRule((5 * DAYS_H, 20 * DAYS_H), heavy_user=True),
    "theft_phase_tamper": KindRule((7 * DAYS_H, 25 * DAYS_H), three_phase_only=True),
    "theft_reverse_energy": KindRule((5 * DAYS_H, 20 * DAYS_H), heavy_user=True),
    "theft_tamper_event": KindRule((7 * DAYS_H, 25 * DAYS_H),
                                   {"fraction": [0.3, 0.6],
                                    "event": ["cover_open", "terminal_cover_open",
                                              "magnetic_interference"]}, heavy_user=True),
    "leakage": KindRule((7 * DAYS_H, 20 * DAYS_H), {"share": [0.06, 0.15],
                                                    "shape": ["step", "ramp"]}),
    "low_voltage_zone": KindRule((3 * DAYS_H, 10 * DAYS_H),
                                 {"cause": ["weak_transformer", "long_branch"],
                                  "target_v": [189.0, 195.0]}),
    "outage_area": KindRule((1.0, 6.0)),
    "outage_feeder": KindRule((1.0, 4.0)),
    "meter_power_loss": KindRule((2.0, 24.0)),
    "phase_loss": KindRule((1.0, 8.0)),
    "transformer_overload": KindRule((2 * DAYS_H, 5 * DAYS_H), {"loading": [1.3, 1.6]}),
    "voltage_sag": KindRule((0.25, 0.5), {"depth": [0.80, 0.88]}),
    "voltage_swell": KindRule((0.25, 1.0), {"level": [1.08, 1.14]}),
    "dq_concentrator_dropout": KindRule((2.0, 12.0)),
    "dq_stuck_meter": KindRule((1 * DAYS_H, 5 * DAYS_H)),
    "dq_duplicate": KindRule((1.0, 6.0)),
    "dq_out_of_order": KindRule((1.0, 6.0)),
    "dq_clock_skew": KindRule((1 * DAYS_H, 5 * DAYS_H), {"offset_s": [300.0, 1800.0]}),
}


@dataclass
class EventSpec:
    """One ``events:`` entry of a scenario file."""

    kind: str
    count: int = 1
    duration_h: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    entity: str = ""
    start_h: float | None = None


@dataclass
class Scenario:
    """A parsed scenario file."""

    name: str
    days: int
    start: float
    interval_s: int
    warmup_days: float
    grid: GridSpec
    events: list[EventSpec]
    source: str = "<inline>"
    variability: str = LEGACY


@dataclass
class PlannedEvent:
    """One placed occurrence: its label plus what the injector needs to apply it."""

    label: Label
    areas: tuple[int, ...]
    slot: int
    params: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.label.kind


def _grid_spec(raw: Any, source: str) -> GridSpec:
    if raw is None:
        return GridSpec(weak_areas=0)
    if not isinstance(raw, dict):
        raise ScenarioError(source, "grid", "must be a mapping of GridSpec fields")
    fields = {f.name: f for f in dataclasses.fields(GridSpec)}
    values: dict[str, Any] = {"weak_areas": 0}
    for key, value in raw.items():
        if key not in fields:
            raise ScenarioError(source, f"grid.{key}",
                                f"unknown key (known: {', '.join(sorted(fields))})")
        default = fields[key].default
        if isinstance(default, tuple):
            if not isinstance(value, list) or len(value) != len(default):
                raise ScenarioError(source, f"grid.{key}",
                                    f"must be a list of {len(default)} numbers")
            value = tuple(float(v) for v in value)
        elif isinstance(default, int) and not (isinstance(value, int) and value >= 0):
            raise ScenarioError(source, f"grid.{key}", f"must be a whole number >= 0, "
                                                      f"got {value!r}")
        elif isinstance(default, float) and not isinstance(value, (int, float)):
            raise ScenarioError(source, f"grid.{key}", f"must be a number, got {value!r}")
        values[key] = value
    spec = GridSpec(**values)
    if spec.meters_per_area < 2 or spec.areas_per_feeder < 1:
        raise ScenarioError(source, "grid", "needs at least 1 area per feeder and 2 meters "
                                            "per area")
    return spec


def _variability(raw: Any, source: str) -> str:
    """The ``customers:`` mapping's day-to-day variability model."""
    if raw is None:
        return LEGACY
    if not isinstance(raw, dict):
        raise ScenarioError(source, "customers", "must be a mapping, e.g. "
                                                 "{variability: calibrated}")
    for key in raw:
        if key != "variability":
            raise ScenarioError(source, f"customers.{key}", "unknown key (known: variability)")
    value = raw.get("variability", LEGACY)
    if value not in VARIABILITIES:
        raise ScenarioError(source, "customers.variability",
                            f"must be one of {', '.join(VARIABILITIES)}, got {value!r}")
    return str(value)


def _duration(item: dict[str, Any], key: str, source: str) -> Any:
    if "duration_h" in item and "duration_days" in item:
        raise ScenarioError(source, key, "give duration_h or duration_days, not both")
    if "duration_days" in item:
        raw, factor = item.pop("duration_days"), DAYS_H
    elif "duration_h" in item:
        raw, factor = item.pop("duration_h"), 1.0
    else:
        return None
    values = raw if isinstance(raw, list) else [raw]
    if not values or len(values) > 2 or not all(
            isinstance(v, (int, float)) and v > 0 for v in values):
        raise ScenarioError(source, f"{key}.duration", "must be a positive number or [lo, hi]")
    return [float(v) * factor for v in values]


def _event_spec(item: Any, index: int, source: str) -> EventSpec:
    key = f"events[{index}]"
    if not isinstance(item, dict):
        raise ScenarioError(source, key, "must be a mapping with at least 'kind'")
    item = dict(item)
    kind = item.pop("kind", None)
    if kind not in KIND_RULES:
        raise ScenarioError(source, f"{key}.kind", f"unknown kind {kind!r}; known: "
                                                    f"{', '.join(KIND_RULES)}")
    count = item.pop("count", 1)
    if not isinstance(count, int) or count < 0:
        raise ScenarioError(source, f"{key}.count", f"must be a whole number >= 0, got {count!r}")
    duration = _duration(item, key, source)
    entity = str(item.pop("entity", ""))
    start_h = item.pop("start_h", None)
    if start_h is not None and not (isinstance(start_h, (int, float)) and start_h >= 0):
        raise ScenarioError(source, f"{key}.start_h", "must be a number of hours >= 0")
    if (entity or start_h is not None) and count != 1:
        raise ScenarioError(source, key, "a pinned event (entity or start_h) needs count: 1")
    allowed = KIND_RULES[kind].params
    for name, value in item.items():
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise ScenarioError(source, f"{key}.{name}",
                                f"unknown parameter for {kind} (known: {known})")
        _check_param(value, allowed[name], f"{key}.{name}", source)
    return EventSpec(kind, count, duration, item, entity, start_h)


def _check_param(value: Any, default: Any, key: str, source: str) -> None:
    """A parameter must have the shape of its default: numbers or a choice of known words."""
    words = default if isinstance(default, list) and all(isinstance(v, str) for v in default) \
        else None
    if words is not None:
        given = value if isinstance(value, list) else [value]
        if not given or not all(isinstance(v, str) and v in words for v in given):
            raise ScenarioError(source, key, f"must be one of {words} (or a list of them), "
                                             f"got {value!r}")
        return
    numbers = value if isinstance(value, list) else [value]
    if len(numbers) not in (1, 2) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
        raise ScenarioError(source, key, f"must be a number or [lo, hi], got {value!r}")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every error names the file and the key."""
    return parse_scenario(_read_raw(Path(path)), str(path))


def _read_raw(path: Path, depth: int = 0) -> Any:
    """The decoded file; ``extends: other.yaml`` (beside it) supplies every top-level key
    the file does not give, so a variant of a suite states only what differs."""
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ScenarioError(source, "-", f"cannot read file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(source, "-", f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or "extends" not in raw:
        return raw
    base_name = raw.pop("extends")
    if not isinstance(base_name, str) or depth >= MAX_EXTENDS:
        raise ScenarioError(source, "extends", f"must name one scenario file beside this one "
                                               f"(at most {MAX_EXTENDS} levels)")
    base = _read_raw(path.parent / base_name, depth + 1)
    if not isinstance(base, dict):
        raise ScenarioError(source, "extends", f"{base_name} is not a scenario mapping")
    return {**base, **raw}


def parse_scenario(raw: Any, source: str = "<inline>") -> Scenario:
    """Validate an already-decoded scenario mapping."""
    if not isinstance(raw, dict):
        raise ScenarioError(source, "-", "top level must be a mapping")
    known = {"name", "description", "days", "start", "interval_s", "warmup_days", "grid",
             "customers", "events"}
    for key in raw:
        if key not in known:
            raise ScenarioError(source, key, f"unknown key (known: {', '.join(sorted(known))})")
    days = raw.get("days", 30)
    if not isinstance(days, int) or days < 1:
        raise ScenarioError(source, "days", f"must be a whole number >= 1, got {days!r}")
    interval_s = raw.get("interval_s", 900)
    if not isinstance(interval_s, int) or interval_s <= 0 or DAY_S % interval_s:
        raise ScenarioError(source, "interval_s", "must be a whole number of seconds dividing "
                                                  "a day (e.g. 900)")
    warmup = raw.get("warmup_days", 7)
    if not isinstance(warmup, (int, float)) or warmup < 0:
        raise ScenarioError(source, "warmup_days", "must be a number >= 0")
    try:
        start = parse_start(str(raw.get("start", "2026-01-05T00:00:00+00:00")))
    except ValueError as exc:
        raise ScenarioError(source, "start", str(exc)) from exc
    events = raw.get("events") or []
    if not isinstance(events, list):
        raise ScenarioError(source, "events", "must be a list")
    return Scenario(
        name=str(raw.get("name", Path(source).stem)), days=days, start=start,
        interval_s=interval_s, warmup_days=float(warmup),
        grid=_grid_spec(raw.get("grid"), source),
        events=[_event_spec(item, i, source) for i, item in enumerate(events)],
        source=source, variability=_variability(raw.get("customers"), source),
    )


def draw(value: Any, rng: np.random.Generator) -> Any:
    """A concrete parameter value: [lo, hi] uniform, a list of words a choice, else as is.

    >>> rng = np.random.default_rng(0)
    >>> 0.4 <= draw([0.4, 0.8], rng) <= 0.8, draw(["a"], rng), draw(3, rng)
    (True, 'a', 3)
    """
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return value[int(rng.integers(len(value)))]
        lo, hi = sorted(value)
        return round(float(rng.uniform(lo, hi)), 4)
    return value


class _Occupancy:
    """Busy windows per area, so occurrences do not overlap where they would blur."""

    def __init__(self, n_areas: int) -> None:
        self.busy: list[list[tuple[float, float]]] = [[] for _ in range(n_areas)]

    def free(self, areas: tuple[int, ...], start: float, end: float) -> bool:
        return all(end + MARGIN_S <= lo or start - MARGIN_S >= hi
                   for a in areas for lo, hi in self.busy[a])

    def take(self, areas: tuple[int, ...], start: float, end: float) -> None:
        for a in areas:
            self.busy[a].append((start, end))


def _candidate_slots(grid: Grid, area: int, rule: KindRule,
                     home: np.ndarray | None) -> np.ndarray:
    """Meters that can host the kind; a thief (heavy user) is someone who is mostly at
    home (``home``, when customers have vacancies): nobody steals for an empty house."""
    slots = np.nonzero(grid.mask[area])[0]
    if rule.three_phase_only:
        slots = slots[grid.phases[area, slots] == 3]
    if rule.heavy_user and slots.size:
        loads = grid.mean_kw[area, slots]
        slots = slots[loads >= np.median(loads)]
        if home is not None:
            slots = slots[home[area, slots]]
    return slots


def _pick_entity(grid: Grid, kind: str, rule: KindRule, pinned: str,
                 rng: np.random.Generator, home: np.ndarray | None
                 ) -> tuple[tuple[int, ...], int, str] | None:
    """(areas touched, meter slot or -1, entity id), or None if this draw cannot host it."""
    level = kind_of(kind).level
    if level == FEEDER:
        feeder = grid.feeder_ids.index(pinned) if pinned else int(rng.integers(
            len(grid.feeder_ids)))
        areas = tuple(int(a) for a in np.nonzero(grid.area_feeder == feeder)[0])
        return areas, -1, grid.feeder_ids[feeder]
    if level == METER:
        if pinned:
            area, slot = grid.meter_position(pinned)
            return (area,), slot, pinned
        area = int(rng.integers(grid.n_areas))
        slots = _candidate_slots(grid, area, rule, home)
        if not slots.size:
            return None
        slot = int(slots[rng.integers(slots.size)])
        return (area,), slot, grid.meter_ids[area][slot]
    if pinned:
        ids = grid.area_ids if level == AREA else grid.concentrator_ids
        if pinned not in ids:
            raise KeyError(f"no {level} {pinned!r} in the grid")
        area = ids.index(pinned)
    else:
        area = int(rng.integers(grid.n_areas))
    entity = grid.area_ids[area] if level == AREA else grid.concentrator_ids[area]
    return (area,), -1, entity


def plan_events(scenario: Scenario, grid: Grid, seed: int, days: int,
                home: np.ndarray | None = None) -> list[PlannedEvent]:
    """Place every occurrence of every event spec; the seed decides where and when.

    ``home`` (A, K) marks the customers at home most days; thefts go to them only.

    A run shorter than the scenario's ``days`` gets proportionally fewer
    occurrences (at least one per spec); durations longer than half the time
    after warm-up are shortened to fit.
    Raises ScenarioError when the grid or the run is too small to place them all.
    """
    rng = np.random.default_rng([seed, PLAN_STREAM])
    step = scenario.interval_s
    run_end = scenario.start + days * DAY_S
    earliest = scenario.start + min(scenario.warmup_days * DAY_S, days * DAY_S / 2)
    earliest = scenario.start + np.ceil((earliest - scenario.start) / step) * step
    usable = run_end - earliest
    occupancy = _Occupancy(grid.n_areas)
    planned: list[PlannedEvent] = []
    share = min(1.0, days / scenario.days)
    for index, spec in enumerate(scenario.events):
        rule = KIND_RULES[spec.kind]
        count = spec.count if share == 1.0 or not spec.count else max(1, ceil(spec.count * share))
        for _ in range(count):
            event = _place(spec, rule, grid, rng, scenario, occupancy, earliest, usable, home)
            if event is None:
                raise ScenarioError(scenario.source, f"events[{index}]",
                                    f"cannot place {count} x {spec.kind} without overlaps "
                                    f"in {days} days on {grid.n_areas} areas; use more days, a "
                                    f"bigger grid or fewer events")
            planned.append(event)
    planned.sort(key=lambda e: (e.label.start, e.kind, e.label.entity))
    return planned


def _place(spec: EventSpec, rule: KindRule, grid: Grid, rng: np.random.Generator,
           scenario: Scenario, occupancy: _Occupancy, earliest: float, usable: float,
           home: np.ndarray | None) -> PlannedEvent | None:
    step = scenario.interval_s
    hours = spec.duration_h if spec.duration_h is not None else list(rule.duration_h)
    for _ in range(PLACEMENT_TRIES):
        length = float(draw(hours, rng)) * HOUR_S if len(hours) == 2 else hours[0] * HOUR_S
        length = min(max(step, round(length / step) * step), max(step, usable // 2 // step * step))
        if spec.start_h is not None:
            start = scenario.start + round(spec.start_h * HOUR_S / step) * step
        else:
            last = int((usable - length) // step)
            start = earliest + int(rng.integers(0, max(last, 0) + 1)) * step
        picked = _pick_entity(grid, spec.kind, rule, spec.entity, rng, home)
        if picked is None:
            continue
        areas, slot, entity = picked
        end = start + length
        if not occupancy.free(areas, start, end) and spec.start_h is None:
            continue
        occupancy.take(areas, start, end)
        params = {name: draw(value, rng)
                  for name, value in {**rule.params, **spec.params}.items()}
        if spec.kind in ("theft_phase_tamper", "phase_loss"):
            params["phase"] = int(rng.integers(3))
        if spec.kind == "dq_clock_skew":
            params["offset_s"] = float(params["offset_s"]) * (1 if rng.random() < 0.5 else -1)
        level = kind_of(spec.kind).level
        area_id = "" if level == FEEDER else grid.area_ids[areas[0]]
        feeder_id = grid.feeder_ids[grid.area_feeder[areas[0]]]
        label = Label(kind=spec.kind, entity=entity, entity_type=level, area=area_id,
                      feeder=feeder_id, start=float(start), end=float(end),
                      detail=json.dumps(params, sort_keys=True))
        return PlannedEvent(label, areas, slot, params)
    return None

