"""Load shapes and weather: the slow, predictable part of every customer's demand.

Why committed tables: CI runs from a clean clone without the real data, so the
shapes were derived once from real measurements and are kept here as numbers
(each normalised to mean 1.0):

- Residential weekday/weekend hourly shape: UCI "Individual household electric
  power consumption" (Hebrail and Berard, CC BY 4.0), the 30 days
  2006-12-16..2007-01-14 of 1-minute active power, averaged per hour of day
  (mean 1.55 kW on weekdays, 2.14 kW on weekends).
- Industrial hourly shape and the month-of-year factor: ETDataset ETTh1 and
  ETTh2 (Zhou et al., CC BY-ND 4.0), two Chinese distribution transformers
  2016-07..2018-06, sum of the useful loads HUFL+MUFL+LUFL averaged per hour and
  per month. The monthly means (January +17 %, July +15 %, June -20 % against
  the yearly mean) set the heating and cooling sensitivities below, so the
  seasonal swing comes from temperature rather than from a second, double-counted
  month table.
- Commercial (shops, offices): no real series at hand; a stylised opening-hours
  shape (09:00-21:00) with a weekend dip.

`gridwatch.sensors.calibrate` recomputes the first two from the files.
"""

from __future__ import annotations

import numpy as np

RESIDENTIAL, COMMERCIAL, INDUSTRIAL = 0, 1, 2

RESIDENTIAL_WEEKDAY = (
    0.718, 0.678, 0.628, 0.619, 0.662, 0.656, 0.677, 1.248, 1.493, 1.249, 1.042, 0.996,
    0.821, 0.763, 0.774, 0.668, 0.994, 1.163, 1.562, 1.537, 1.689, 1.546, 1.055, 0.761,
)
RESIDENTIAL_WEEKEND = (
    0.791, 0.694, 0.542, 0.424, 0.482, 0.472, 0.539, 0.771, 0.958, 1.006, 1.318, 1.298,
    1.162, 1.232, 1.051, 1.291, 1.269, 1.334, 1.349, 1.299, 1.344, 1.305, 1.059, 1.009,
)
INDUSTRIAL_WEEKDAY = (
    1.083, 1.055, 1.030, 1.018, 1.008, 1.024, 1.052, 1.039, 0.937, 0.927, 0.846, 0.860,
    0.810, 0.837, 0.859, 0.899, 0.982, 1.077, 1.105, 1.077, 1.119, 1.137, 1.117, 1.102,
)
INDUSTRIAL_WEEKEND = (
    1.086, 1.054, 1.032, 1.014, 0.999, 1.019, 1.044, 1.042, 0.931, 0.903, 0.879, 0.895,
    0.814, 0.840, 0.856, 0.897, 0.980, 1.072, 1.100, 1.075, 1.112, 1.134, 1.120, 1.102,
)
COMMERCIAL_WEEKDAY = (
    0.30, 0.28, 0.27, 0.27, 0.27, 0.30, 0.40, 0.70, 1.10, 1.45, 1.60, 1.65,
    1.60, 1.60, 1.62, 1.62, 1.60, 1.55, 1.55, 1.45, 1.30, 0.95, 0.55, 0.37,
)
COMMERCIAL_WEEKEND = (
    0.30, 0.28, 0.27, 0.27, 0.27, 0.28, 0.32, 0.50, 0.80, 1.10, 1.30, 1.40,
    1.40, 1.40, 1.40, 1.40, 1.35, 1.30, 1.25, 1.15, 1.00, 0.75, 0.45, 0.34,
)

HOURLY = np.array([
    [RESIDENTIAL_WEEKDAY, RESIDENTIAL_WEEKEND],
    [COMMERCIAL_WEEKDAY, COMMERCIAL_WEEKEND],
    [INDUSTRIAL_WEEKDAY, INDUSTRIAL_WEEKEND],
])  # (class, weekend, hour)

# Temperature sensitivity per class: fraction of load added per degree below the
# heating base or above the cooling base (degree-hour model).
HEATING_BASE_C, COOLING_BASE_C = 14.0, 24.0
HEATING_PER_C = np.array([0.030, 0.015, 0.004])
COOLING_PER_C = np.array([0.045, 0.030, 0.006])


def interval_shapes(interval_s: int) -> np.ndarray:
    """Shapes at the simulator's interval, (class, weekend, slot), mean 1.0 per day.

    Hourly values are linearly interpolated (periodically across midnight) to the
    middle of each interval so a 15-minute stream has no hourly staircase.

    >>> s = interval_shapes(900)
    >>> s.shape, bool(np.allclose(s.mean(axis=2), 1.0, atol=0.01))
    ((3, 2, 96), True)
    """
    slots = 86_400 // interval_s
    centres_h = (np.arange(slots) + 0.5) * interval_s / 3600.0
    hours = np.arange(25) + 0.5
    out = np.empty((HOURLY.shape[0], 2, slots))
    for cls in range(HOURLY.shape[0]):
        for weekend in (0, 1):
            values = HOURLY[cls, weekend]
            ring = np.concatenate([[values[-1]], values])
            out[cls, weekend] = np.interp(centres_h, hours - 1.0, ring, period=24)
    return out / out.mean(axis=2, keepdims=True)


def temperature_c(epoch_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Outdoor temperature for a temperate climate: seasonal + daily cycle + weather noise.

    Coldest mid-January (about 0 C), warmest mid-July (about 28 C), 8 C day-night
    swing peaking mid-afternoon, and a per-day weather offset of a few degrees.
    """
    days = epoch_s / 86_400.0
    day_of_year = days % 365.25
    seasonal = 14.0 - 14.0 * np.cos(2 * np.pi * (day_of_year - 15.0) / 365.25)
    hour = (epoch_s % 86_400) / 3600.0
    daily = 4.0 * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
    day_index = np.floor(days).astype(np.int64)
    unique_days, inverse = np.unique(day_index, return_inverse=True)
    weather = rng.normal(0.0, 2.5, size=unique_days.size)[inverse]
    return seasonal + daily + weather


def temperature_factor(temp_c: np.ndarray) -> np.ndarray:
    """Multiplicative load factor per class for a temperature series, (class, time)."""
    cold = np.maximum(HEATING_BASE_C - temp_c, 0.0)
    hot = np.maximum(temp_c - COOLING_BASE_C, 0.0)
    return 1.0 + HEATING_PER_C[:, None] * cold[None, :] + COOLING_PER_C[:, None] * hot[None, :]
