"""One chunk of grid physics: demand, currents, voltages, losses and meter registers.

Why these equations: they are the smallest set that keeps the quantities a
detector compares mutually consistent.

- Demand = mean x daily/weekly shape x temperature factor x day and interval noise.
- Each meter draws I = P / (V_nominal x pf), spread over the phases it uses.
- Voltage at a meter = transformer secondary voltage (tap, the 10 kV level,
  which falls with feeder load towards the feeder's far end, transformer
  impedance drop) minus the branch drop sum_j R[i, j] I[j], so far meters on
  long, loaded branches sag at the evening peak.
- Line loss = sum over phases of I^T R I, so it grows with load squared; the
  area meter registers the customers' true demand + line loss + a small
  load-independent loss (joints, insulation, the meters' own consumption) +
  leakage, hence a healthy area's loss rate of a few per cent, and stolen
  energy still shows on the area meter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .effects import Effects
from .shapes import temperature_c, temperature_factor
from .topology import NOMINAL_PHASE_V, Grid

METER_SELF_W = 1.5            # each meter's own consumption, unmetered by itself
VOLTAGE_NOISE_V = 0.3
INTERVAL_NOISE_SIGMA = 0.3
DAY_NOISE_SIGMA = 0.15
MV_NOISE = 0.004              # interval-to-interval medium-voltage variation, per unit
FEEDER_DROP_AT_PEAK = 0.02    # 10 kV feeder drop at its peak load, per unit, mid-feeder


@dataclass
class Registers:
    """Cumulative meter registers carried from one chunk to the next."""

    forward_kwh: np.ndarray   # (A, K+1): customer slots then the area meter
    reverse_kwh: np.ndarray   # (A, K+1)

    @classmethod
    def initial(cls, grid: Grid, rng: np.random.Generator) -> Registers:
        forward = rng.uniform(100.0, 20_000.0, size=(grid.n_areas, grid.slots + 1))
        forward[:, -1] *= 20.0
        return cls(np.round(forward, 2), np.zeros_like(forward))


@dataclass
class ChunkReadings:
    """What every meter reports for each interval of a chunk; slot K is the area meter.

    Values are full precision here; the stream rounds them to register resolution.
    """

    ts: np.ndarray            # (T,) interval end, epoch seconds
    voltage: np.ndarray       # (A, T, K+1, 3); phases a meter lacks hold 0
    current: np.ndarray       # (A, T, K+1, 3)
    energy_kwh: np.ndarray    # (A, T, K+1) forward register
    reverse_kwh: np.ndarray   # (A, T, K+1)
    power_kw: np.ndarray      # (A, T, K+1)
    pf: np.ndarray            # (A, T, K+1)
    events: np.ndarray        # (A, T, K+1) uint8 mask
    true_kw: np.ndarray       # (A, T, K) demand actually drawn (ground truth, not reported)
    loss_kw: np.ndarray       # (A, T) technical line loss (ground truth)


def interval_ends(start: float, first: int, count: int, interval_s: int) -> np.ndarray:
    return start + (first + np.arange(1, count + 1)) * float(interval_s)


def demand_kw(grid: Grid, ts: np.ndarray, interval_s: int, shapes: np.ndarray,
              rng: np.random.Generator, day_factor: np.ndarray | None = None) -> np.ndarray:
    """True demand (A, T, K) before scenario effects.

    ``day_factor`` (A, K), for a one-day chunk, replaces the legacy lognormal day noise
    (see `gridwatch.sensors.variability`); the legacy draw is made either way so the
    interval noise and the voltages stay the same for a seed.
    """
    mid = ts - interval_s / 2.0
    slot = ((mid % 86_400) // interval_s).astype(np.int64)
    weekend = (((mid // 86_400).astype(np.int64) + 3) % 7 >= 5).astype(np.int64)
    per_class = shapes[:, weekend, slot] * temperature_factor(temperature_c(mid, rng))
    shape = per_class[grid.customer_class.astype(np.int64)]          # (A, K, T)
    days = np.floor(mid / 86_400).astype(np.int64)
    day_ids, day_of = np.unique(days, return_inverse=True)
    day_noise = rng.lognormal(-DAY_NOISE_SIGMA**2 / 2, DAY_NOISE_SIGMA,
                              size=(grid.n_areas, day_ids.size, grid.slots))[:, day_of, :]
    if day_factor is not None:
        day_noise = day_factor[:, None, :]
    noise = rng.lognormal(-INTERVAL_NOISE_SIGMA**2 / 2, INTERVAL_NOISE_SIGMA,
                          size=(grid.n_areas, ts.size, grid.slots))
    return grid.mean_kw[:, None, :] * shape.transpose(0, 2, 1) * day_noise * noise


def simulate_chunk(grid: Grid, ts: np.ndarray, interval_s: int, shapes: np.ndarray,
                   registers: Registers, effects: Effects, rng: np.random.Generator,
                   day_factor: np.ndarray | None = None) -> ChunkReadings:
    """Advance the grid over the intervals ``ts``; updates ``registers`` in place."""
    n_a, n_t, n_k = grid.n_areas, ts.size, grid.slots
    demand = demand_kw(grid, ts, interval_s, shapes, rng, day_factor)
    if (base := effects.get("base_demand_kw")) is not None:
        demand = np.where(np.isnan(base), demand, base)
    weight = np.broadcast_to(grid.phase_weight[:, None, :, :], (n_a, n_t, n_k, 3))
    if (scale := effects.get("demand_scale")) is not None:
        demand = demand * scale
    if (phase_live := effects.get("phase_live")) is not None:
        weight = weight * phase_live[:, :, None, :]
        demand = demand * weight.sum(axis=3) / np.maximum(grid.phase_weight.sum(axis=2), 1e-9
                                                          )[:, None, :]
    if (supplied := effects.get("supplied")) is not None:
        demand = demand * supplied

    amps = demand * 1000.0 / (NOMINAL_PHASE_V * grid.power_factor[:, None, :])
    phase_amps = amps[..., None] * weight                          # (A, T, K, 3)
    feeder_load = np.zeros((len(grid.feeder_ids), n_t))
    np.add.at(feeder_load, grid.area_feeder, demand.sum(axis=2))
    feeder_peak = np.maximum(feeder_load.max(axis=1, keepdims=True), 1e-9)
    feeder_drop = (FEEDER_DROP_AT_PEAK * feeder_load / feeder_peak
                   + rng.normal(0.0, MV_NOISE, size=feeder_load.shape))[grid.area_feeder]
    mv = grid.mv_level[:, None] - feeder_drop * (0.5 + grid.feeder_position[:, None])
    if (mv_factor := effects.get("mv_factor")) is not None:
        mv = mv * mv_factor
    tap = effects.get("tap_offset")
    source_v = grid.no_load_v[:, None] * mv * (1.0 if tap is None else 1.0 + tap)
    dead_source = source_v < 1.0
    leak_kw = effects.get("leak_kw")
    area_amps = phase_amps.sum(axis=2)                             # (A, T, 3)
    if leak_kw is not None:
        leak_kw = np.where(dead_source, 0.0, leak_kw)
        area_amps = area_amps + (leak_kw * 1000.0 / (3 * NOMINAL_PHASE_V))[:, :, None]
    tx_v = source_v[:, :, None] - grid.tx_ohm[:, None, None] * area_amps   # (A, T, 3)

    stacked = phase_amps.transpose(0, 3, 1, 2).reshape(n_a, 3 * n_t, n_k)
    drop = np.matmul(stacked, grid.r_common).reshape(n_a, 3, n_t, n_k).transpose(0, 2, 3, 1)
    if (r_scale := effects.get("r_scale")) is not None:
        drop = drop * r_scale[:, :, None, None]
    loss_kw = (phase_amps * drop).sum(axis=(2, 3)) / 1000.0
    volts = tx_v[:, :, None, :] - drop
    volts = volts + rng.normal(0.0, VOLTAGE_NOISE_V, size=volts.shape)
    volts = np.where(weight > 0, volts, 0.0)
    if phase_live is not None:
        volts = volts * phase_live[:, :, None, :]
        tx_v = tx_v * phase_live
    if supplied is not None:
        volts = volts * supplied[..., None]
    tx_v = np.where(dead_source[:, :, None], 0.0, np.maximum(tx_v, 0.0))
    volts = np.maximum(volts, 0.0)

    share = effects.get("metered_share")
    metered = demand if share is None else demand * share
    seen_amps = phase_amps if share is None else phase_amps * share[..., None]
    seen_volts = volts
    if (hidden := effects.get("hidden_phase")) is not None:
        unseen = hidden[..., None] == np.arange(3)
        seen_amps = np.where(unseen, 0.0, seen_amps)
        seen_volts = np.where(unseen, 0.0, volts)

    hours = interval_s / 3600.0
    self_kw = grid.mask.sum(axis=1) * METER_SELF_W / 1000.0 + grid.fixed_loss_kw
    area_kw = demand.sum(axis=2) + loss_kw + np.where(dead_source, 0.0, self_kw[:, None])
    if leak_kw is not None:
        area_kw = area_kw + leak_kw

    power = np.empty((n_a, n_t, n_k + 1))
    power[:, :, :n_k] = metered
    power[:, :, n_k] = area_kw
    forward_step = power * hours
    reverse_step = np.zeros_like(forward_step)
    if (reverse := effects.get("reverse")) is not None:
        reverse_step[:, :, :n_k] = np.where(reverse, forward_step[:, :, :n_k], 0.0)
        forward_step[:, :, :n_k] = np.where(reverse, 0.0, forward_step[:, :, :n_k])
        power[:, :, :n_k] = np.where(reverse, -metered, metered)
    energy = registers.forward_kwh[:, None, :] + np.cumsum(forward_step, axis=1)
    reverse_kwh = registers.reverse_kwh[:, None, :] + np.cumsum(reverse_step, axis=1)
    registers.forward_kwh = energy[:, -1, :].copy()
    registers.reverse_kwh = reverse_kwh[:, -1, :].copy()

    voltage = np.empty((n_a, n_t, n_k + 1, 3))
    voltage[:, :, :n_k] = seen_volts
    voltage[:, :, n_k] = tx_v
    current = np.empty((n_a, n_t, n_k + 1, 3))
    current[:, :, :n_k] = seen_amps
    current[:, :, n_k] = area_amps * (~dead_source[:, :, None])
    pf = np.empty((n_a, n_t, n_k + 1))
    pf[:, :, :n_k] = grid.power_factor[:, None, :]
    pf[:, :, n_k] = 0.92
    events = np.zeros((n_a, n_t, n_k + 1), np.uint8)
    if (raised := effects.get("events")) is not None:
        events[:, :, :n_k] = raised
    return ChunkReadings(
        ts=ts, voltage=voltage, current=current, energy_kwh=energy, reverse_kwh=reverse_kwh,
        power_kw=power, pf=pf, events=events,
        true_kw=demand, loss_kw=loss_kw,
    )

