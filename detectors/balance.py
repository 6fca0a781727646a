"""Energy balance of an area: leakage, metering faults, and theft attributed to a meter.

Why interval by interval: the area meter counts what the customers' meters
count, plus technical loss (grows with load squared) and whatever is taken
unmetered. After subtracting a learned technical-loss curve
(``loss = b + a * area_kWh**2``, refitted only on bins judged healthy) the
residual ``r_t`` of each 15-minute interval is the unexplained energy. A
bypass around meter j steals a share of j's own consumption, so ``r_t``
moves in step with j's metered ``e_jt`` *including its idiosyncratic
interval-to-interval noise*: a fingerprint no other meter shares. Per bin
(a quarter of a day) we compare, in least squares, three explanations of
the residual: "meter j is bypassed" (``r = beta * e_j``), "energy leaks at a
steady rate" (``r = c``), and "nothing" (``r = 0``). The winner's gain in
log-likelihood accumulates as evidence (leaky sum per meter or per area);
an alert fires when it crosses a threshold over at least ``min_bins`` bins.
A meter whose register stopped (zero energy, voltage present) gives no
fingerprint; it is matched instead on the size of the excess against its
own seasonal baseline. A customer on holiday lowers their consumption but
leaves no unexplained energy, so nothing accumulates against them.

Negative loss (customers' meters counting more than the area meter) is a
metering fault. Line-loss rate and collection rate are reported per day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from ..config import DetectorSettings, LeakageSettings, TheftSettings
from ..ext import SeasonalBaseline
from ..vocabulary.findings import Finding
from ..vocabulary.kinds import (
    DQ_STUCK_METER,
    LEAKAGE_KIND,
    LOW_VOLTAGE_ZONE,
    METERING_FAULT,
    THEFT,
    THEFT_BYPASS,
    THEFT_METER_STOPPED,
    THEFT_NIGHT_BYPASS,
    TRANSFORMER_OVERLOAD,
    kinds_where,
)
from ..vocabulary.measurements import AREA_BALANCE, MetricPoint
from .consumption import MeterBaselines, baseline_params, peer_factor
from .episodes import Episodes
from .state import BINS_PER_DAY, MeterTable, add_kernel_columns, bind_kernel
from .theft_signs import SIGN_KINDS

if TYPE_CHECKING:
    from .contract import Interval

NAME = "energy_balance"
TL_FADING = 0.97          # weight kept by the technical-loss fit per healthy bin merged
MIN_RESID_KWH = 0.01      # floor of the per-interval residual standard deviation
HONEST_DROP = 1.5         # calm_drop from which a meter's drop is taken as honest
LEARN_DROP_Z = 2.5        # a meter this far under its baseline is not learned from
MIN_BIN_SD_KWH = 0.05     # floor of the standard deviation of a bin's unexplained energy
VAR_CLIP_Z = 3.0          # a healthy bin's residual counts at most this many deviations
DRIFT_K, DRIFT_H = 0.5, 5.0   # drift CUSUM allowance and decision level, in deviations
UPWARD_SPREAD = 3.0       # a meter's use above its baseline spreads this much wider
NIGHT_SHARE = 0.8         # evidence this much from night bins is kept through calm days
NIGHT_ONLY_DROP = 0.5     # a night-only theft takes most of the meter's night-time use ...
DAY_TO_NIGHT_DROP = 0.5   # ... and leaves its daytime shortfall under half of that
SHAPE_FADING = 0.7        # weight kept by a meter's day/night use sums per bin added
NIGHT_CORE_BIN = 0        # 00:00-06:00: wholly inside any night-time bypass window ...
LEAK_CHECK_BIN = NIGHT_CORE_BIN   # ... and the bin where load-driven loss is least
BASELINE_PREFIX = "base_"
THEFT_KINDS = kinds_where(THEFT, found_by=NAME)
add_kernel_columns(BASELINE_PREFIX, SeasonalBaseline,
                   baseline_params(BINS_PER_DAY, fading=0.1, warmup=3))


@dataclass
class BinClose:
    """What a closed bin contributed, for metrics."""

    excess_kwh: float
    z: float
    loss_rate: float


class BalanceState(TypedDict, total=False):
    """The energy balance's slice of ``AreaState.scalars``."""

    balance: dict[str, Any]   # open bin, technical-loss fit, leakage CUSUM, settling flag


