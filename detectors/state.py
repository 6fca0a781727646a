"""Compact per-area detector state: one row per meter in typed NumPy columns.

Why columns instead of one object per meter: the Faust worker writes an area's
state to its changelog once per batch, so the state must be small (the
target is at most 1 KB per monitored meter) and quick to (de)serialise. A
column per quantity holds every meter of the area; detectors update whole
columns at once. Area-level values (open episodes, running totals) live in a
plain JSON-able dict beside the columns, area-level numeric series (an
hourly load profile) in small raw arrays.

Wire format of `AreaState.dumps` (version 2): ``b"GWS2"``, five
little-endian uint32 (meters, and the byte lengths of the four JSON parts
that follow), the column layout (names, dtypes, trailing shapes, in storage
order), the meter ids, the scalars, the area arrays' names, dtypes and
shapes, spaces up to a multiple of 8 bytes, then the columns' raw bytes in
layout order, widest dtype first so every column is aligned for the
kernels, and last the area arrays' raw bytes, each starting aligned.
Small areas pay mostly fixed costs per batch, so the layout is parsed and
grouped once per distinct layout and the meter ids are re-encoded only when
a meter is added. ``GWS1`` states (one JSON header) are still read.
Nothing here depends on settings objects, so a live pipeline can be
reconfigured without touching the state.
"""

from __future__ import annotations

import functools
import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"GWS2"
LEGACY_MAGIC = b"GWS1"
PREAMBLE = struct.Struct("<4sIIIII")  # magic, meters, layout/ids/scalars/arrays JSON lengths
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_DECODER = json.JSONDecoder()
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
    col = table.col
    bank._bind(*[col[name] for name in _kernel_columns(prefix, type(bank))])
    return bank


@functools.lru_cache(maxsize=32)
def _kernel_columns(prefix: str, kernel: type) -> tuple[str, ...]:
    """Column names of a kernel bank's arrays, in its `_bind` order (see `bind_kernel`)."""
    return tuple(prefix + name for name, *_ in kernel._ARRAYS)


