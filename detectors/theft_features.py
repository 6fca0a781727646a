"""Per-meter theft features from daily energy, learned online one day at a time.

Why these features: each describes something a meter shows when its
register is bypassed, slowed or disconnected, and none depends on the meter
model, the tariff or the size of the home, so they carry from a public
theft data set to a utility's own AMI data:

- ``drop``: how far the last week's use fell under the meter's own usual
  level (log ratio, peer-normalised so a cold or a holiday week that every
  meter shares is no drop); the deepest drop of the last year or so counts.
- ``level_shifts``: the share of the meter's variance that comes from
  persistent level changes rather than day-to-day noise (one minus half the
  mean squared day-to-day step over the variance, i.e. the lag-one
  autocorrelation), on the meter's share of the day's median use of its
  peers, so a season every meter shares is no shift. An honest home wanders
  around its level; a meter bypassed for weeks and then reconnected moves
  in steps.
- ``level_wander``: how far the meter's weekly level strays from its own
  yearly level (standard deviation of the log of its weekly share of the
  peers' median, 0.25 kWh added as for ``drop``). A theft starts and, once
  found, ends: both move the level for weeks, in either direction, where
  ``drop`` sees only the fall.
- ``variability``: the spread of the daily use around the meter's own
  yearly level (standard deviation of the log of its daily share, the same
  0.25 kWh added). A register bypassed on some days and not on others is
  erratic; the log makes it scale free and lets near-empty days count.
- ``rhythm_loss``: how much of its own usual weekly rhythm the meter lost
  (the weekday profile's share of the variance, long-run value minus the
  recent one: a meter that never had a rhythm has none to lose); the
  largest recent loss counts.
- ``zero_runs``: share of days inside runs of three or more near-zero days
  (under a tenth of the meter's usual level).
- ``missing_runs``: share of days inside runs of two or more missing days;
  an isolated missing day is a collection glitch, a run is a meter that
  stopped reporting.
- ``peer_level``: the meter's usual level against the median usual level of
  its peers (log ratio). Which way it points is not known beforehand (a big
  consumer has more to gain from stealing; a small one looks like a thief),
  so the unsupervised risk leaves it out and only learning from inspections
  (`gridwatch.detectors.theft_inspections`) uses it.

State: 28 floats (224 bytes) per meter in named arrays (`_ARRAYS`, the
layout of the `gridwatch.ext` kernel banks), so the worker keeps them as
columns of the area state: ``add_kernel_columns("theft_", TheftFeatures, {})``
once, ``bind_kernel(table, "theft_", extractor)`` per area, then one
`learn_one` per day with the day's energy of the area's meters (NaN for a
meter that did not report) and `features` for the evidence.
Memory fades with a half-life of a year: a theft stopped long ago stops
counting. The usual level follows the peer-normalised use with a 90-day
half-life, the recent level with a 7-day one.
"""

from __future__ import annotations

import numpy as np

from ..ext import checks, layout
from ..ext.pure_bank import PureBank
from .consumption import peer_factor

FEATURES = ("drop", "level_shifts", "level_wander", "variability", "rhythm_loss", "zero_runs",
            "missing_runs", "peer_level")
SIGNED_FEATURES = FEATURES[:-1]      # higher = riskier, known before seeing any label

HALF_LIFE_USUAL_DAYS = 90.0
HALF_LIFE_RECENT_DAYS = 7.0
HALF_LIFE_HISTORY_DAYS = 365.0
HALF_LIFE_RHYTHM_WEEKS = 8.0
WARMUP_DAYS = 14
FLOOR_KWH = 0.25          # keeps log ratios of near-empty homes finite and small
NEAR_ZERO_SHARE = 0.1     # of the usual level
NEAR_ZERO_KWH = 0.05
ZERO_RUN_DAYS = 3
MISSING_RUN_DAYS = 2


def peer_median(kwh: np.ndarray, ok: np.ndarray) -> float:
    """The day's median use of the meters that reported (at least `NEAR_ZERO_KWH`).

    Why the day's median and not the peer factor against the meters' usual
    levels: those levels adapt, so a season every meter shares leaks back in
    as they catch up with it; divided by the day's median it cancels exactly.

    >>> peer_median(np.array([2.0, 4.0, 8.0, np.nan]), np.array([True, True, True, False]))
    4.0
    """
    return max(float(np.median(kwh[ok])), NEAR_ZERO_KWH) if ok.any() else 1.0


def ew_weight(half_life: float) -> float:
    """Weight of the newest value in an exponentially weighted mean of this half-life.

    >>> round(ew_weight(1.0), 3)
    0.5
    """
    return 1.0 - 0.5 ** (1.0 / half_life)


