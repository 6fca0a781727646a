"""Hot reload of detector parameters: notice a changed file, validate, log the diff.

Why: an engineer tuning a threshold must not restart the worker (and replay
its state) to try a value. The worker polls the file's modification time
(and also reloads on SIGHUP); a file that fails validation is rejected and
the running parameters stay. Only ``detectors.*`` applies live; any other
changed key is logged as needing a restart.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gridwatch.config import Settings, load_settings, settings_as_dict

log = logging.getLogger(__name__)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``.

    >>> flatten({"detectors": {"low_voltage": {"dead_voltage_v": 50.0}}})
    {'detectors.low_voltage.dead_voltage_v': 50.0}
    """
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out |= flatten(value, path)
        else:
            out[path] = value
    return out


def settings_diff(old: Settings, new: Settings) -> dict[str, tuple[Any, Any]]:
    """Every key whose value differs, with (old, new)."""
    a, b = flatten(settings_as_dict(old)), flatten(settings_as_dict(new))
    return {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}


class ConfigWatcher:
    """Remembers the file's mtime and the settings in force."""

    def __init__(self, path: str | None, current: Settings) -> None:
        self.path = path
        self.current = current
        self._mtime = self._stat()

    def _stat(self) -> float | None:
        if not self.path:
            return None
        try:
            return os.stat(self.path).st_mtime
        except OSError:
            return None

    def changed(self) -> bool:
        mtime = self._stat()
        if mtime != self._mtime:
            self._mtime = mtime
            return True
        return False

    def reload(self) -> Settings | None:
        """Load and validate the file; return new settings if detector parameters changed.

        Raises ConfigError (naming key and file) when the new file is invalid.
        """
        if not self.path:
            return None
        fresh = load_settings(self.path)
        diff = settings_diff(self.current, fresh)
        live = {k: v for k, v in diff.items() if k.startswith("detectors.")}
        for key, (old, new) in diff.items():
            if key in live:
                log.warning("config reload: %s changed from %r to %r (applied)", key, old, new)
            elif not key.endswith(("token", "password")):
                log.warning("config reload: %s changed from %r to %r (takes effect after a "
                            "restart)", key, old, new)
        if not live:
            return None
        self.current = fresh
        return fresh
