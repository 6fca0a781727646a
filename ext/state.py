"""Serialise a kernel bank's typed arrays to bytes and back.

Why: detector state is written to a Faust table once per area batch, so a
bank must round-trip through bytes quickly and compactly. The format is a
small JSON header (kernel name, parameters, array dtypes and shapes) followed
by the raw array buffers; no pickle, so a table value can never run code.

>>> import numpy as np
>>> blob = pack("Demo", {"alpha": 0.5}, {"mean": np.arange(3.0)})
>>> name, params, arrays = unpack(blob)
>>> name, params, arrays["mean"].tolist()
('Demo', {'alpha': 0.5}, [0.0, 1.0, 2.0])
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

_MAGIC = b"GWK1"
_HEADER_LEN = struct.Struct("<I")


def pack(kernel: str, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """Kernel name, JSON-able parameters and named arrays as one byte string."""
    layout = [[name, arr.dtype.str, list(arr.shape)] for name, arr in arrays.items()]
    header = json.dumps({"kernel": kernel, "params": params, "arrays": layout},
                        separators=(",", ":")).encode()
    body = b"".join(np.ascontiguousarray(arr).tobytes() for arr in arrays.values())
    return _MAGIC + _HEADER_LEN.pack(len(header)) + header + body


def unpack(blob: bytes) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of `pack`; raises ValueError on anything that is not a packed kernel."""
    if not isinstance(blob, bytes | bytearray | memoryview) or bytes(blob[:4]) != _MAGIC:
        raise ValueError("not a gridwatch kernel state (bad magic bytes)")
    (size,) = _HEADER_LEN.unpack_from(blob, 4)
    start = 4 + _HEADER_LEN.size
    try:
        header = json.loads(bytes(blob[start:start + size]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"corrupt kernel state header: {exc}") from exc
    offset = start + size
    arrays: dict[str, np.ndarray] = {}
    for name, dtype, shape in header["arrays"]:
        arr_dtype = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        end = offset + count * arr_dtype.itemsize
        if end > len(blob):
            raise ValueError(f"kernel state truncated inside array {name!r}")
        arrays[name] = np.frombuffer(blob, arr_dtype, count, offset).reshape(shape).copy()
        offset = end
    if offset != len(blob):
        raise ValueError(f"kernel state has {len(blob) - offset} trailing bytes")
    return header["kernel"], header["params"], arrays
