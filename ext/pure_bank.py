"""What every pure-Python kernel bank shares: growing, byte round-trips, index checks.

Why: the fallback banks differ only in their update arithmetic; holding the
array bookkeeping here keeps each fallback module down to the maths that must
match its compiled twin line for line.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from gridwatch.ext import checks
from gridwatch.ext.state import pack, unpack


class PureBank:
    """Base of the fallback banks: state is the named per-meter arrays in `_ARRAYS`.

    Subclasses list their arrays as (attribute, dtype, trailing shape) and their
    constructor parameters in `_PARAMS`.
    """

    _ARRAYS: ClassVar[tuple[tuple[str, str, tuple[int, ...]], ...]] = ()
    _PARAMS: ClassVar[tuple[str, ...]] = ()

    n_meters: int

    def _trailing(self, shape: tuple[int | str, ...]) -> tuple[int, ...]:
        return tuple(getattr(self, s) if isinstance(s, str) else s for s in shape)

    def _allocate(self, n_meters: int) -> None:
        n = checks.positive_int("n_meters", n_meters, minimum=0)
        for name, dtype, shape in self._ARRAYS:
            setattr(self, name, np.zeros((n, *self._trailing(shape)), dtype))
        self._after_allocate(n, 0)
        self.n_meters = n

    def _after_allocate(self, n_meters: int, start: int) -> None:
        """Hook for banks whose new meters do not start at zero."""

    def _check(self, i: int) -> None:
        if not 0 <= i < self.n_meters:
            checks.meter_index(i, self.n_meters)

    def grow(self, n_meters: int) -> None:
        """Make room for more meters; new meters start empty."""
        n = checks.positive_int("n_meters", n_meters, minimum=self.n_meters)
        for name, dtype, shape in self._ARRAYS:
            old = getattr(self, name)
            extra = np.zeros((n - self.n_meters, *self._trailing(shape)), dtype)
            setattr(self, name, np.concatenate([old, extra]))
        start, self.n_meters = self.n_meters, n
        self._after_allocate(n, start)

    @property
    def state_bytes(self) -> int:
        """Bytes of state per meter."""
        return sum(int(np.prod(self._trailing(shape), dtype=np.int64)) * np.dtype(dtype).itemsize
                   for _, dtype, shape in self._ARRAYS)

    def to_bytes(self) -> bytes:
        params = {p: getattr(self, p) for p in self._PARAMS}
        return pack(type(self).__name__, params, {n: getattr(self, n) for n, _, _ in self._ARRAYS})

    def __reduce__(self) -> tuple:
        return type(self).from_bytes, (self.to_bytes(),)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Any:
        _, params, arrays = unpack(blob)
        bank = cls(0, **params)
        for name, _, _ in cls._ARRAYS:
            setattr(bank, name, arrays[name])
        bank.n_meters = arrays[cls._ARRAYS[0][0]].shape[0]
        return bank