class TheftFeatures(PureBank):
    """Online theft features of a set of meters, one call per day for all of them.

    `learn_one` takes one day's energy of every meter (NaN = missing) and
    its weekday; `features` gives each feature per meter. A meter whose use
    halves while its peers hold:

    >>> tf = TheftFeatures(4)
    >>> rng = np.random.default_rng(0)
    >>> for day in range(120):
    ...     use = 10.0 * (1 + 0.1 * rng.standard_normal(4))
    ...     use[0] *= 0.5 if day >= 60 else 1.0
    ...     use[1] = np.nan if 30 <= day < 35 else use[1]
    ...     use[2] = 0.0 if 40 <= day < 44 else use[2]
    ...     tf.learn_one(use, day % 7)
    >>> f = tf.features()
    >>> int(np.argmax(f["drop"])), int(np.argmax(f["missing_runs"])), int(np.argmax(f["zero_runs"]))
    (0, 1, 2)
    >>> tf.state_bytes
    224
    >>> again = TheftFeatures.from_bytes(tf.to_bytes())   # as a Faust table stores it
    >>> bool(np.array_equal(again.features()["drop"], f["drop"]))
    True
    """

    _ARRAYS = (
        ("days", "f8", (), 0.0),             # days seen, present or not
        ("present", "f8", (), 0.0),          # days with a reading
        ("usual", "f8", (), np.nan),         # peer-normalised level, 90-day half-life
        ("recent", "f8", (), np.nan),        # ... 7-day half-life
        ("mean", "f8", (), np.nan),          # use / day's peer median, history half-life
        ("var", "f8", (), 0.0),              # variance around it
        ("step_sq", "f8", (), 0.0),          # mean squared day-to-day step
        ("last", "f8", (), np.nan),          # previous day's reading (NaN if it was missing)
        ("week", "f8", (7,), 0.0),           # relative deviation from `recent` per weekday
        ("week_sq", "f8", (), 0.0),          # mean squared relative deviation
        ("rhythm_usual", "f8", (), np.nan),  # long-run weekly-rhythm share
        ("drop_peak", "f8", (), 0.0),
        ("rhythm_loss_peak", "f8", (), 0.0),
        ("zero_run", "f8", (), 0.0),         # current run of near-zero days
        ("zero_share", "f8", (), 0.0),
        ("missing_run", "f8", (), 0.0),      # current run of missing days
        ("missing_share", "f8", (), 0.0),
        ("log_mean", "f8", (), np.nan),      # log of use / `peer_median`, history half-life
        ("log_var", "f8", (), 0.0),          # its variance
        ("week_share", "f8", (), np.nan),    # use / the day's `peer_median`, 7-day half-life
        ("wander_mean", "f8", (), np.nan),   # log of it, history half-life
        ("wander_var", "f8", (), 0.0),       # its variance
    )
    _PARAMS = ()

    def __init__(self, n_meters: int) -> None:
        layout.allocate(self, n_meters)

    def learn_one(self, kwh: np.ndarray, weekday: int) -> None:
        """Fold one day in: `kwh` per meter (NaN = missing, negative is an error)."""
        x = checks.readings("kwh", kwh, self.n_meters)
        if np.any(x < 0):
            raise ValueError(f"kwh: daily energy must be >= 0, got {x[x < 0][0]}")
        if not 0 <= weekday < 7:
            raise ValueError(f"weekday must be 0..6, got {weekday}")
        ok = np.isfinite(x)
        factor = peer_factor(np.where(ok, x, 0.0), self.usual, ok)
        self.days += 1
        self.present += ok
        self._levels(x, ok, factor)
        median = peer_median(x, ok)
        self._level_shifts(x / median, ok)
        self._spread(x / median, ok, FLOOR_KWH / median)
        self._rhythm(x, ok, factor, weekday)
        self._runs(x, ok, factor)
        warm = self.present > WARMUP_DAYS
        fade = 0.5 ** (1.0 / HALF_LIFE_HISTORY_DAYS)
        self.drop_peak = np.where(warm, np.maximum(self.drop_peak * fade, self.drop_now()), 0.0)

    def _levels(self, x: np.ndarray, ok: np.ndarray, factor: float) -> None:
        first = ok & np.isnan(self.usual)
        xn = x / factor
        for name, half_life in (("usual", HALF_LIFE_USUAL_DAYS), ("recent", HALF_LIFE_RECENT_DAYS)):
            level = np.where(first, xn, getattr(self, name))
            w = np.maximum(ew_weight(half_life), 1.0 / np.maximum(self.present, 1.0))
            setattr(self, name, np.where(ok, level + w * (xn - level), level))

    def _history_weight(self) -> np.ndarray:
        return np.maximum(ew_weight(HALF_LIFE_HISTORY_DAYS), 1.0 / np.maximum(self.present, 1.0))

    def _track(self, mean_name: str, var_name: str, x: np.ndarray, ok: np.ndarray) -> None:
        """Exponentially weighted mean and variance (history half-life) of `x` where `ok`."""
        w = self._history_weight()
        mean = getattr(self, mean_name)
        mean = np.where(ok & np.isnan(mean), x, mean)
        d = np.where(ok, x - mean, 0.0)
        setattr(self, mean_name, np.where(ok, mean + w * d, mean))
        setattr(self, var_name, np.where(ok, (1.0 - w) * (getattr(self, var_name) + w * d * d),
                                         getattr(self, var_name)))

    def _level_shifts(self, x: np.ndarray, ok: np.ndarray) -> None:
        self._track("mean", "var", x, ok)
        stepped = ok & np.isfinite(self.last)
        step = np.where(stepped, x - np.nan_to_num(self.last), 0.0)
        ws = np.maximum(ew_weight(HALF_LIFE_HISTORY_DAYS), 1.0 / np.maximum(self.present - 1, 1.0))
        self.step_sq = np.where(stepped, self.step_sq + ws * (step * step - self.step_sq),
                                self.step_sq)
        self.last = np.where(ok, x, np.nan)

    def _spread(self, share: np.ndarray, ok: np.ndarray, floor: float) -> None:
        self._track("log_mean", "log_var", np.log(np.where(ok, share, 0.0) + floor), ok)
        week = np.where(ok & np.isnan(self.week_share), share, self.week_share)
        w = np.maximum(ew_weight(HALF_LIFE_RECENT_DAYS), 1.0 / np.maximum(self.present, 1.0))
        self.week_share = np.where(ok, week + w * (share - week), week)
        self._track("wander_mean", "wander_var",
                    np.log(np.nan_to_num(self.week_share) + floor), ok)

    def _rhythm(self, x: np.ndarray, ok: np.ndarray, factor: float, weekday: int) -> None:
        expected = np.nan_to_num(self.recent) * factor
        r = np.where(ok, (x - expected) / (expected + FLOOR_KWH), 0.0)
        col = self.week[:, weekday]
        self.week[:, weekday] = np.where(ok, col + ew_weight(HALF_LIFE_RHYTHM_WEEKS) * (r - col),
                                         col)
        self.week_sq = np.where(ok, self.week_sq + ew_weight(7 * HALF_LIFE_RHYTHM_WEEKS)
                                * (r * r - self.week_sq), self.week_sq)
        rhythm = self.rhythm_now()
        warm = ok & (self.present > 2 * WARMUP_DAYS)
        start = warm & np.isnan(self.rhythm_usual)
        usual = np.where(start, rhythm, self.rhythm_usual)
        self.rhythm_usual = np.where(
            warm, usual + ew_weight(HALF_LIFE_HISTORY_DAYS) * (rhythm - usual), usual)
        loss = np.where(warm, np.maximum(0.0, usual - rhythm), 0.0)
        fade = 0.5 ** (1.0 / HALF_LIFE_HISTORY_DAYS)
        self.rhythm_loss_peak = np.maximum(self.rhythm_loss_peak * fade, loss)

    def _runs(self, x: np.ndarray, ok: np.ndarray, factor: float) -> None:
        w = np.maximum(ew_weight(HALF_LIFE_HISTORY_DAYS), 1.0 / self.days)
        usual = np.nan_to_num(self.usual) * factor
        near_zero = ok & (x < np.maximum(NEAR_ZERO_SHARE * usual, NEAR_ZERO_KWH))
        self.zero_run = np.where(near_zero, self.zero_run + 1.0, 0.0)
        self.missing_run = np.where(ok, 0.0, self.missing_run + 1.0)
        # a run counts all its days once it is long enough: the days before join it then
        zero = np.where(self.zero_run == ZERO_RUN_DAYS, ZERO_RUN_DAYS,
                        (self.zero_run > ZERO_RUN_DAYS).astype(float))
        missing = np.where(self.missing_run == MISSING_RUN_DAYS, MISSING_RUN_DAYS,
                           (self.missing_run > MISSING_RUN_DAYS).astype(float))
        self.zero_share += w * (zero - self.zero_share)
        self.missing_share += w * (missing - self.missing_share)

    def drop_now(self) -> np.ndarray:
        """Log ratio of each meter's usual to its recent level (> 0: it uses less than usual)."""
        return np.nan_to_num(np.log((self.usual + FLOOR_KWH) / (self.recent + FLOOR_KWH)))

    def rhythm_now(self) -> np.ndarray:
        """Share of each meter's recent relative variation that its weekday profile explains."""
        return np.minimum(1.0, np.mean(self.week ** 2, axis=1) / np.maximum(self.week_sq, 1e-12))

    def features(self) -> dict[str, np.ndarray]:
        """Each feature (see the module docstring) per meter; 0 for a meter not yet seen."""
        var = np.maximum(self.var, 1e-12)
        shifts = np.where(self.present > WARMUP_DAYS,
                          np.clip(1.0 - self.step_sq / (2.0 * var), -1.0, 1.0), 0.0)
        known = np.isfinite(self.usual)
        peers = np.median(self.usual[known]) if known.any() else np.nan
        peer_level = np.where(known, np.log((self.usual + FLOOR_KWH) / (peers + FLOOR_KWH)), 0.0)
        warm = self.present > WARMUP_DAYS
        return {"drop": self.drop_peak.copy(), "level_shifts": shifts,
                "level_wander": np.where(warm, np.sqrt(self.wander_var), 0.0),
                "variability": np.where(warm, np.sqrt(self.log_var), 0.0),
                "rhythm_loss": self.rhythm_loss_peak.copy(), "zero_runs": self.zero_share.copy(),
                "missing_runs": self.missing_share.copy(), "peer_level": np.nan_to_num(peer_level)}