class ColumnLayout:
    """How a state's columns lie in its body: storage order, dtypes, trailing shapes.

    Why a cached object: the layout changes only when the code gains a
    column, never from batch to batch, so its JSON and its grouping of
    same-typed columns (one array per group, cut into column views, rather
    than one buffer view per column: fixed costs dominate small areas) are
    worked out once per layout, not once per load. Storage order is widest
    dtype first, so every column starts aligned for the kernels.

    >>> t = MeterTable()
    >>> _ = t.index_of(["m1", "m2"])
    >>> layout = ColumnLayout.of(t.col)
    >>> layout.names[0], layout.row_bytes == sum(a.nbytes for a in t.col.values()) // 2
    ('last_ts', True)
    >>> ColumnLayout.parse(b'[["x","<f8",[2]]]').groups
    ((('x',), dtype('float64'), (2,)),)
    """

    def __init__(self, text: bytes, spec: list[tuple[str, np.dtype, tuple[int, ...]]]) -> None:
        self.text = text
        self.names = tuple(name for name, _, _ in spec)
        self.dtypes = [dtype for _, dtype, _ in spec]
        groups: list[tuple[tuple[str, ...], np.dtype, tuple[int, ...]]] = []
        for name, dtype, trailing in spec:
            if groups and groups[-1][1:] == (dtype, trailing):
                groups[-1] = (groups[-1][0] + (name,), dtype, trailing)
            else:
                groups.append(((name,), dtype, trailing))
        self.groups = tuple(groups)
        self.row_bytes = sum(d.itemsize * math.prod(t) for _, d, t in spec)
        self._plans: dict[int, list] = {}     # meters -> block plan, see `_blocks`

    @classmethod
    def of(cls, columns: dict[str, np.ndarray]) -> ColumnLayout:
        """The layout for storing `columns` (whatever their current dtypes and shapes)."""
        spec = sorted(((name, a.dtype, a.shape[1:]) for name, a in columns.items()),
                      key=lambda s: (-s[1].itemsize, s[1].str, s[2]))
        return cls.parse(_ENCODER.encode([[n, d.str, list(t)] for n, d, t in spec]).encode())

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def parse(text: bytes) -> ColumnLayout:
        """The layout a stored state describes (cached: states share a handful of layouts)."""
        try:
            spec = [(str(name), np.dtype(dtype), tuple(int(d) for d in trailing))
                    for name, dtype, trailing in json.loads(text)]
        except (ValueError, TypeError) as exc:
            raise ValueError(f"detector state has an unreadable column layout: {exc}") from exc
        return ColumnLayout(text, spec)

    def columns(self, body: bytearray | memoryview, meters: int) -> dict[str, np.ndarray]:
        """Writable column views into `body` (one copy of the stored bytes, nothing else)."""
        if len(body) != meters * self.row_bytes:
            raise ValueError(f"detector state body is {len(body)} bytes, its layout describes "
                             f"{meters * self.row_bytes} for {meters} meters")
        columns: dict[str, np.ndarray] = {}
        for names, shape, dtype, offset in self._blocks(meters):
            # equal lengths by construction; strict would probe the block once more, and an
            # array signals its end by a costly IndexError
            columns.update(zip(names, np.ndarray(shape, dtype, body, offset), strict=False))
        return columns

    def _blocks(self, meters: int) -> list[tuple[tuple[str, ...], tuple[int, ...], np.dtype, int]]:
        """Per group: names, block shape, dtype and byte offset for an area of `meters`."""
        blocks = self._plans.get(meters)
        if blocks is None:
            if len(self._plans) >= 256:
                self._plans.clear()
            blocks, offset = [], 0
            for names, dtype, trailing in self.groups:
                shape = (len(names), meters, *trailing)
                blocks.append((names, shape, dtype, offset))
                offset += math.prod(shape) * dtype.itemsize
            self._plans[meters] = blocks
        return blocks


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
                 columns: dict[str, np.ndarray] | None = None,
                 layout: ColumnLayout | None = None) -> None:
        self.meters: list[str] = list(meters or [])
        self.index: dict[str, int] = dict(zip(self.meters, range(len(self.meters)), strict=True))
        self.col: dict[str, np.ndarray] = columns or {
            name: np.full((0, *shape), fill, dtype=dtype)
            for name, (dtype, shape, fill) in METER_COLUMNS.items()
        }
        missing = METER_COLUMNS.keys() - self.col.keys()
        if missing:
            for name, (dtype, shape, fill) in METER_COLUMNS.items():
                if name in missing:
                    self.col[name] = np.full((len(self.meters), *shape), fill, dtype=dtype)
        self._layout = None if missing else layout
        self._ids_json: tuple[int, bytes] | None = None   # (meters, their JSON) as last stored

    def __len__(self) -> int:
        return len(self.meters)

    def index_of(self, meters: list[str]) -> np.ndarray:
        """Row numbers of `meters`, adding rows for meters not seen before."""
        index = self.index
        try:
            return np.array([index[m] for m in meters], dtype=np.intp)
        except KeyError:
            pass
        new = [m for m in dict.fromkeys(meters) if m not in index]
        start = len(self.meters)
        for offset, meter in enumerate(new):
            index[meter] = start + offset
        self.meters.extend(new)
        for name, (dtype, shape, fill) in METER_COLUMNS.items():
            extra = np.full((len(new), *shape), fill, dtype=dtype)
            self.col[name] = np.concatenate([self.col[name], extra])
        return np.array([index[m] for m in meters], dtype=np.intp)

    def ids_json(self) -> bytes:
        """The meter ids as JSON, encoded again only when meters were added."""
        cached = self._ids_json
        if cached is None or cached[0] != len(self.meters):
            cached = self._ids_json = (len(self.meters), _ENCODER.encode(self.meters).encode())
        return cached[1]

    def body_parts(self) -> tuple[ColumnLayout, list[np.ndarray]]:
        """The storage layout and the columns in its order, of its dtypes.

        The layout of the last load is reused while it still fits the columns
        (same names and dtypes); otherwise it is worked out afresh.
        """
        cols = self.col
        layout = self._layout
        if layout is not None and len(cols) == len(layout.names):
            try:
                arrays = [cols[name] for name in layout.names]
            except KeyError:
                arrays = []
            if [a.dtype for a in arrays] == layout.dtypes:
                return layout, arrays
        layout = self._layout = ColumnLayout.of(cols)
        for name, array in cols.items():
            if len(array) != len(self.meters):
                raise ValueError(f"state column {name!r} has {len(array)} rows for "
                                 f"{len(self.meters)} meters")
        return layout, [cols[name] for name in layout.names]


@functools.lru_cache(maxsize=64)
def _arrays_text(spec: tuple[tuple[str, np.dtype, tuple[int, ...]], ...]) -> bytes:
    """JSON of the area arrays' names, dtypes and shapes (cached: it rarely changes)."""
    return _ENCODER.encode([[name, dtype.str, list(shape)] for name, dtype, shape in spec]
                           ).encode()


@functools.lru_cache(maxsize=64)
def _arrays_plan(text: bytes) -> tuple[list[tuple[str, np.dtype, tuple[int, ...], int]], int]:
    """(name, dtype, shape, byte offset) of each stored area array, and their bytes in all
    (each array padded to `ALIGN`)."""
    try:
        spec = [(str(name), np.dtype(dtype), tuple(int(d) for d in shape))
                for name, dtype, shape in json.loads(text)]
    except (ValueError, TypeError) as exc:
        raise ValueError(f"detector state has an unreadable array list: {exc}") from exc
    plan, offset = [], 0
    for name, dtype, shape in spec:
        plan.append((name, dtype, shape, offset))
        size = math.prod(shape) * dtype.itemsize
        offset += size + -size % ALIGN
    return plan, offset


