"""Generic online anomaly scorers for any single channel (`gridwatch score`).

The default, `ContextSurprise`, is described in its class docstring.
`RobustLikelihood`, the previous default, stays available. Why its design:
real streams (NAB-style) are non-stationary, heavy-tailed and of arbitrary
scale, and an alarm should mean "this is unusual *for this stream now*".
`RobustLikelihood` therefore
1. normalises itself: a robust z-score of the value, and of its first
   difference, against an exponentially weighted median and MAD (updated by
   stochastic quantile steps, so one outlier barely moves them);
2. judges those z-scores against their own long EW history (mean and
   spread of log(1 + z)), the way Numenta's anomaly likelihood does: one
   point far beyond the usual surprise (`point_sigmas`), or the mean of the
   last `short` points beyond it (`window_sigmas`, scaled for the window),
   turns into a Gaussian tail probability. A spiky stream (appliances
   switching) thus learns that big z-scores are its normal;
3. notices a sensor gone flat: a run of identical values is scored by how
   unlikely it is given how often this stream repeats a value;
4. notices a value beyond anything the stream has done lately: a max/min
   envelope that jumps to each new extreme and otherwise decays towards the
   median (time constant `envelope` points) scores how far a value exceeds
   it, relative to the envelope's width. This is scale free and works on
   quantised streams (CPU at 0.1 % steps), where the MAD collapses and the
   z-scores of part 1 cannot tell a record spike from routine jitter.
Point spikes show in the first part, level shifts and changed behaviour in
the second, new extremes in the fourth. The likelihood is capped at
`likelihood_cap` (0.995: still an alarm at 0.9 or 0.99) so that, when
alerts are ranked, a clear new extreme comes before a point that is merely
unlikely; the output is the largest part, in [0, 1]. The envelope part was
added after measuring on NAB (tuned on the realAWSCloudwatch files only, see
`bench/nab.py`).

`HalfSpaceTrees` wraps River's Half-Space Trees (the Cython drop-in of
`gridwatch.ext`, same scores as `river.anomaly.HalfSpaceTrees`) on the value
and its difference, min-max scaled into the middle half of [0, 1] (River's
trees expect features in [0, 1]; the margins leave room for new extremes).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from river import preprocessing

from ..ext import ContextCore, HalfSpaceTrees


def _tail(z: float) -> float:
    """P(Z < z) for a standard normal: how extreme a positive z is, in [0, 1]."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


class RobustLevel:
    """EW median and MAD by stochastic quantile steps (robust to the very outliers scored).

    >>> r = RobustLevel(rate=0.05)
    >>> for x in [10.0] * 200 + [1000.0]:
    ...     z = r.score_one(x)
    ...     r.learn_one(x)
    >>> round(r.median, 1), z > 10
    (10.0, True)
    """

    def __init__(self, rate: float = 0.02) -> None:
        self.rate = rate
        self.median: float | None = None
        self.mad = 0.0
        self.n = 0

    def score_one(self, x: float) -> float:
        if self.median is None or self.n < 5:
            return 0.0
        scale = max(self.mad * 1.4826, 1e-9 + 1e-6 * abs(self.median))
        return abs(x - self.median) / scale

    def learn_one(self, x: float) -> None:
        self.n += 1
        if self.median is None:
            self.median = x
            return
        step = max(self.mad, 1e-6 * abs(self.median), 1e-9)
        rate = max(self.rate, 1.0 / self.n)
        self.median += rate * step * (1.0 if x > self.median else -1.0 if x < self.median else 0)
        dev = abs(x - self.median)
        if self.n <= 2:
            self.mad = dev
        else:
            self.mad += rate * max(self.mad, 1e-9) * (1.0 if dev > self.mad else -1.0)
            self.mad = max(self.mad, 0.0)
            if self.mad == 0.0 and dev > 0:
                self.mad = rate * dev


MIN_FLAT_RUN = 3          # identical values in a row before a flat line is judged
REPEAT_FLOOR = 0.01       # least assumed chance that a value repeats
FLAT_CHANCE = 1e-4        # a run this unlikely (or less) scores towards 1


