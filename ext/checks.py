"""Parameter and input checks shared by the compiled kernels and their fallbacks.

Why a module of its own: both implementations must reject exactly the same bad
inputs with exactly the same messages, so the checks live in one place and
run once per constructor or batch call (never inside the per-reading loop).
"""

from __future__ import annotations

import math

import numpy as np


def fraction(name: str, value: float, *, allow_zero: bool = False) -> float:
    """A weight in (0, 1] (or [0, 1] with allow_zero)."""
    value = float(value)
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (low_ok and value <= 1.0):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def positive_int(name: str, value: int, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def non_negative(name: str, value: float) -> float:
    value = float(value)
    if not (value >= 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def readings(name: str, values: object, n_meters: int) -> np.ndarray:
    """One reading per meter as a contiguous float64 array (NaN marks a missing reading)."""
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n_meters:
        raise ValueError(f"{name} must be a 1-D array of {n_meters} readings "
                         f"(one per meter, NaN if missing), got shape {arr.shape}")
    return arr


def meter_index(i: int, n_meters: int) -> int:
    if not 0 <= i < n_meters:
        raise IndexError(f"meter index {i} out of range for a bank of {n_meters} meters")
    return i


def slot_index(slot: int, n_slots: int) -> int:
    if not 0 <= slot < n_slots:
        raise IndexError(f"slot {slot} out of range, the baseline has {n_slots} slots")
    return slot


DRIFT_MODES = ("both", "up", "down")


def drift_mode(mode: str) -> int:
    """Page-Hinkley direction as an index into DRIFT_MODES (River's message on a bad one)."""
    if mode not in DRIFT_MODES:
        raise ValueError(f"Invalid 'mode'. Valid values are: {list(DRIFT_MODES)}")
    return DRIFT_MODES.index(mode)


def voltage_limits(lower_v: float, upper_v: float) -> tuple[float, float]:
    lower_v, upper_v = float(lower_v), float(upper_v)
    if not 0.0 < lower_v < upper_v:
        raise ValueError(f"voltage limits need 0 < lower_v < upper_v, got {lower_v}, {upper_v}")
    return lower_v, upper_v
