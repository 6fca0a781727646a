"""What every pure-Python kernel bank shares: growing, byte round-trips, index checks.

Why: the fallback banks differ only in their update arithmetic; the array
bookkeeping lives in `layout` (shared with the compiled banks, whose
`_bank.pxi` is this class's twin), so each fallback module is down to the
maths that must match its compiled twin line for line.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from . import checks, layout


class PureBank:
    """Base of the fallback banks: state is the named per-meter arrays in `_ARRAYS`."""

    _ARRAYS: ClassVar[layout.Spec] = ()
    _PARAMS: ClassVar[tuple[str, ...]] = ()

    n_meters: int

    def _bind(self, *arrays: np.ndarray) -> None:
        for (name, *_), array in zip(self._ARRAYS, arrays, strict=True):
            setattr(self, name, array)
        self.n_meters = arrays[0].shape[0]

    def _check(self, i: int) -> None:
        if not 0 <= i < self.n_meters:
            checks.meter_index(i, self.n_meters)

    def grow(self, n_meters: int) -> None:
        """Make room for more meters; new meters start empty."""
        layout.grow(self, n_meters)

    @property
    def state_bytes(self) -> int:
        """Bytes of state per meter."""
        return layout.state_bytes(self)

    def to_bytes(self) -> bytes:
        return layout.to_bytes(self)

    def __reduce__(self) -> tuple:
        return type(self).from_bytes, (self.to_bytes(),)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Any:
        return layout.from_bytes(cls, blob)