class RobustLikelihood:
    """Robust z-scores plus point and windowed anomaly likelihoods; scores in [0, 1].

    >>> det = RobustLikelihood()
    >>> import math
    >>> scores = []
    >>> for t in range(3000):
    ...     x = math.sin(t / 20) + (8.0 if t == 2500 else 0.0)
    ...     scores.append(det.score_one(x))
    ...     det.learn_one(x)
    >>> max(scores[2000:2499]) < 0.9 < scores[2500]
    True

    On a quantised stream with a daily burst, a record spike outranks them all:

    >>> det, scores = RobustLikelihood(), []
    >>> for t in range(3000):
    ...     x = 2.3 if t == 2900 else 1.5 if t % 288 == 100 else (0.066, 0.134, 0.134, 0.2)[t % 4]
    ...     scores.append(det.score_one(x))
    ...     det.learn_one(x)
    >>> max(scores[2000:2899]) < scores[2900], scores[2900] > 0.999
    (True, True)
    """

    def __init__(self, rate: float = 0.02, short: int = 10, long: int = 1000,
                 point_sigmas: float = 4.0, window_sigmas: float = 3.5,
                 probation: int = 150, envelope: int = 2000, novelty_scale: float = 0.05,
                 likelihood_cap: float = 0.995) -> None:
        self.envelope, self.novelty_scale = envelope, novelty_scale
        self.likelihood_cap = likelihood_cap
        self.high: float | None = None
        self.low: float | None = None
        self.level = RobustLevel(rate)
        self.change = RobustLevel(rate)
        self.short, self.long, self.probation = short, long, probation
        self.point_sigmas, self.window_sigmas = point_sigmas, window_sigmas
        self.window: deque[float] = deque(maxlen=short)
        self.hist_mean = 0.0
        self.hist_var = 1.0
        self.repeat_rate = 0.0
        self.run = 0
        self.n = 0
        self.last: float | None = None

    def _surprise(self, x: float) -> float:
        """log(1 + robust z) of the value or of its change, whichever is larger."""
        zl = self.level.score_one(x)
        zd = self.change.score_one(x - self.last) if self.last is not None else 0.0
        return math.log1p(max(zl, zd))

    def score_one(self, x: float) -> float:
        if self.n < self.probation:
            return 0.0
        value = self._surprise(x)
        sd = math.sqrt(max(self.hist_var, 1e-6))
        point = _tail((value - self.hist_mean) / sd - self.point_sigmas)
        window = [*self.window, value]
        recent = sum(window) / len(window)
        likelihood = _tail((recent - self.hist_mean) / (sd / math.sqrt(len(window)))
                           - self.window_sigmas)
        run = self.run + 1 if x == self.last else 0
        flat = 0.0
        if run >= MIN_FLAT_RUN:
            chance = (self.repeat_rate + REPEAT_FLOOR) ** run
            flat = min(max(1.0 - chance / FLAT_CHANCE, 0.0), 1.0)
        novelty = 1.0 - math.exp(-self._excess(x) / self.novelty_scale)
        return float(max(self.likelihood_cap * max(point, likelihood), flat, novelty))

    def _excess(self, x: float) -> float:
        """How far `x` lies beyond the decaying max/min envelope, in envelope widths."""
        if self.high is None or self.low is None:
            return 0.0
        width = max(self.high - self.low, 1e-9 + 1e-6 * abs(self.high))
        return max(x - self.high, self.low - x, 0.0) / width

    def learn_one(self, x: float) -> None:
        repeated = x == self.last
        self.run = self.run + 1 if repeated else 0
        value = self._surprise(x)
        self.window.append(value)
        alpha = max(1.0 / (self.n + 1), 1.0 / self.long)
        diff = value - self.hist_mean
        self.hist_mean += alpha * diff
        self.hist_var = (1 - alpha) * (self.hist_var + alpha * diff * diff)
        self.repeat_rate += alpha * (float(repeated) - self.repeat_rate)
        self.level.learn_one(x)
        if self.last is not None:
            self.change.learn_one(x - self.last)
        if self.high is None or self.low is None:
            self.high = self.low = x
        else:
            centre = self.level.median if self.level.median is not None else x
            self.high = max(x, self.high - (self.high - centre) / self.envelope)
            self.low = min(x, self.low + (centre - self.low) / self.envelope)
        self.last = x
        self.n += 1


