"""Each long-running component publishes its counters to a small JSON file.

Why files: `gridwatch up` supervises its children as separate processes and
needs their counters for the live summary without another network hop; an
atomic rename means a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def write_stats(path: str | Path | None, counters: dict[str, Any]) -> None:
    """Atomically replace `path` with `counters` (plus the time written); no-op without a path."""
    if not path:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({**counters, "updated_at": time.time()}))
    tmp.replace(target)


def read_stats(path: str | Path) -> dict[str, Any]:
    """The last counters written to `path`, or an empty dict if none yet."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
