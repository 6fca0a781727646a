"""Per-chunk modifiers that scenarios write and the physics step reads.

Why a separate, lazily allocated container: a healthy day needs none of these
arrays, and allocating a dozen (area, time, meter) arrays per chunk would cost
more than the physics itself. A scenario asks for the array it changes
(``effects.array("metered_share")``) and the physics step only applies the
ones that exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EVENT_CODES = ("cover_open", "terminal_cover_open", "magnetic_interference", "power_down",
               "power_up", "reverse_energy", "clock_reset", "phase_failure")
EVENT_BIT = {name: 1 << i for i, name in enumerate(EVENT_CODES)}

# name -> (shape kind, dtype, neutral value). "atk": (area, time, meter slot);
# "at": (area, time); "atp": (area, time, phase).
_ARRAYS: dict[str, tuple[str, type, object]] = {
    "base_demand_kw": ("atk", np.float64, np.nan),  # replaces the modelled demand (real data)
    "demand_scale": ("atk", np.float64, 1.0),     # true demand multiplier (overload)
    "supplied": ("atk", np.bool_, True),           # False: meter has no supply (outage)
    "metered_share": ("atk", np.float64, 1.0),     # share of true energy the register counts
    "reverse": ("atk", np.bool_, False),           # energy goes into the reverse register
    "hidden_phase": ("atk", np.int8, -1),          # phase whose V and I the meter does not see
    "events": ("atk", np.uint8, 0),                # EVENT_BIT mask raised at this reading
    "phase_live": ("atp", np.bool_, True),         # transformer phase present
    "leak_kw": ("at", np.float64, 0.0),            # unmetered leakage current in the area
    "tap_offset": ("at", np.float64, 0.0),         # per-unit change of the secondary voltage
    "r_scale": ("at", np.float64, 1.0),            # branch resistance multiplier
    "mv_factor": ("at", np.float64, 1.0),          # per-unit medium-voltage level (sag/swell)
}


@dataclass
class Effects:
    """Modifier arrays for one chunk of ``times`` intervals over ``areas`` x ``slots``."""

    areas: int
    times: int
    slots: int
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def array(self, name: str) -> np.ndarray:
        """The named modifier, created at its neutral value on first use."""
        if name not in self.arrays:
            kind, dtype, neutral = _ARRAYS[name]
            shape = {"atk": (self.areas, self.times, self.slots),
                     "at": (self.areas, self.times),
                     "atp": (self.areas, self.times, 3)}[kind]
            self.arrays[name] = np.full(shape, neutral, dtype=dtype)
        return self.arrays[name]

    def get(self, name: str) -> np.ndarray | None:
        """The modifier if a scenario set it, else None (meaning: neutral)."""
        return self.arrays.get(name)


def event_names(mask: int) -> list[str]:
    """Event codes set in a bit mask, in `EVENT_CODES` order.

    >>> event_names(EVENT_BIT["power_down"] | EVENT_BIT["cover_open"])
    ['cover_open', 'power_down']
    """
    return [name for i, name in enumerate(EVENT_CODES) if mask & (1 << i)]