class ContextSurprise:
    """Contextual surprise (CAD-OSE-like) behind an anomaly likelihood with a rest period.

    Why: a score must mean "this is new for this stream", and it must mean it
    once. Scores that measure *state* (how far from normal a value is) stay
    high for as long as a condition lasts, and on quantised or bursty streams
    they fire on every routine jump; under one alert threshold per corpus
    both cost far more false alarms than the anomalies earn. So, as the
    contextual detector CAD OSE and the adaptive-resonance ARTime do, this
    scorer asks whether a value is *new in its context*, and, as HTM's
    anomaly likelihood does, whether the recent surprise is unusual for this
    stream; after an alarm it rests, as both CAD OSE and ARTime do.

    1. Values are binned on a grid of `levels` steps across a robust running
       range (2 % and 98 % quantiles by stochastic steps; the grid doubles or
       halves when the range outgrows it, remapping what was learned), so the
       scorer is scale free and a lone outlier does not coarsen the grid.
    2. Surprise of a value = mean of: its bin's novelty ``1 / (1 + count)``,
       and how unexpected its bin is after the previous bin and after the
       previous two (``1 - count(context, bin) / (count(context) + 1)``).
       Counts never fade: what the stream has done before stays normal.
       Discrete and quantised streams are handled naturally: a routine jump
       between known levels is a known transition.
    3. Likelihood: this surprise, and the mean of the last `short`, as z
       against the stream's long-run mean and deviation of surprise (floor
       `sd_floor`; the window's deviation is that of a mean), whichever is
       larger: a lone new value and a run of mildly odd ones both count. The
       score is ``log(p) / log(1e-10)`` of the Gaussian tail ``p`` of z,
       capped at 1, so it is graded rather than saturated.
    4. Rest: after a score of at least `alarm`, the next `rest` scores are
       multiplied by `quiet_factor`, unless their z clears a bar that starts
       at the z of that alarm and falls to 0 over the rest (such a value
       starts a new rest), as ARTime's masking does: a sustained change gives
       a short burst, then settles while the new behaviour is learned.

    Defaults were tuned on the appliance-power and SKAB streams of
    ``shared/data/streams`` (see `bench.real_scorers` and the README).

    The hot loop is the `gridwatch.ext` kernel (Cython, with a pure-Python
    twin giving identical scores).

    >>> det, scores = ContextSurprise(), []
    >>> for t in range(3000):
    ...     x = 5.0 if t == 2500 else (0.1, 0.2, 0.2, 0.3)[t % 4]  # quantised, one spike
    ...     scores.append(det.score_one(x))
    ...     det.learn_one(x)
    >>> max(scores[1000:2500]) < 0.3 < 0.9 < scores[2500]
    True
    """

    def __init__(self, levels: int = 8, quantile: float = 0.02, quantile_rate: float = 0.01,
                 short: int = 10, long: int = 300, sd_floor: float = 0.05, warm: int = 30,
                 probation: int = 100, alarm: float = 0.5, rest: int = 100,
                 quiet_factor: float = 0.25) -> None:
        if levels < 2 or short < 1 or long < 1 or warm < 2 or rest < 0:
            raise ValueError("levels >= 2, short >= 1, long >= 1, warm >= 2 and rest >= 0 "
                             "are required")
        if not (0.0 < quantile < 0.5 and 0.0 < quantile_rate < 1.0 and sd_floor > 0.0
                and 0.0 <= quiet_factor <= 1.0):
            raise ValueError("0 < quantile < 0.5, 0 < quantile_rate < 1, sd_floor > 0 and "
                             "0 <= quiet_factor <= 1 are required")
        self.core = ContextCore(levels, quantile, quantile_rate, short, long, sd_floor, warm,
                                probation, alarm, rest, quiet_factor)

    def score_one(self, x: float) -> float:
        return self.core.score(float(x))

    def learn_one(self, x: float) -> None:
        self.core.learn(float(x))