class EnergyBalance:
    """Interval residuals, bin attribution and the area's leakage/metering-fault state."""

    name = NAME
    settings_keys = ("theft", "leakage")
    State = BalanceState

    def __init__(self, theft: TheftSettings, leakage: LeakageSettings, interval_s: int) -> None:
        self.theft = theft
        self.leakage = leakage
        self.interval_s = interval_s
        self.bin_s = 86_400 // BINS_PER_DAY
        self.offset_s = theft.utc_offset_hours * 3600.0
        self.baseline_kernel = SeasonalBaseline(0, **baseline_params(
            BINS_PER_DAY, theft.baseline_fading, theft.baseline_warmup_days))

    def bin_of(self, ts: float) -> int:
        """Bin holding the interval that ends at `ts` (an interval ending on a boundary
        belongs to the bin before it)."""
        return int(math.floor((ts - 1 + self.offset_s) / self.bin_s))

    @classmethod
    def from_settings(cls, settings: DetectorSettings) -> EnergyBalance:
        return cls(settings.theft, settings.leakage, settings.data_quality.interval_s)

    # ---------------------------------------------------------------- per interval
    def observe(self, interval: Interval) -> list[Finding]:
        """Close the bin the interval leaves behind (judging theft and leakage), then
        accumulate the interval's residual."""
        since = len(interval.episodes.findings)
        table, frame, episodes, ts = interval.table, interval.frame, interval.episodes, interval.ts
        col, rows, stuck = table.col, frame.rows, interval.stuck
        step = frame.energy - col["energy"][rows]
        zero = (step <= 0) & interval.powered & ~stuck & np.isfinite(step)
        col["zero_run"][rows] = np.where(zero, np.minimum(col["zero_run"][rows] + 1, 30_000), 0)
        bal = interval.scalars.setdefault("balance", {})
        bin_id = self.bin_of(ts)
        if bal.get("bin") is not None and bin_id > bal["bin"]:
            closed = self.close_bin(
                bal["bin"], table, bal, episodes, _mask(table, episodes, (DQ_STUCK_METER,)),
                _mask(table, episodes, SIGN_KINDS), _mask(table, episodes, THEFT_KINDS))
            if closed is not None:
                interval.points.append(MetricPoint(AREA_BALANCE, interval.tags, {
                    "excess_kwh": closed.excess_kwh, "excess_z": closed.z,
                    "line_loss_rate": closed.loss_rate}, ts))
        if bal.get("bin") is None or bin_id > bal["bin"]:
            bal["bin"] = bin_id
        view = interval.faults
        usable = not (view.area_dark or view.phase_lost or stuck.any()
                      or episodes.open_entities(DQ_STUCK_METER))
        area_energy = frame.area.energy_kwh if frame.area is not None else None
        self._accumulate(ts, table, rows, frame.energy, area_energy, bal, usable)
        return interval.judged(since)

    def _accumulate(self, ts: float, table: MeterTable, rows: np.ndarray, energy: np.ndarray,
                    area_energy: float | None, bal: dict, usable: bool) -> None:
        """Accumulate one interval's residual; call before the registers are overwritten.

        `usable` is False when the interval cannot be balanced (stuck meter,
        outage, missing readings). The interval after an unusable one is not
        balanced either: a register that was frozen or out of step catches up
        in it, and that jump is no one's loss.
        """
        col = table.col
        prev_ts = col["last_ts"][rows]
        consecutive = (len(rows) == len(table)
                       and bool(np.all(prev_ts == ts - self.interval_s))
                       and bal.get("area_prev_ts") == ts - self.interval_s
                       and area_energy is not None)
        settling = bal.pop("settling", False)
        if not usable:
            bal["settling"] = True
        if consecutive and usable and not settling:
            e = energy - col["energy"][rows]
            a_kwh = area_energy - bal["area_prev"]
            if a_kwh >= 0 and np.all(e >= 0):
                loss = a_kwh - float(e.sum())
                r = loss - self._predict(bal, a_kwh)
                col["s_re"][rows] += r * e
                col["s_ee"][rows] += e * e
                acc = bal.setdefault("acc", [0.0] * 8)
                x = a_kwh * a_kwh
                for i, v in enumerate((1.0, r, r * r, x, x * x, loss, x * loss, a_kwh)):
                    acc[i] += v
        if area_energy is not None:
            bal["area_prev"] = area_energy
            bal["area_prev_ts"] = ts

    @staticmethod
    def _predict(bal: dict, a_kwh: float) -> float:
        fit = bal.get("fit")
        if not fit:
            return 0.0
        return fit[0] + fit[1] * a_kwh * a_kwh

    # ---------------------------------------------------------------- per bin
    def close_bin(self, bin_id: int, table: MeterTable, bal: dict, episodes: Episodes,
                  stuck: np.ndarray, flagged: np.ndarray, accused: np.ndarray
                  ) -> BinClose | None:
        """Judge the bin that just ended; reset the bin accumulators.

        `flagged` marks meters with an open theft sign (tamper, phase,
        reverse): they are first suspects for unexplained energy, and their
        theft is already reported under that sign. `accused` marks meters
        with an open balance theft alert; neither kind learns its baseline.
        The meters' seasonal baselines are a kernel bank on `table`'s columns.
        """
        base = MeterBaselines(bind_kernel(table, BASELINE_PREFIX, self.baseline_kernel))
        return self._close(bin_id, table, bal, episodes, stuck, flagged, accused, base)

    def _close(self, bin_id: int, table: MeterTable, bal: dict, episodes: Episodes,
               stuck: np.ndarray, flagged: np.ndarray, accused: np.ndarray,
               base: MeterBaselines) -> BinClose | None:
        col = table.col
        acc = bal.pop("acc", None)
        s_re, s_ee = col["s_re"].copy(), col["s_ee"].copy()
        col["s_re"][:] = 0.0
        col["s_ee"][:] = 0.0
        bin_end = (bin_id + 1) * self.bin_s - self.offset_s
        bin_start = bin_end - self.bin_s
        slot = bin_id % BINS_PER_DAY
        energy_now = col["energy"]
        bin_kwh = energy_now - col["bin_start_energy"]
        complete = (col["last_ts"] == bin_end) & (col["bin_start_ts"] == bin_start)
        col["bin_start_energy"][:] = energy_now
        col["bin_start_ts"][:] = col["last_ts"]
        expected_n = self.bin_s / self.interval_s
        if acc is None or acc[0] < 0.75 * expected_n:
            self._track_shape(table, base, bin_kwh, complete & ~stuck, slot)
            self._learn_meters(table, base, bin_kwh, complete & ~stuck, slot)
            return None
        n, sum_r = acc[0], acc[1]
        var = max(bal.get("var", MIN_RESID_KWH ** 2), MIN_RESID_KWH ** 2)
        bin_sd = max(math.sqrt(bal.get("bin_var", 0.0)), MIN_BIN_SD_KWH)
        warm = bal.get("healthy_bins", 0) >= self.theft.warmup_bins
        z = sum_r / bin_sd if warm else 0.0
        area_kwh = acc[7]
        loss_rate = acc[5] / area_kwh if area_kwh > 0 else 0.0
        suspicious = warm and z > self.theft.loss_z and sum_r > self.theft.min_excess_kwh
        # one-sided CUSUM of the bins' z: a slow ramp (a leak creeping up) keeps z
        # just under `loss_z`; while it runs high, the bins' spread is not learned
        bal["drift"] = max(0.0, bal.get("drift", 0.0) + z - DRIFT_K) if warm else 0.0
        if suspicious:
            under_voltage = episodes.is_open(LOW_VOLTAGE_ZONE, episodes.area)
            self._attribute(table, base, bal, s_re, s_ee, bin_kwh, complete & ~stuck, flagged,
                            accused, slot, sum_r, n, var, bin_start, area_kwh,
                            fingerprint=not under_voltage)
        else:
            # a leak draws current in every bin: a calm one ends the leak hypothesis
            self._decay(table, bal, meters=self.theft.calm_decay, leak=0.0, slot=slot)
        self._track_shape(table, base, bin_kwh, complete & ~stuck, slot)
        self._judge_theft(table, episodes, bin_end, flagged)
        if episodes.open_entities(TRANSFORMER_OVERLOAD):
            bal["leak_ev"] = 0.0
        if slot == LEAK_CHECK_BIN:
            bal["night_z"] = z
        self._judge_leakage(bal, episodes, bin_end, z)
        self._judge_negative(bal, episodes, bin_end, loss_rate)
        self._learn_meters(table, base, bin_kwh, complete & ~stuck & ~flagged & ~accused, slot,
                           calm_area=warm and z < 1.0, hidden_kwh=self.theft.loss_z * bin_sd)
        if not (suspicious or episodes.open_entities(LEAKAGE_KIND)
                or episodes.open_entities(TRANSFORMER_OVERLOAD)):
            self._learn_area(bal, acc)
        return BinClose(sum_r, z, loss_rate)

    def _track_shape(self, table: MeterTable, base: MeterBaselines, bin_kwh: np.ndarray,
                     usable: np.ndarray, slot: int) -> None:
        """Each meter's daytime and 00:00-06:00 use against its own baseline for those bins.

        Why: a night-only bypass shows in the shape of the day, not only its
        total: the meter's night use falls far under its own night baseline
        while its daytime use stays near its own day baseline, whereas a
        bypass around the clock lowers both by the same share. The sums
        (faded per bin added, restarted when theft evidence begins) hold use
        and baseline, so their ratio is the meter's recent use relative to
        its usual; bins with more usual use weigh more, which damps the
        noise of near-empty bins.
        """
        if slot == NIGHT_CORE_BIN:
            use, usual = "night_kwh", "night_base"
        elif slot not in self.theft.night_bins:
            use, usual = "day_kwh", "day_base"
        else:
            return
        col = table.col
        factor = peer_factor(bin_kwh, base.levels(slot), usable)
        mu, _, warm = base.expected(slot, factor)
        ok = usable & warm & (mu > 0)
        col[use][ok] = SHAPE_FADING * col[use][ok] + bin_kwh[ok]
        col[usual][ok] = SHAPE_FADING * col[usual][ok] + mu[ok]

    @staticmethod
    def _shortfalls(table: MeterTable, row: int) -> tuple[float, float] | None:
        """(daytime, night-time) relative shortfall of a meter's recent use against its own
        baseline, or None until both a day bin and a night bin were seen."""
        col = table.col
        if col["day_base"][row] <= 0 or col["night_base"][row] <= 0:
            return None
        return (1.0 - float(col["day_kwh"][row] / col["day_base"][row]),
                1.0 - float(col["night_kwh"][row] / col["night_base"][row]))

    def _counts_again(self, table: MeterTable, row: int) -> bool:
        """A meter's recent daytime use is back above half its own baseline."""
        shortfalls = self._shortfalls(table, row)
        return (shortfalls is not None and shortfalls[0] < 0.5
                and table.col["zero_run"][row] == 0)

    def _learn_meters(self, table: MeterTable, base: MeterBaselines, bin_kwh: np.ndarray,
                      usable: np.ndarray, slot: int, calm_area: bool = False,
                      hidden_kwh: float = float("inf")) -> None:
        """Update the seasonal baselines; remember drops that came without unexplained energy.

        A customer who uses less while the area balances (holiday, a new
        tenant) has an honest drop: `calm_drop` counts the area's recent
        balanced bins in which the meter was under its baseline (halving per
        bin), so a later, unrelated loss in the area is not pinned on them
        once it reaches `HONEST_DROP` (two such bins in a row).

        A suspect whose drop is still larger than a balanced bin can hide
        (`hidden_kwh`, the excess that would have made the bin suspicious) is
        not missing its use: had it been bypassed, the area meter would show
        it. Its evidence is dropped, so a vacancy that happened to begin in a
        bin of chance excess is not completed into a theft by the next chance
        bin, and the calm bins after count its drop as honest.
        """
        col = table.col
        factor = peer_factor(bin_kwh, base.levels(slot), usable)
        mu, sigma, warm = base.expected(slot, factor)
        drop_z = (mu - bin_kwh) / sigma
        if calm_area:
            contradicted = usable & warm & (col["evidence"] >= 1.0) & (mu - bin_kwh > hidden_kwh)
            col["evidence"][contradicted] = 0.0
            col["evidence_night"][contradicted] = 0.0
        calm = usable & (col["evidence"] < 1.0) & ((drop_z < LEARN_DROP_Z) | ~warm)
        if calm_area:
            honest = warm & (drop_z >= LEARN_DROP_Z) & (col["evidence"] < 1.0)
            col["calm_drop"][usable] = 0.5 * col["calm_drop"][usable] + honest[usable]
        base.learn(slot, np.where(calm, bin_kwh / factor, np.nan))

    def _learn_area(self, bal: dict, acc: list[float]) -> None:
        """Merge a healthy bin into the technical-loss fit and the residual variance.

        Not into the variance while the drift CUSUM is high: a creeping excess
        would otherwise widen the spread it is judged against as fast as it
        grows, and never stand out.
        """
        fit_acc = bal.get("fit_acc", [0.0] * 5)
        merged = [TL_FADING * old + new for old, new in
                  zip(fit_acc, (acc[0], acc[3], acc[4], acc[5], acc[6]), strict=True)]
        bal["fit_acc"] = merged
        w, sx, sxx, sy, sxy = merged
        mean_x, mean_y = sx / w, sy / w
        cov = sxy / w - mean_x * mean_y
        vx = sxx / w - mean_x * mean_x
        slope = max(cov / vx, 0.0) if vx > 1e-12 else 0.0
        bal["fit"] = [mean_y - slope * mean_x, slope]
        n, sum_r, sum_rr = acc[0], acc[1], acc[2]
        bin_var = max(sum_rr / n - (sum_r / n) ** 2, 0.0)
        healthy = bal.get("healthy_bins", 0)
        if healthy >= 1 and bal.get("drift", 0.0) <= DRIFT_H:
            rate = max(0.1, 1.0 / (healthy + 1))
            old = bal.get("var", bin_var)
            bal["var"] = old + rate * (bin_var - old)
            old = bal.get("bin_var", sum_r * sum_r)
            if healthy >= self.theft.warmup_bins:
                # one freak bin (a register catching up, a clock jump) must not blind
                # the area for weeks: its square counts at most VAR_CLIP_Z deviations
                sum_r = math.copysign(min(abs(sum_r), VAR_CLIP_Z * math.sqrt(old)), sum_r)
            bal["bin_var"] = old + rate * (sum_r * sum_r - old)
        bal["healthy_bins"] = healthy + 1

    def _attribute(self, table: MeterTable, base: MeterBaselines, bal: dict, s_re: np.ndarray,
                   s_ee: np.ndarray, bin_kwh: np.ndarray, usable: np.ndarray,
                   flagged: np.ndarray, accused: np.ndarray, slot: int, sum_r: float,
                   n: float, var: float, bin_start: float, area_kwh: float,
                   fingerprint: bool = True) -> None:
        """Score every meter as the explanation of the bin's unexplained energy.

        Level: how much giving the excess back to meter j restores j's own
        seasonal baseline (a Gaussian log-likelihood gain). Fingerprint: how
        much better j's interval profile fits the residual than a constant
        leak does; it only adds to a positive level gain, as rounding of the
        registers blurs it. Not counted while the area is a low-voltage zone
        (`fingerprint` False): under-voltage cuts the use of the big loads at
        the far end and raises the line loss in step with them, the very
        signature of a bypass, so there the level alone must make the case.
        """
        col = table.col
        t = self.theft
        factor = peer_factor(bin_kwh, base.levels(slot), usable)
        mu, sigma, warm = base.expected(slot, factor)
        warm &= usable
        deficit = mu - bin_kwh
        # two-piece normal around the baseline, UPWARD_SPREAD times wider above it:
        # use swings up more than down, and a bypassed customer often uses more once
        # it is free, so the excess may well exceed what their meter stopped counting
        over = sum_r - deficit                 # restored use above the baseline
        restored = np.where(over > 0, over / UPWARD_SPREAD, deficit - sum_r)
        level = np.where(warm, (deficit * deficit - restored * restored) / (2 * sigma * sigma),
                         -np.inf)
        gain_const = sum_r * sum_r / n
        fits = np.where((s_re > 0) & (s_ee > 0), s_re * s_re / np.maximum(s_ee, 1e-12), 0.0)
        bonus = np.clip((fits - gain_const) / (2 * var), 0.0, t.evidence_cap / 4 * fingerprint)
        score = np.where(level > 0, level + bonus, level)
        ratio = deficit / sum_r
        # a meter with an open theft sign, or already accused by the balance, is the
        # first suspect, but only while its drop still matches the excess (its theft may
        # be over, or another meter stopped): a neighbour who uses less meanwhile (a
        # holiday) is not a second thief
        known = flagged | accused
        # a register that has not moved for a whole bin while powered is a sign too: a
        # customer whose use swings widely has a baseline too broad for the level alone
        known = known | (col["zero_run"] >= self.bin_s / self.interval_s - 1)
        score = np.where(known & warm, np.maximum(score, t.llr_min), score)
        in_range = (ratio >= t.match_low) & (ratio <= t.match_high)
        matches = (col["calm_drop"] < HONEST_DROP) & in_range
        plausible = warm & (matches | known & in_range) & (score >= t.llr_min)
        if (plausible & known).any():
            plausible &= known
        if plausible.any():
            culprit = int(np.argmax(np.where(plausible, score, -np.inf)))
            gain = min(float(score[culprit]), t.evidence_cap)
            self._decay(table, bal, meters=t.evidence_decay, leak=0.0, keep=culprit)
            if col["evidence"][culprit] <= 0:
                col["evidence_since"][culprit] = bin_start
                col["stolen_kwh"][culprit] = 0.0
                col["evidence_bins"][culprit] = 0
                for name in ("day_kwh", "day_base", "night_kwh", "night_base"):
                    col[name][culprit] = 0.0
            col["evidence"][culprit] += gain
            if slot in t.night_bins:
                col["evidence_night"][culprit] += gain
            col["evidence_bins"][culprit] += 1
            col["stolen_kwh"][culprit] += sum_r
            return
        # what meters already accused of theft usually take is not a leak, as long as
        # their own use is still missing (a theft that ended must not hide a new leak)
        usual_take = col["stolen_kwh"] / np.maximum(col["evidence_bins"], 1)
        still_missing = np.where(warm, np.clip(deficit, 0.0, usual_take), usual_take)
        known = float(still_missing[accused].sum())
        rest = sum_r - known
        z = rest / max(math.sqrt(bal.get("bin_var", 0.0)), MIN_BIN_SD_KWH)
        # a steady leak fits the residual at least as well as any meter's profile does
        # (Cauchy-Schwarz); a residual that follows one meter is someone taking energy.
        # Only a leak already seen in the previous bin wins over a night-only suspect:
        # a first bin of excess after calm ones may be that suspect's theft
        steady = bal.get("leak_ev", 0.0) > 0
        leak = z > t.loss_z and float(fits.max(initial=0.0)) <= gain_const
        self._decay(table, bal, meters=t.evidence_decay, leak=t.evidence_decay,
                    slot=-1 if leak and steady else slot, night_only_rate=t.calm_decay)
        if not leak:
            return
        if bal.get("leak_ev", 0.0) <= 0:
            bal["leak_since"] = bin_start
            bal["leak_bins"] = 0
            bal["leak_kwh"] = 0.0
            bal["leak_area_kwh"] = 0.0
        bal["leak_ev"] = bal.get("leak_ev", 0.0) + min(z, t.evidence_cap)
        bal["leak_bins"] = bal.get("leak_bins", 0) + 1
        bal["leak_kwh"] = bal.get("leak_kwh", 0.0) + rest
        bal["leak_area_kwh"] = bal.get("leak_area_kwh", 0.0) + area_kwh

    def _decay(self, table: MeterTable, bal: dict, meters: float, leak: float,
               keep: int = -1, slot: int = -1, night_only_rate: float | None = None) -> None:
        """Shrink the meters' theft evidence by `meters` and the area's leak evidence by `leak`.

        Hard when another explanation won the bin or nobody explains it, gently
        when the bin was calm. Evidence gathered in night bins only is judged
        apart when `slot` is given: a day bin says nothing against it (kept
        whole), and a night bin that nobody explains, as a night-time bypass
        leaves the bin it only partly covers, trims it by `night_only_rate`.
        """
        col = table.col
        kept = col["evidence"][keep] if keep >= 0 else 0.0
        kept_night = col["evidence_night"][keep] if keep >= 0 else 0.0
        rate = np.full(len(table), meters, np.float32)
        if slot >= 0:
            night_only = col["evidence_night"] >= NIGHT_SHARE * col["evidence"]
            if slot not in self.theft.night_bins:
                rate[night_only] = 1.0
            elif night_only_rate is not None:
                rate[night_only] = night_only_rate
        col["evidence"] *= rate
        col["evidence_night"] *= rate
        col["evidence"][col["evidence"] < 0.5] = 0.0
        if keep >= 0:
            col["evidence"][keep] = kept
            col["evidence_night"][keep] = kept_night
        bal["leak_ev"] = bal.get("leak_ev", 0.0) * leak

    def _judge_theft(self, table: MeterTable, episodes: Episodes, at: float,
                     flagged: np.ndarray) -> None:
        col = table.col
        t = self.theft
        open_theft = {m: k for k in THEFT_KINDS for m in episodes.open_entities(k)}
        firing = np.flatnonzero((col["evidence"] >= t.evidence_threshold)
                                & (col["evidence_bins"] >= t.min_bins) & ~flagged)
        per_bin = self.bin_s / self.interval_s
        signs = flagged & ~np.isin(np.arange(len(table)),
                                   [table.index[m] for m in open_theft])
        col["evidence"][signs] = np.minimum(col["evidence"][signs], t.evidence_threshold / 2)
        for row in firing:
            meter = table.meters[row]
            stopped = col["zero_run"][row] >= per_bin - 1
            since = float(col["evidence_since"][row])
            if meter in open_theft:
                was_stopped = open_theft[meter] == THEFT_METER_STOPPED
                if was_stopped and self._counts_again(table, row):
                    # a stopped register counts again: that theft is over, and whatever
                    # the meter does next must make its own case from fresh evidence
                    episodes.resolve(THEFT_METER_STOPPED, meter, at=at,
                                     reason=f"Meter {meter} counts its daytime use again.")
                    for name in ("evidence", "evidence_night", "stolen_kwh", "evidence_bins"):
                        col[name][row] = 0
                    continue
                if not stopped or was_stopped:
                    continue
                # the theft changed form: a partly bypassed meter whose register now stops
                episodes.resolve(open_theft[meter], meter, at=at,
                                 reason=f"Meter {meter} now counts nothing at all.")
                del open_theft[meter]
                since = at - float(col["zero_run"][row]) * self.interval_s
            stolen = float(col["stolen_kwh"][row])
            bins = max(1.0, (at - col["evidence_since"][row]) / self.bin_s)   # of stolen_kwh
            night_share = col["evidence_night"][row] / max(col["evidence"][row], 1e-9)
            shortfalls = self._shortfalls(table, row)
            day_drop, night_drop = shortfalls if shortfalls else (float("nan"),) * 2
            if stopped:
                kind, what = THEFT_METER_STOPPED, "counts nothing while powered"
            elif shortfalls is None and night_share > 0:
                continue                      # wait for a day and a night to tell the kinds apart
            elif (shortfalls is not None and night_drop >= NIGHT_ONLY_DROP
                  and day_drop <= DAY_TO_NIGHT_DROP * night_drop):
                kind, what = THEFT_NIGHT_BYPASS, "is bypassed at night"
            else:
                kind, what = THEFT_BYPASS, "is partly bypassed"
            per_day = stolen / bins * BINS_PER_DAY
            if kind == THEFT_NIGHT_BYPASS:
                per_day = stolen / max(1.0, bins / BINS_PER_DAY)
            if per_day < t.min_kwh_per_day:
                continue
            episodes.fire(kind, meter, "meter", at=at,
                          started_at=since, detector=NAME,
                          score=min(1.0, col["evidence"][row] / (2 * t.evidence_threshold)),
                          observed={"unexplained_kwh": round(stolen, 2),
                                    "evidence": round(float(col["evidence"][row]), 2),
                                    "bins": int(col["evidence_bins"][row]),
                                    "night_share": round(float(night_share), 2),
                                    "daytime_shortfall": _rounded(day_drop),
                                    "night_shortfall": _rounded(night_drop)},
                          threshold={"evidence_threshold": t.evidence_threshold,
                                     "min_bins": t.min_bins, "loss_z": t.loss_z,
                                     "night_only_drop": NIGHT_ONLY_DROP,
                                     "day_to_night_drop": DAY_TO_NIGHT_DROP},
                          reason=(f"Meter {meter} {what}: the area's unexplained energy "
                                  f"({stolen:.1f} kWh so far) tracks this meter's own "
                                  f"consumption better than any other explanation."),
                          evidence={"rank": "best-fitting meter of the area"},
                          loss_kwh_per_day=per_day)
        for meter, kind in open_theft.items():
            row = table.index[meter]
            col["evidence"][row] = min(col["evidence"][row], 2 * t.evidence_threshold)
            col["evidence_night"][row] = min(col["evidence_night"][row], col["evidence"][row])
            if col["evidence"][row] < 1.0:
                episodes.resolve(kind, meter, at=at,
                                 reason=f"The area's balance no longer points at meter {meter}.")

    def _judge_leakage(self, bal: dict, episodes: Episodes, at: float, z: float) -> None:
        """Fire when leak evidence is enough *and* the last night bin had unexplained
        energy too: a leak draws current day and night, while losses that grow with
        load squared (an overloaded or overlong line) all but vanish at night."""
        lk = self.leakage
        area = episodes.area
        bins = max(1.0, (at - bal.get("leak_since", at)) / self.bin_s)
        per_day = bal.get("leak_kwh", 0.0) / bins * BINS_PER_DAY
        share = bal.get("leak_kwh", 0.0) / max(bal.get("leak_area_kwh", 0.0), 1e-9)
        if (bal.get("leak_ev", 0.0) >= lk.evidence_threshold
                and bal.get("leak_bins", 0) >= lk.min_bins
                and bal.get("night_z", 0.0) > self.theft.loss_z
                and share >= lk.min_share):
            episodes.fire(LEAKAGE_KIND, area, "area", at=at, started_at=bal["leak_since"],
                          detector=NAME,
                          score=min(1.0, bal["leak_ev"] / (2 * lk.evidence_threshold)),
                          observed={"unexplained_kwh": round(bal["leak_kwh"], 2),
                                    "share_of_supply": round(share, 4),
                                    "bins": bal["leak_bins"], "last_bin_z": round(z, 2)},
                          threshold={"evidence_threshold": lk.evidence_threshold,
                                     "loss_z": self.theft.loss_z, "min_share": lk.min_share},
                          reason=(f"Area {area} loses {per_day:.1f} kWh/day more than its "
                                  f"technical loss, steadily and not in step with any meter."),
                          loss_kwh_per_day=per_day)
        if episodes.is_open(LEAKAGE_KIND, area):
            clear = bal.get("leak_clear", 0) + 1 if z < lk.clear_z else 0
            bal["leak_clear"] = clear
            if clear >= 2:
                bal["leak_ev"] = 0.0
                bal["leak_clear"] = 0
                episodes.resolve(LEAKAGE_KIND, area, at=at, observed={"last_bin_z": round(z, 2)},
                                 reason=f"Area {area} line loss is back to its usual level.")

    def _judge_negative(self, bal: dict, episodes: Episodes, at: float,
                        loss_rate: float) -> None:
        area = episodes.area
        limit = self.leakage.negative_loss_ratio
        run = bal.get("neg_run", 0) + 1 if loss_rate < limit else 0
        bal["neg_run"] = run
        if run >= 2:
            episodes.fire(METERING_FAULT, area, "area", at=at, detector=NAME,
                          observed={"loss_rate": round(loss_rate, 4)},
                          threshold={"negative_loss_ratio": limit},
                          reason=(f"Customers' meters in area {area} count more energy than "
                                  f"the area meter (loss rate {loss_rate:.1%}): a metering "
                                  f"fault."))
        elif loss_rate >= 0:
            episodes.resolve(METERING_FAULT, area, at=at,
                             reason=f"Area {area} line loss is positive again.")


def _rounded(x: float) -> float | None:
    """A shortfall for the alert's evidence (None when not yet measured)."""
    return round(x, 2) if math.isfinite(x) else None


def _mask(table: MeterTable, episodes: Episodes, kinds: tuple[str, ...]) -> np.ndarray:
    """Rows of meters with an open episode of any of `kinds`."""
    mask = np.zeros(len(table), bool)
    for kind in kinds:
        for meter in episodes.open_entities(kind):
            row = table.index.get(meter)
            if row is not None:
                mask[row] = True
    return mask
