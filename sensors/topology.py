"""Grid topology: substations, 10 kV feeders, transformer areas and their customers.

Why arrays padded per area: every later step (load, voltage drop, losses,
scenario effects) is one vectorised NumPy operation over an (area, meter)
grid; areas with fewer customers are padded and masked. Each customer sits on
one low-voltage branch at a distance from the transformer, and the branch's
shared-path resistance matrix turns branch currents into voltage drops (see
`gridwatch.sensors.physics`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOMINAL_PHASE_V = 220.0
NO_LOAD_PHASE_V = 231.0          # 10/0.4 kV transformer: 400 V line = 231 V phase at no load
STANDARD_KVA = (50, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800)
LOOP_FACTOR = 2.0                # phase conductor plus neutral return of unbalanced LV loads
TX_EFFECTIVE_IMPEDANCE = 0.025   # per-unit voltage drop at rated current (uk 4 %, pf ~0.9)
TAP_STEP = 0.025                 # off-load tap changer step of a distribution transformer
SIZING_PEAK_FACTOR = 2.3         # winter evening peak (heating on) over mean demand


@dataclass
class GridSpec:
    """How big the grid is and how its areas are built; the seed picks the details."""

    substations: int = 1
    feeders_per_substation: int = 2
    areas_per_feeder: int = 2
    meters_per_area: int = 20
    meters_spread: float = 0.0          # +/- fraction of meters_per_area varying per area
    branches_per_area: int = 3
    branch_length_m: tuple[float, float] = (150.0, 400.0)
    ohm_per_km: float = 0.44            # 70 mm2 aluminium LV cable
    class_mix: tuple[float, float, float] = (0.85, 0.10, 0.05)
    three_phase_share: tuple[float, float, float] = (0.05, 0.4, 1.0)
    mean_kw: tuple[float, float, float] = (0.45, 2.5, 9.0)
    weak_areas: int = 1                 # areas built as permanent low-voltage zones
    weak_branch_factor: float = 3.2     # their branches are this much longer...
    weak_ohm_per_km: float = 0.64       # ...and of thinner (50 mm2) cable
    loading: float = 0.55               # transformer sized so peak demand is this share of kVA
    mv_head_pu: float = 0.025           # 10 kV level above nominal at the substation end
    fixed_loss_share: tuple[float, float] = (0.008, 0.02)   # joints, insulation: share of mean


@dataclass
class Grid:
    """The built grid: identifiers plus per-area and per-meter arrays.

    Shapes: A areas, K meter slots per area (padded; ``mask`` marks real meters).
    """

    spec: GridSpec
    substation_ids: list[str]
    feeder_ids: list[str]
    feeder_substation: np.ndarray     # (F,) substation index of each feeder
    area_ids: list[str]
    area_feeder: np.ndarray           # (A,) feeder index
    concentrator_ids: list[str]
    meter_ids: list[list[str]]        # A lists of K ids ("" for padding)
    area_meter_ids: list[str]
    mask: np.ndarray                  # (A, K) bool
    customer_class: np.ndarray        # (A, K) int8
    phases: np.ndarray                # (A, K) int8: 1 or 3
    phase_weight: np.ndarray          # (A, K, 3) share of the meter's current on each phase
    branch: np.ndarray                # (A, K) int8
    distance_m: np.ndarray            # (A, K)
    mean_kw: np.ndarray               # (A, K) mean demand (0 for padding)
    power_factor: np.ndarray          # (A, K)
    r_common: np.ndarray              # (A, K, K) loop resistance of the shared path, ohm
    rated_kva: np.ndarray             # (A,)
    no_load_v: np.ndarray             # (A,) secondary phase voltage at nominal 10 kV, with tap
    tap: np.ndarray                   # (A,) tap position (per unit, -0.025 = one step down)
    feeder_position: np.ndarray       # (A,) 0 at the substation .. 1 at the feeder's far end
    mv_level: np.ndarray              # (A,) 10 kV level at the area with the feeder unloaded
    tx_ohm: np.ndarray                # (A,) effective transformer impedance, ohm
    weak: np.ndarray                  # (A,) bool: built as a low-voltage zone
    fixed_loss_kw: np.ndarray         # (A,) load-independent technical loss

    @property
    def n_areas(self) -> int:
        return len(self.area_ids)

    @property
    def slots(self) -> int:
        return self.mask.shape[1]

    @property
    def n_meters(self) -> int:
        """Customer meters (the area meters come on top, one per area)."""
        return int(self.mask.sum())

    def area_index(self, area_id: str) -> int:
        return self.area_ids.index(area_id)

    def meter_position(self, meter_id: str) -> tuple[int, int]:
        """(area index, slot) of a customer meter id such as ``F01-A02-M007``."""
        area_id, _, number = meter_id.rpartition("-M")
        area = self.area_index(area_id)
        slot = int(number) - 1
        if not (0 <= slot < self.slots and self.mask[area, slot]):
            raise KeyError(f"no meter {meter_id!r} in the grid")
        return area, slot


def shared_path_resistance(branch: np.ndarray, distance_m: np.ndarray, mask: np.ndarray,
                           ohm_per_m: np.ndarray) -> np.ndarray:
    """R[a, i, j] = loop resistance of the path meters i and j share from the transformer.

    On a radial branch the drop at meter i is sum_j R[i, j] * I[j], and the line loss
    is I^T R I; meters on different branches share nothing.

    >>> r = shared_path_resistance(np.array([[0, 0, 1]]), np.array([[100., 300., 50.]]),
    ...                            np.ones((1, 3), bool), np.array([0.001]))
    >>> r[0].round(3).tolist()
    [[0.2, 0.2, 0.0], [0.2, 0.6, 0.0], [0.0, 0.0, 0.1]]
    """
    same = (branch[:, :, None] == branch[:, None, :]) & mask[:, :, None] & mask[:, None, :]
    common = np.minimum(distance_m[:, :, None], distance_m[:, None, :])
    return np.where(same, common, 0.0) * ohm_per_m[:, None, None] * LOOP_FACTOR


def build_grid(spec: GridSpec, rng: np.random.Generator) -> Grid:
    """Lay out the grid; the same spec and generator state give the same grid."""
    n_feeders = spec.substations * spec.feeders_per_substation
    n_areas = n_feeders * spec.areas_per_feeder
    spread = max(0, int(round(spec.meters_per_area * spec.meters_spread)))
    counts = spec.meters_per_area + rng.integers(-spread, spread + 1, size=n_areas)
    counts = np.maximum(counts, 2)
    slots = int(counts.max())
    mask = np.arange(slots)[None, :] < counts[:, None]

    substation_ids = [f"S{s + 1}" for s in range(spec.substations)]
    feeder_ids = [f"F{f + 1:02d}" for f in range(n_feeders)]
    feeder_substation = np.arange(n_feeders) // spec.feeders_per_substation
    area_feeder = np.arange(n_areas) // spec.areas_per_feeder
    area_ids = [f"{feeder_ids[area_feeder[a]]}-A{a % spec.areas_per_feeder + 1:02d}"
                for a in range(n_areas)]
    weak = np.zeros(n_areas, bool)
    if spec.weak_areas:
        weak[rng.choice(n_areas, size=min(spec.weak_areas, n_areas), replace=False)] = True

    customer_class = rng.choice(3, size=(n_areas, slots), p=np.array(spec.class_mix)).astype(
        np.int8)
    three = rng.random((n_areas, slots)) < np.array(spec.three_phase_share)[customer_class]
    phases = np.where(three, 3, 1).astype(np.int8)
    phase_of = rng.integers(0, 3, size=(n_areas, slots))
    phase_weight = np.where(three[:, :, None], 1.0 / 3.0,
                            (np.arange(3)[None, None, :] == phase_of[:, :, None]).astype(float))
    phase_weight *= mask[:, :, None]

    branch = rng.integers(0, spec.branches_per_area, size=(n_areas, slots)).astype(np.int8)
    lo, hi = spec.branch_length_m
    lengths = rng.uniform(lo, hi, size=(n_areas, spec.branches_per_area))
    lengths = np.where(weak[:, None], lengths * spec.weak_branch_factor, lengths)
    own_length = np.take_along_axis(lengths, branch.astype(np.int64), axis=1)
    distance = rng.uniform(0.08, 1.0, size=(n_areas, slots)) * own_length
    ohm_per_m = np.where(weak, spec.weak_ohm_per_km, spec.ohm_per_km) / 1000.0
    r_common = shared_path_resistance(branch, distance, mask, ohm_per_m)

    class_kw = np.array(spec.mean_kw)[customer_class]
    mean_kw = class_kw * rng.lognormal(-0.08, 0.4, size=(n_areas, slots)) * mask
    power_factor = np.array([0.95, 0.9, 0.85])[customer_class] + rng.normal(
        0, 0.015, size=(n_areas, slots))
    power_factor = np.clip(power_factor, 0.7, 0.99)

    peak_kva = (mean_kw * SIZING_PEAK_FACTOR / power_factor).sum(axis=1)
    wanted = peak_kva / spec.loading
    rated_kva = np.array([next((k for k in STANDARD_KVA if k >= w), STANDARD_KVA[-1])
                          for w in wanted], dtype=float)
    rated_phase_a = rated_kva * 1000.0 / (3 * NOMINAL_PHASE_V)
    tx_ohm = TX_EFFECTIVE_IMPEDANCE * NOMINAL_PHASE_V / rated_phase_a
    # Areas near the substation see a higher 10 kV level; their taps are set one step
    # down to bring the no-load secondary voltage back to about 231 V.
    feeder_position = (np.arange(n_areas) % spec.areas_per_feeder + 0.5) / spec.areas_per_feeder
    mv_level = 1.0 + spec.mv_head_pu * (1.0 - feeder_position)
    tap = -np.round((mv_level - 1.0) / TAP_STEP) * TAP_STEP
    no_load_v = NO_LOAD_PHASE_V * (1.0 + tap)
    fixed_loss_kw = mean_kw.sum(axis=1) * rng.uniform(*spec.fixed_loss_share, size=n_areas)

    meter_ids = [[f"{area_ids[a]}-M{k + 1:03d}" if mask[a, k] else "" for k in range(slots)]
                 for a in range(n_areas)]
    return Grid(
        spec=spec, substation_ids=substation_ids, feeder_ids=feeder_ids,
        feeder_substation=feeder_substation, area_ids=area_ids, area_feeder=area_feeder,
        concentrator_ids=[f"C-{a}" for a in area_ids], meter_ids=meter_ids,
        area_meter_ids=[f"{a}-T" for a in area_ids], mask=mask,
        customer_class=customer_class, phases=phases, phase_weight=phase_weight,
        branch=branch, distance_m=distance * mask, mean_kw=mean_kw,
        power_factor=power_factor, r_common=r_common, rated_kva=rated_kva,
        no_load_v=no_load_v, tap=tap, feeder_position=feeder_position, mv_level=mv_level,
        tx_ohm=tx_ohm, weak=weak, fixed_loss_kw=fixed_loss_kw,
    )