class HalfSpaceTreesScorer:
    """River's HalfSpaceTrees on the min-max scaled value and its change.

    >>> det = HalfSpaceTreesScorer(seed=1)
    >>> for x in [1.0, 2.0, 1.5] * 50:
    ...     det.learn_one(x)
    >>> 0.0 <= det.score_one(40.0) <= 1.0
    True
    """

    def __init__(self, n_trees: int = 10, height: int = 6, window_size: int = 250,
                 seed: int = 42) -> None:
        self.scaler = preprocessing.MinMaxScaler()
        self.model = HalfSpaceTrees(n_trees=n_trees, height=height, window_size=window_size,
                                    seed=seed)
        self.last: float | None = None

    def _features(self, x: float) -> dict[str, float]:
        raw = {"value": x, "change": 0.0 if self.last is None else x - self.last}
        scaled = self.scaler.transform_one(raw)
        # the history's range maps to [0.25, 0.75], so values beyond it keep room to stand out
        return {k: min(max(0.25 + 0.5 * v, 0.0), 1.0) for k, v in scaled.items()}

    def score_one(self, x: float) -> float:
        return float(self.model.score_one(self._features(x)))

    def learn_one(self, x: float) -> None:
        raw = {"value": x, "change": 0.0 if self.last is None else x - self.last}
        self.scaler.learn_one(raw)
        self.model.learn_one(self._features(x))
        self.last = x


@dataclass(frozen=True)
class ScorerSpec:
    """A scorer offered on the command line: its class, parameter types and defaults."""

    cls: type
    params: dict[str, Any]
    summary: str


SCORERS: dict[str, ScorerSpec] = {
    "context-surprise": ScorerSpec(
        ContextSurprise,
        {"levels": 8, "quantile": 0.02, "quantile_rate": 0.01, "short": 10, "long": 300,
         "sd_floor": 0.05, "warm": 30, "probation": 100, "alarm": 0.5, "rest": 100,
         "quiet_factor": 0.25},
        "surprise of each value in its context (previous one and two values, binned on a "
        "robust running range) + anomaly likelihood + rest after an alarm (recommended)"),
    "robust-likelihood": ScorerSpec(
        RobustLikelihood,
        {"rate": 0.02, "short": 10, "long": 1000, "point_sigmas": 4.0, "window_sigmas": 3.5,
         "probation": 150, "envelope": 2000, "novelty_scale": 0.05, "likelihood_cap": 0.995},
        "robust z on EW median/MAD of value and change + windowed anomaly likelihood "
        "+ excess over a decaying max/min envelope (the previous default)"),
    "half-space-trees": ScorerSpec(
        HalfSpaceTreesScorer, {"n_trees": 10, "height": 6, "window_size": 250, "seed": 42},
        "River HalfSpaceTrees on min-max scaled value and change"),
}
DEFAULT_SCORER = "context-surprise"


def make_scorer(name: str, overrides: dict[str, str]) -> Any:
    """Build a scorer by name with string overrides, or raise ValueError saying what is wrong.

    >>> make_scorer("robust-likelihood", {"short": "5"}).short
    5
    >>> make_scorer("nope", {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown detector 'nope'; choose from: context-surprise, half-space-trees, ...
    """
    if name not in SCORERS:
        raise ValueError(f"unknown detector {name!r}; choose from: {', '.join(sorted(SCORERS))}")
    spec = SCORERS[name]
    params = dict(spec.params)
    for key, text in overrides.items():
        if key not in params:
            raise ValueError(f"detector {name!r} has no parameter {key!r}; "
                             f"parameters: {', '.join(params)}")
        kind = type(params[key])
        try:
            params[key] = kind(text)
        except ValueError as exc:
            raise ValueError(f"parameter {key!r} of {name!r} must be {kind.__name__}, "
                             f"got {text!r}") from exc
    return spec.cls(**params)
