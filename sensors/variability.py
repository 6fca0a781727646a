"""How much each customer's daily use wanders: the day-to-day part of demand.

Why per customer and why these four parts: real honest customers (State Grid
SGCC, FLAG 0) are far noisier than a single lognormal day factor. Over 60-day
windows their daily kWh has a coefficient of variation of 0.30 in median
(p10 0.17, p90 0.82), and the spread comes from four different things, each
of which a detector must learn to live with:

- day-to-day wander, much larger for some customers than for others
  (each customer gets its own sigma, drawn from a lognormal fitted to the
  real sigmas; a simulated run is one 60-day window, so each 60-day window
  of a real customer counts as one customer in the fit);
- vacancies and holidays: runs of near-zero days (a standby load only);
- appliance bursts: single days at two to ten times the usual use;
- missing days: a meter that is not read for a whole day.

The committed `CALIBRATED` table is what `gridwatch.sensors.calibrate.sgcc_variability`
derives from the FLAG-0 customers of ``sgcc_dev.csv`` (CI has no copy of the
file; a test checks the numbers against it wherever it is present). Rates and
sizes are kept as quantile tables and drawn by inverse CDF, so heavy tails
(a customer away for months) survive. ``legacy`` is the earlier model: one
lognormal day factor of sigma 0.15 for everyone and no vacancies, bursts or
missing days.

The SGCC customers are households (a few to a few tens of kWh a day), so the
table drives households only; shops and plants keep the legacy day factor
(a 9 kW workshop with a household's burst days would overload its
transformer, which real plants, sized for their own peaks, do not). Missing
days are a property of meter reading, so every meter has them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEGACY, CALIBRATED_NAME = "legacy", "calibrated"
VARIABILITIES = (LEGACY, CALIBRATED_NAME)
WINDOW_DAYS = 60
STANDBY_SHARE = 0.03          # a vacant home still runs a fridge, a router, meters' own use
LEGACY_DAY_SIGMA = 0.15       # the legacy day factor (kept for shops and plants)


@dataclass(frozen=True)
class VariabilityTable:
    """Per-customer variability, as fitted to real daily kWh.

    ``*_q`` are quantiles at evenly spaced probabilities 0..1 (inclusive).
    Rates are per day: ``missing_rate`` of single unread days, ``vacancy_rate``
    of starting a run of near-zero days, ``burst_rate`` of a burst day. Sizes are
    per customer (each customer's median): ``vacancy_days`` of its vacancies,
    ``burst_factor`` of its bursts over its usual use; pooling every real burst
    instead would hand everyone the rare 10-40x days of the few near-vacant homes.
    """

    sigma_log_mean: float          # log of the day-to-day sigma: mean over customers
    sigma_log_sd: float            # ... and its spread
    missing_rate_q: tuple[float, ...]
    vacancy_rate_q: tuple[float, ...]
    vacancy_days_q: tuple[float, ...]
    burst_rate_q: tuple[float, ...]
    burst_factor_q: tuple[float, ...]


# Derived by `python -m gridwatch.sensors.calibrate /work/shared/data` (key "variability")
# from the 40 FLAG-0 customers of sgcc_dev.csv, 2014-01-01..2016-10-31.
CALIBRATED = VariabilityTable(
    sigma_log_mean=-1.4672, sigma_log_sd=0.5144,
    missing_rate_q=(
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.01667, 0.03333, 0.18333,
    ),
    vacancy_rate_q=(
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.01754, 0.07917, 2.0,
    ),
    vacancy_days_q=(
        2.0, 2.0, 2.0, 2.0, 2.0, 2.5, 2.9, 3.0, 3.0, 4.0, 4.0, 5.0, 7.4, 10.4, 14.6, 21.0, 23.8,
        28.8, 39.6, 50.8, 60.0,
    ),
    burst_rate_q=(
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.01667, 0.03333,
        0.03333, 0.05, 0.08333, 0.11667, 0.16667, 0.38333,
    ),
    burst_factor_q=(
        2.006, 2.06, 2.074, 2.092, 2.117, 2.14, 2.155, 2.185, 2.204, 2.247, 2.267, 2.305, 2.356,
        2.454, 2.555, 2.666, 2.862, 3.043, 3.582, 4.161, 10.295,
    ),
)


def quantile_draw(table: tuple[float, ...], u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw from a quantile table at evenly spaced probabilities.

    >>> quantile_draw((0.0, 1.0, 10.0), np.array([0.0, 0.25, 0.75, 1.0])).tolist()
    [0.0, 0.5, 5.5, 10.0]
    """
    probs = np.linspace(0.0, 1.0, len(table))
    return np.interp(u, probs, np.asarray(table, dtype=float))


def window_cvs(daily: np.ndarray, window: int = WINDOW_DAYS) -> np.ndarray:
    """Coefficient of variation of daily use in each whole, non-overlapping window.

    ``daily`` is (customers, days); windows with no use at all are left out
    (their CV is undefined), as are customers' trailing partial windows.

    >>> window_cvs(np.array([[1.0, 3.0, 1.0, 3.0, 0.0, 0.0]]), window=2).tolist()
    [0.5, 0.5]
    """
    whole = daily.shape[1] // window
    if whole == 0:
        return np.zeros(0)
    blocks = daily[:, :whole * window].reshape(daily.shape[0], whole, window)
    means = blocks.mean(axis=2)
    used = means > 0
    return blocks.std(axis=2)[used] / means[used]


def cv_summary(cvs: np.ndarray) -> dict[str, float]:
    """Median, p10 and p90 of window CVs, rounded for reports."""
    if cvs.size == 0:
        raise ValueError("no window with any use: nothing to summarise")
    p10, median, p90 = np.percentile(cvs, [10, 50, 90])
    return {"median": round(float(median), 3), "p10": round(float(p10), 3),
            "p90": round(float(p90), 3), "windows": int(cvs.size)}


class CustomerVariability:
    """Each customer's day factor and missing days, one day at a time (days in order:
    a vacancy runs on from one day into the next).

    >>> mask = np.ones((2, 50), bool)
    >>> v = CustomerVariability(mask, mask, CALIBRATED, np.random.default_rng(0))
    >>> factor, missing = v.day(np.random.default_rng(1))
    >>> factor.shape, missing.shape, bool((factor > 0).all())
    ((2, 50), (2, 50), True)
    """

    def __init__(self, mask: np.ndarray, households: np.ndarray, table: VariabilityTable,
                 rng: np.random.Generator) -> None:
        shape = mask.shape
        self.mask, self.table = mask, table
        self.sigma = np.where(households, np.exp(rng.normal(
            table.sigma_log_mean, table.sigma_log_sd, size=shape)), LEGACY_DAY_SIGMA)
        self.missing_rate = quantile_draw(table.missing_rate_q, rng.random(shape))
        self.vacancy_rate = quantile_draw(table.vacancy_rate_q, rng.random(shape)) * households
        self.burst_rate = quantile_draw(table.burst_rate_q, rng.random(shape)) * households
        self.burst_factor = quantile_draw(table.burst_factor_q, rng.random(shape))
        self.vacancy_days = np.round(quantile_draw(table.vacancy_days_q,
                                                   rng.random(shape))).astype(np.int64)
        self.vacant_days_left = np.zeros(shape, np.int64)

    def away_share(self) -> np.ndarray:
        """Expected share of days each customer is away (vacancy runs over all days)."""
        away = self.vacancy_rate * self.vacancy_days
        return away / (1.0 + away)

    def day(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(demand factor, meter not read) for every (area, slot) of the next day."""
        shape = self.mask.shape
        factor = rng.lognormal(-self.sigma**2 / 2, self.sigma)
        bursts = rng.random(shape) < self.burst_rate
        factor = np.where(bursts, factor * self.burst_factor, factor)
        starts = (self.vacant_days_left == 0) & (rng.random(shape) < self.vacancy_rate)
        self.vacant_days_left = np.where(starts, self.vacancy_days, self.vacant_days_left)
        vacant = self.vacant_days_left > 0
        factor = np.where(vacant, STANDBY_SHARE, factor)
        self.vacant_days_left = np.maximum(self.vacant_days_left - 1, 0)
        missing = (rng.random(shape) < self.missing_rate) & self.mask
        return factor, missing
