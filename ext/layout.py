"""The per-meter array layout of a kernel bank: allocate, grow, size and round-trip bytes.

Why one module for both implementations: a bank's state is nothing but its
named per-meter arrays, so the compiled bank and its pure-Python twin share
one layout spec (`_ARRAYS` on the pure class, reused by the compiled one)
and these functions. Their states are then byte-identical, a Faust table
written by one is read by the other, and growing an area keeps new meters'
fill values in one place.

A spec entry is (attribute, dtype, trailing shape, fill for a new meter); a
string in the shape or as the fill names a constructor parameter (e.g. the
number of slots, or the default voltage limit). A bank supplies `_ARRAYS`,
`_PARAMS` (constructor parameters to save) and `_bind(*arrays)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import checks
from .state import pack, unpack

Spec = tuple[tuple[str, str, tuple[int | str, ...], float | str], ...]


def _trailing(bank: Any, shape: tuple[int | str, ...]) -> tuple[int, ...]:
    return tuple(getattr(bank, s) if isinstance(s, str) else s for s in shape)


def _new_rows(bank: Any, count: int) -> list[np.ndarray]:
    return [np.full((count, *_trailing(bank, shape)),
                    getattr(bank, fill) if isinstance(fill, str) else fill, dtype)
            for _, dtype, shape, fill in bank._ARRAYS]


def allocate(bank: Any, n_meters: int) -> None:
    """Give a freshly constructed bank `n_meters` empty meters."""
    bank._bind(*_new_rows(bank, checks.positive_int("n_meters", n_meters, minimum=0)))


def grow(bank: Any, n_meters: int) -> None:
    """Make room for more meters; existing meters keep their state."""
    extra = checks.positive_int("n_meters", n_meters, minimum=bank.n_meters) - bank.n_meters
    bank._bind(*(np.concatenate([getattr(bank, name), rows])
                 for (name, *_), rows in zip(bank._ARRAYS, _new_rows(bank, extra), strict=True)))


def state_bytes(bank: Any) -> int:
    """Bytes of state per meter."""
    return sum(int(np.prod(_trailing(bank, shape), dtype=np.int64)) * np.dtype(dtype).itemsize
               for _, dtype, shape, _ in bank._ARRAYS)


def to_bytes(bank: Any) -> bytes:
    return pack(type(bank).__name__, {p: getattr(bank, p) for p in bank._PARAMS},
                {name: getattr(bank, name) for name, *_ in bank._ARRAYS})


def from_bytes(cls: type, blob: bytes) -> Any:
    """A bank of class `cls` from `to_bytes` output (of either implementation)."""
    kernel, params, arrays = unpack(blob)
    if kernel != cls.__name__:
        raise ValueError(f"kernel state holds a {kernel}, not a {cls.__name__}")
    bank = cls(0, **params)
    bank._bind(*(arrays[name] for name, *_ in cls._ARRAYS))
    return bank
