# Included (textually) by every compiled bank module: the compiled twin of
# `pure_bank.PureBank`. Each module needs `checks` and `layout` imported.

cdef inline void _bad_index(Py_ssize_t i, Py_ssize_t n) except *:
    checks.meter_index(i, n)


cdef class _Bank:
    """Array bookkeeping shared by the compiled banks; the layout spec comes from the twin."""

    cdef readonly Py_ssize_t n_meters

    def grow(self, Py_ssize_t n_meters):
        """Make room for more meters; new meters start empty."""
        layout.grow(self, n_meters)

    @property
    def state_bytes(self):
        """Bytes of state per meter."""
        return layout.state_bytes(self)

    def to_bytes(self):
        return layout.to_bytes(self)

    def __reduce__(self):
        return type(self).from_bytes, (self.to_bytes(),)

    @classmethod
    def from_bytes(cls, blob):
        return layout.from_bytes(cls, blob)
