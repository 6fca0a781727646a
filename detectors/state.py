"""Compact per-area detector state: one row per meter in typed NumPy columns.

Why columns instead of one object per meter: the Faust worker writes an area's
state to its changelog once per batch, so the state must be small (the
target is at most 1 KB per monitored meter) and quick to (de)serialise. A
column per quantity holds every meter of the area; detectors update whole
columns at once. Area-level values (open episodes, running totals) live in a
plain JSON-able dict beside the columns.

Wire format of `AreaState.dumps`: ``b"GWS1"``, a 4-byte little-endian
header length, a JSON header (meter ids, scalars, column names, dtypes and
shapes; space-padded to 8 bytes) and then the columns' raw bytes in header
order, widest dtype first so every column is aligned for the kernels.
Nothing here depends on settings objects, so a live pipeline can be
reconfigured without touching the state.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"GWS1"
ALIGN = 8                 # columns start aligned: header padded, widest dtypes first
BINS_PER_DAY = 4

# name -> (dtype, trailing shape, fill value for a newly seen meter)
METER_COLUMNS: dict[str, tuple[str, tuple[int, ...], float]] = {
    "last_ts": ("f8", (), np.nan),          # newest reading processed
    "energy": ("f8", (), np.nan),           # import register at last_ts
    "reverse": ("f8", (), np.nan),          # export register at last_ts
    "voltage": ("f4", (), np.nan),          # min phase voltage at last_ts (stuck test)
    "power": ("f4", (), np.nan),            # power at last_ts (stuck test)
    "phases": ("i1", (), 1),
    "stuck_run": ("i2", (), 0),             # intervals with an identical reading
    "zero_run": ("i2", (), 0),              # intervals of zero energy with voltage present
    "bin_start_energy": ("f8", (), np.nan),  # register when the current balance bin began
    "bin_start_ts": ("f8", (), np.nan),
    "s_re": ("f8", (), 0.0),                # bin sum of residual loss x meter energy
    "s_ee": ("f8", (), 0.0),                 # bin sum of squared meter energy
    "evidence": ("f4", (), 0.0),            # energy-balance theft evidence (leaky sum)
    "evidence_night": ("f4", (), 0.0),      # the part of it gathered in night bins
    "evidence_since": ("f8", (), np.nan),   # start of the bin the evidence began in
    "evidence_bins": ("i2", (), 0),         # bins that added evidence
    "stolen_kwh": ("f4", (), 0.0),          # unexplained kWh attributed since evidence began
    "day_kwh": ("f4", (), 0.0),             # faded daytime-bin use since evidence began
    "day_base": ("f4", (), 0.0),            # ... and its seasonal baseline
    "night_kwh": ("f4", (), 0.0),           # faded 00:00-06:00 use since evidence began
    "night_base": ("f4", (), 0.0),          # ... and its seasonal baseline
    "calm_drop": ("f4", (), 0.0),           # recent balanced bins spent under baseline
    "phase_run": ("i2", (), 0),             # intervals with one phase missing (3-phase)
}


def add_kernel_columns(prefix: str, kernel: type, params: dict[str, Any]) -> None:
    """Give a `gridwatch.ext` kernel bank's per-meter arrays a column each.

    The bank's layout spec (``_ARRAYS``: name, dtype, trailing shape, fill,
    where a string names a constructor parameter) becomes columns named
    ``prefix + name``; `bind_kernel` then points a bank at them, so the
    Cython kernel updates the area state in place and nothing is copied.
    """
    for name, dtype, shape, fill in kernel._ARRAYS:
        dims = tuple(params[d] if isinstance(d, str) else d for d in shape)
        value = params[fill] if isinstance(fill, str) else fill
        METER_COLUMNS[prefix + name] = (dtype, dims, value)


def bind_kernel(table: MeterTable, prefix: str, bank: Any) -> Any:
    """Point `bank` (a `gridwatch.ext` kernel bank) at the table's columns (see
    `add_kernel_columns`) and return it; rebind after the table grows. One bank
    object serves every area: its state is the columns it is bound to."""
    bank._bind(*(table.col[prefix + name] for name, *_ in type(bank)._ARRAYS))
    return bank


class MeterTable:
    """Columns of per-meter state for one area, grown as new meters appear.

    >>> t = MeterTable()
    >>> t.index_of(["m1", "m2"]).tolist()
    [0, 1]
    >>> t.index_of(["m2", "m3"]).tolist()
    [1, 2]
    >>> bool(np.isnan(t.col["last_ts"][2]))
    True
    """

    def __init__(self, meters: list[str] | None = None,
                 columns: dict[str, np.ndarray] | None = None) -> None:
        self.meters: list[str] = list(meters or [])
        self.index: dict[str, int] = {m: i for i, m in enumerate(self.meters)}
        self.col: dict[str, np.ndarray] = columns or {
            name: np.full((0, *shape), fill, dtype=dtype)
            for name, (dtype, shape, fill) in METER_COLUMNS.items()
        }
        for name, (dtype, shape, fill) in METER_COLUMNS.items():
            if name not in self.col:
                self.col[name] = np.full((len(self.meters), *shape), fill, dtype=dtype)

    def __len__(self) -> int:
        return len(self.meters)

    def index_of(self, meters: list[str]) -> np.ndarray:
        """Row numbers of `meters`, adding rows for meters not seen before."""
        new = [m for m in dict.fromkeys(meters) if m not in self.index]
        if new:
            start = len(self.meters)
            for offset, meter in enumerate(new):
                self.index[meter] = start + offset
            self.meters.extend(new)
            for name, (dtype, shape, fill) in METER_COLUMNS.items():
                extra = np.full((len(new), *shape), fill, dtype=dtype)
                self.col[name] = np.concatenate([self.col[name], extra])
        return np.fromiter((self.index[m] for m in meters), dtype=np.intp, count=len(meters))


@dataclass
class AreaState:
    """Everything the detectors remember about one area between batches."""

    meters: MeterTable = field(default_factory=MeterTable)
    scalars: dict[str, Any] = field(default_factory=dict)

    def dumps(self) -> bytes:
        """Serialise to bytes for the worker's Faust table."""
        widest_first = sorted(self.meters.col, key=lambda n: -self.meters.col[n].dtype.itemsize)
        columns = {name: self.meters.col[name] for name in widest_first}
        header = {
            "meters": self.meters.meters,
            "scalars": self.scalars,
            "columns": [[name, columns[name].dtype.str, list(columns[name].shape)]
                        for name in columns],
        }
        head = json.dumps(header, separators=(",", ":")).encode()
        head += b" " * (-(8 + len(head)) % ALIGN)
        body = b"".join(np.ascontiguousarray(columns[name]).tobytes() for name in columns)
        return MAGIC + struct.pack("<I", len(head)) + head + body

    @classmethod
    def loads(cls, raw: bytes | None) -> AreaState:
        """Rebuild from `dumps` output; empty or None gives a fresh state.

        >>> s = AreaState()
        >>> _ = s.meters.index_of(["m1"])
        >>> s.scalars["x"] = 1
        >>> t = AreaState.loads(s.dumps())
        >>> (t.meters.meters, t.scalars)
        (['m1'], {'x': 1})
        >>> AreaState.loads(b"junk")
        Traceback (most recent call last):
        ...
        ValueError: detector state does not start with b'GWS1' (got b'junk'); not a GridWatch state
        """
        if not raw:
            return cls()
        if raw[:4] != MAGIC:
            raise ValueError(f"detector state does not start with {MAGIC!r} (got {raw[:4]!r}); "
                             "not a GridWatch state")
        (head_len,) = struct.unpack("<I", raw[4:8])
        header = json.loads(raw[8:8 + head_len])
        body = bytearray(raw[8 + head_len:])      # one writable copy; columns are views
        offset = 0
        columns: dict[str, np.ndarray] = {}
        for name, dtype, shape in header["columns"]:
            dt = np.dtype(dtype)
            count = math.prod(shape)
            columns[name] = np.frombuffer(body, dtype=dt, count=count,
                                          offset=offset).reshape(shape)
            offset += count * dt.itemsize
        if offset != len(body):
            raise ValueError(f"detector state is {len(raw)} bytes, header describes "
                             f"{8 + head_len + offset}")
        return cls(MeterTable(header["meters"], columns), header["scalars"])
