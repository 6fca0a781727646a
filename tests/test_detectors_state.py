"""Area state wire format: round trips exactly, reads the previous format, rejects damage."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from gridwatch.detectors.state import MAGIC, PREAMBLE, AreaState, ColumnLayout, MeterTable


def filled_state(meters: int) -> AreaState:
    state = AreaState()
    state.meters.index_of([f"m{i}" for i in range(meters)])
    rng = np.random.default_rng(meters)
    for column in state.meters.col.values():
        column[...] = rng.integers(0, 100, column.shape).astype(column.dtype)
    state.scalars = {"episodes": {"theft_bypass|m1": {"started_at": 900.0}}, "v_base": 221.5,
                     "balance": {"acc": [0.1, 0.2], "bin": 7}}
    state.arrays = {"load_kva": rng.random(24), "flags": np.arange(3, dtype=np.int8)}
    return state


def columns_of(state: AreaState) -> dict[str, tuple[str, tuple[int, ...], bytes]]:
    return {name: (a.dtype.str, a.shape, a.tobytes()) for name, a in state.meters.col.items()}


def test_round_trip_keeps_every_column_and_scalar_and_stays_aligned():
    state = filled_state(5)
    blob = state.dumps()
    again = AreaState.loads(blob)
    assert blob[:4] == MAGIC
    assert again.meters.meters == state.meters.meters
    assert again.scalars == state.scalars
    assert columns_of(again) == columns_of(state)
    assert {k: (a.dtype, a.tolist()) for k, a in again.arrays.items()} == \
        {k: (a.dtype, a.tolist()) for k, a in state.arrays.items()}
    arrays = [*again.meters.col.values(), *again.arrays.values()]
    assert all(a.ctypes.data % a.dtype.itemsize == 0 and a.flags.writeable
               for a in arrays)
    assert again.dumps() == blob


def test_loaded_state_grows_and_its_new_meters_are_stored():
    again = AreaState.loads(filled_state(3).dumps())
    rows = again.meters.index_of(["m2", "new"])
    again.meters.col["energy"][rows[1]] = 42.0
    grown = AreaState.loads(again.dumps())
    assert grown.meters.meters == ["m0", "m1", "m2", "new"]
    assert grown.meters.col["energy"][3] == 42.0
    assert columns_of(grown) == columns_of(again)


def test_a_column_of_another_dtype_or_a_strided_view_is_stored_as_it_is():
    state = AreaState.loads(filled_state(3).dumps())
    state.meters.col["energy"] = state.meters.col["energy"].astype(np.float32)
    state.meters.col["power"] = np.arange(6, dtype=np.float32)[::2]
    again = AreaState.loads(state.dumps())
    assert again.meters.col["energy"].dtype == np.float32
    assert again.meters.col["power"].tolist() == [0.0, 2.0, 4.0]
    assert columns_of(again) == columns_of(state)


def test_a_column_of_the_wrong_length_is_refused_when_storing():
    state = AreaState.loads(filled_state(3).dumps())
    state.meters.col["energy"] = np.zeros(4)
    with pytest.raises(ValueError, match="one row per meter"):
        state.dumps()


def v1_blob(state: AreaState) -> bytes:
    """What the previous format (GWS1: one JSON header, columns widest first) wrote."""
    cols = sorted(state.meters.col.items(), key=lambda kv: -kv[1].dtype.itemsize)
    head = json.dumps({"meters": state.meters.meters, "scalars": state.scalars,
                       "columns": [[n, a.dtype.str, list(a.shape)] for n, a in cols]}).encode()
    head += b" " * (-(8 + len(head)) % 8)
    return b"GWS1" + struct.pack("<I", len(head)) + head + b"".join(a.tobytes() for _, a in cols)


def test_a_state_of_the_previous_format_is_read():
    state = filled_state(4)
    old = AreaState.loads(v1_blob(state))
    assert old.meters.meters == state.meters.meters and old.scalars == state.scalars
    assert columns_of(old) == columns_of(state)
    assert AreaState.loads(old.dumps()).scalars == state.scalars


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-8], "body is"),
    (lambda b: b[:PREAMBLE.size + 1] + b"x" + b[PREAMBLE.size + 2:], "unreadable column layout"),
    (lambda b: b"GWS9" + b[4:], "not a GridWatch detector state"),
])
def test_damaged_state_is_rejected_with_a_reason(damage, message):
    with pytest.raises(ValueError, match=message):
        AreaState.loads(damage(filled_state(2).dumps()))


def test_layout_groups_same_typed_columns_widest_first():
    table = MeterTable()
    table.index_of(["a"])
    layout = ColumnLayout.of(table.col)
    sizes = [dtype.itemsize for _, dtype, _ in layout.groups]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(len(names) for names, _, _ in layout.groups) == len(table.col)
    assert len(layout.groups) < len(table.col)
