"""From simulated readings to the concentrator stream: rows in delivery order, then batches.

Why rows first: the offline file, the live publisher, replay and the
evaluator all need the *same* stream, including what data-quality problems do
to it (a dropped upload, a batch sent twice or late, a meter whose clock is
off). One columnar table per chunk, ordered by the time each concentrator
sends, is that stream; `iter_batches` turns consecutive rows of one upload
back into `gridwatch.vocabulary.schema.Batch` objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..vocabulary.schema import Batch, Reading
from .effects import EVENT_CODES, event_names
from .physics import ChunkReadings
from .topology import Grid

DUPLICATE_RESEND_S = 5.0
ALL_EVENT_STRINGS = [",".join(event_names(mask)) for mask in range(1 << len(EVENT_CODES))]

COLUMNS = ("sent_at", "concentrator", "area", "feeder", "meter", "role", "ts", "phases",
           "energy_kwh", "reverse_kwh", "power_kw", "pf", "voltage_a", "voltage_b",
           "voltage_c", "current_a", "current_b", "current_c", "events", "rated_kva")


@dataclass
class Delivery:
    """How each (area, interval) upload reaches the broker; neutral unless a scenario says so."""

    copies: np.ndarray          # (A, T) int8: 0 lost, 1 normal, 2 sent twice
    delay_s: np.ndarray         # (A, T) extra delay before the upload is sent
    ts_offset_s: np.ndarray | None = None   # (A, T, K+1) meter clock error added to ``ts``
    unread: np.ndarray | None = None        # (A, T, K) customer meter not read: no row

    @classmethod
    def normal(cls, areas: int, times: int) -> Delivery:
        return cls(np.ones((areas, times), np.int8), np.zeros((areas, times)))

    def clock_offsets(self, slots: int) -> np.ndarray:
        """The per-reading clock error array, created (all zero) on first use."""
        if self.ts_offset_s is None:
            areas, times = self.copies.shape
            self.ts_offset_s = np.zeros((areas, times, slots + 1))
        return self.ts_offset_s

    def unread_meters(self, slots: int) -> np.ndarray:
        """The per-reading 'meter not read' array, created (all False) on first use."""
        if self.unread is None:
            areas, times = self.copies.shape
            self.unread = np.zeros((areas, times, slots), bool)
        return self.unread


def upload_delay_s(grid: Grid, interval_s: int) -> np.ndarray:
    """Each concentrator uploads a fixed while after the interval ends (staggered by area)."""
    spread = max(interval_s // 3, 1)
    return 20.0 + (np.arange(grid.n_areas) * 37 % spread)


class StreamLayout:
    """Dictionaries and per-slot constants shared by every chunk of one grid."""

    def __init__(self, grid: Grid, interval_s: int) -> None:
        self.grid = grid
        slots = grid.slots + 1
        self.slots = slots
        slot_ids = [grid.meter_ids[a] + [grid.area_meter_ids[a]] for a in range(grid.n_areas)]
        flat_ids = [meter for ids in slot_ids for meter in ids]
        # only real meters in the dictionary (no padding slots): its code for each slot
        self.meter_dict = pa.array([m for m in flat_ids if m])
        self.meter_code = np.cumsum([bool(m) for m in flat_ids]) - 1
        self.area_dict = pa.array(grid.area_ids)
        self.concentrator_dict = pa.array(grid.concentrator_ids)
        self.feeder_dict = pa.array(grid.feeder_ids)
        self.role_dict = pa.array(["customer", "area"])
        self.event_dict = pa.array(ALL_EVENT_STRINGS)
        valid = np.concatenate([grid.mask, np.ones((grid.n_areas, 1), bool)], axis=1)
        self.valid = valid                                      # (A, K+1)
        phases = np.concatenate([grid.phases, np.full((grid.n_areas, 1), 3, np.int8)], axis=1)
        self.phases = phases
        self.upload_delay = upload_delay_s(grid, interval_s)
        self.rated_kva = np.concatenate([np.zeros((grid.n_areas, grid.slots)),
                                         grid.rated_kva[:, None]], axis=1).reshape(-1)

    def rows(self, chunk: ChunkReadings, delivery: Delivery) -> pa.Table:
        """All readings of a chunk as one table, in the order the broker receives them."""
        grid = self.grid
        n_a, n_t, slots = grid.n_areas, chunk.ts.size, self.slots
        copies = delivery.copies
        sent = chunk.ts[None, :] + self.upload_delay[:, None] + delivery.delay_s   # (A, T)
        upload_a, upload_t, upload_copy = [], [], []
        for copy in (1, 2):
            a_idx, t_idx = np.nonzero(copies >= copy)
            upload_a.append(a_idx)
            upload_t.append(t_idx)
            upload_copy.append(np.full(a_idx.size, copy - 1))
        up_a = np.concatenate(upload_a)
        up_t = np.concatenate(upload_t)
        up_copy = np.concatenate(upload_copy)
        up_sent = sent[up_a, up_t] + up_copy * DUPLICATE_RESEND_S
        order = np.lexsort((up_a, up_sent))
        up_a, up_t, up_sent = up_a[order], up_t[order], up_sent[order]

        counts = self.valid.sum(axis=1)[up_a]
        slot_lists = [np.nonzero(self.valid[a])[0] for a in range(n_a)]
        row_a = np.repeat(up_a, counts)
        row_t = np.repeat(up_t, counts)
        row_sent = np.repeat(up_sent, counts)
        row_k = np.concatenate([slot_lists[a] for a in up_a]) if up_a.size else np.zeros(0, int)
        if delivery.unread is not None:
            read = np.concatenate([~delivery.unread, np.ones((n_a, n_t, 1), bool)], axis=2)
            kept = read[row_a, row_t, row_k]
            row_a, row_t, row_sent, row_k = (row_a[kept], row_t[kept], row_sent[kept],
                                             row_k[kept])
        flat_atk = (row_a * n_t + row_t) * slots + row_k
        flat_ak = row_a * slots + row_k
        phases = self.phases.reshape(-1)[flat_ak]
        single = phases == 1

        def phase_columns(values: np.ndarray) -> list[np.ndarray]:
            per_phase = values.reshape(-1, 3)[flat_atk]
            first = np.where(single, per_phase.sum(axis=1), per_phase[:, 0])
            rest = [np.where(single, np.nan, per_phase[:, p]) for p in (1, 2)]
            return [first] + rest

        def dictionary(indices: np.ndarray, values: pa.Array) -> pa.DictionaryArray:
            return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), values)

        volts = [np.round(c, 1) for c in phase_columns(chunk.voltage)]
        amps = [np.round(c, 2) for c in phase_columns(chunk.current)]
        ts = chunk.ts[row_t]
        if delivery.ts_offset_s is not None:
            ts = ts + delivery.ts_offset_s.reshape(-1)[flat_atk]
        role = (row_k == slots - 1).astype(np.int32)
        columns = [
            row_sent, dictionary(row_a, self.concentrator_dict), dictionary(row_a, self.area_dict),
            dictionary(grid.area_feeder[row_a], self.feeder_dict),
            dictionary(self.meter_code[flat_ak], self.meter_dict),
            dictionary(role, self.role_dict), ts, phases,
            np.round(chunk.energy_kwh.reshape(-1)[flat_atk], 2),
            np.round(chunk.reverse_kwh.reshape(-1)[flat_atk], 2),
            np.round(chunk.power_kw.reshape(-1)[flat_atk], 3),
            np.round(chunk.pf.reshape(-1)[flat_atk], 3),
            *volts, *amps,
            dictionary(chunk.events.reshape(-1)[flat_atk], self.event_dict),
            self.rated_kva[flat_ak],
        ]
        return pa.table(columns, names=list(COLUMNS))


def iter_batches(table: pa.Table | pa.RecordBatch) -> Iterator[Batch]:
    """Group consecutive rows of one upload (same send time and concentrator) into Batches."""
    if table.num_rows == 0:
        return
    cols = {name: table.column(name) for name in COLUMNS}
    sent = cols["sent_at"].to_numpy()
    conc_codes = _codes(cols["concentrator"])
    boundaries = np.nonzero((np.diff(sent) != 0) | (np.diff(conc_codes) != 0))[0] + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(sent)]])
    text = {name: _strings(cols[name]) for name in
            ("concentrator", "area", "feeder", "meter", "role", "events")}
    num = {name: cols[name].to_numpy(zero_copy_only=False).tolist() for name in
           ("ts", "phases", "energy_kwh", "reverse_kwh", "power_kw", "pf", "voltage_a",
            "voltage_b", "voltage_c", "current_a", "current_b", "current_c", "rated_kva")}
    for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
        readings = []
        for i in range(first, last):
            three = num["phases"][i] == 3
            volts = [num["voltage_a"][i], num["voltage_b"][i], num["voltage_c"][i]]
            amps = [num["current_a"][i], num["current_b"][i], num["current_c"][i]]
            events = text["events"][i]
            readings.append(Reading(
                meter=text["meter"][i], ts=num["ts"][i], role=text["role"][i],
                phases=num["phases"][i], energy_kwh=num["energy_kwh"][i],
                voltage=volts if three else volts[:1], current=amps if three else amps[:1],
                power_kw=num["power_kw"][i], pf=num["pf"][i],
                reverse_kwh=num["reverse_kwh"][i], events=events.split(",") if events else [],
                rated_kva=num["rated_kva"][i],
            ))
        yield Batch(concentrator=text["concentrator"][first], area=text["area"][first],
                    feeder=text["feeder"][first], sent_at=float(sent[first]), readings=readings)


def _codes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Integer codes of a dictionary column (used to spot where an upload ends)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        return column.indices.to_numpy(zero_copy_only=False)
    return np.unique(column.to_numpy(zero_copy_only=False), return_inverse=True)[1]


def _strings(column: pa.ChunkedArray | pa.Array) -> list[str]:
    """A string column as a list, decoding dictionary columns through their codes (fast)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        values = np.array(column.dictionary.to_pylist(), dtype=object)
        return values[column.indices.to_numpy(zero_copy_only=False)].tolist()
    return column.to_pylist()