@dataclass
class AreaState:
    """Everything the detectors remember about one area between batches.

    `scalars` holds small JSON-able values; `arrays` holds area-level numeric
    series (an hourly load profile), stored raw like the meter columns
    because turning dozens of floats into JSON text and back every batch
    costs more than everything else in the state.
    """

    meters: MeterTable = field(default_factory=MeterTable)
    scalars: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def dumps(self) -> bytes:
        """Serialise to bytes for the worker's Faust table."""
        table = self.meters
        layout, columns = table.body_parts()
        ids = table.ids_json()
        scalars = _ENCODER.encode(self.scalars).encode()
        arrays_text, arrays, arrays_bytes = self._array_parts(len(table) * layout.row_bytes)
        head = [PREAMBLE.pack(MAGIC, len(table), len(layout.text), len(ids), len(scalars),
                              len(arrays_text)),
                layout.text, ids, scalars, arrays_text]
        size = sum(map(len, head))
        parts = [*head, b" " * (-size % ALIGN), *columns, *arrays]
        try:
            blob = b"".join(parts)
        except TypeError:          # an array that is a strided view: store a contiguous copy
            blob = b"".join([p if isinstance(p, bytes) else np.ascontiguousarray(p)
                             for p in parts])
        expected = size + -size % ALIGN + len(table) * layout.row_bytes + arrays_bytes
        if len(blob) != expected:  # a column was replaced by one of another length
            raise ValueError(f"detector state columns do not hold one row per meter "
                             f"({len(table)} meters): {len(blob)} bytes instead of {expected}")
        return blob

    def _array_parts(self, columns_bytes: int) -> tuple[bytes, list[Any], int]:
        """The JSON list of the area arrays, their bytes (after the columns, each starting
        aligned) and how many bytes those take."""
        if not self.arrays:
            return b"", [], 0
        text = _arrays_text(tuple((name, a.dtype, a.shape) for name, a in self.arrays.items()))
        parts: list[Any] = [bytes(-columns_bytes % ALIGN)]
        for array in self.arrays.values():
            parts += [array, bytes(-array.nbytes % ALIGN)]
        return text, parts, len(parts[0]) + _arrays_plan(text)[1]

    @classmethod
    def loads(cls, raw: bytes | None) -> AreaState:
        """Rebuild from `dumps` output (or a state of the previous format); empty or None
        gives a fresh state.

        >>> s = AreaState()
        >>> _ = s.meters.index_of(["m1"])
        >>> s.scalars["x"] = 1
        >>> t = AreaState.loads(s.dumps())
        >>> (t.meters.meters, t.scalars)
        (['m1'], {'x': 1})
        >>> AreaState.loads(b"junk")
        Traceback (most recent call last):
        ...
        ValueError: not a GridWatch detector state: starts with b'junk', not b'GWS2'/b'GWS1'
        """
        if not raw:
            return cls()
        magic = raw[:4]
        if magic == LEGACY_MAGIC:
            return cls._loads_v1(raw)
        if magic != MAGIC or len(raw) < PREAMBLE.size:
            raise ValueError(f"not a GridWatch detector state: starts with {raw[:4]!r}, "
                             f"not {MAGIC!r}/{LEGACY_MAGIC!r}")
        _, count, layout_len, ids_len, scalars_len, arrays_len = PREAMBLE.unpack_from(raw)
        at = PREAMBLE.size
        layout = ColumnLayout.parse(raw[at:at + layout_len])
        at += layout_len
        ids = raw[at:at + ids_len]
        meters = _DECODER.decode(ids.decode())
        at += ids_len
        scalars = _DECODER.decode(raw[at:at + scalars_len].decode())
        at += scalars_len
        plan, arrays_bytes = _arrays_plan(raw[at:at + arrays_len]) if arrays_len else ([], 0)
        at += arrays_len
        if len(meters) != count:
            raise ValueError(f"detector state lists {len(meters)} meters, its header {count}")
        body = bytearray(memoryview(raw)[at + (-at % ALIGN):])   # one writable copy
        columns_bytes = count * layout.row_bytes
        table = MeterTable(meters, layout.columns(memoryview(body)[:columns_bytes], count),
                           layout)
        table._ids_json = (count, ids)
        start = columns_bytes + -columns_bytes % ALIGN if plan else columns_bytes
        if len(body) != start + arrays_bytes:
            raise ValueError(f"detector state body is {len(body)} bytes, its header describes "
                             f"{start + arrays_bytes}")
        arrays = {name: np.ndarray(shape, dtype, body, start + offset)
                  for name, dtype, shape, offset in plan}
        return cls(table, scalars, arrays)

    @classmethod
    def _loads_v1(cls, raw: bytes) -> AreaState:
        """Read a ``GWS1`` state (one JSON header, one view per column), as written before
        the layout was cached, so a worker upgrade carries on from its changelog."""
        (head_len,) = struct.unpack("<I", raw[4:8])
        header = json.loads(raw[8:8 + head_len])
        body = bytearray(raw[8 + head_len:])
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
