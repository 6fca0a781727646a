"""Hot reload of detector parameters: notice a changed file, validate, log the diff.

Why: an engineer tuning a threshold must not restart the worker (and replay
its state) to try a value. The worker polls the file's modification time
(and also reloads on SIGHUP); a file that fails validation is rejected and
the running parameters stay. Only ``detectors.*`` applies live (the
pipeline logs each of those with its old and new value); any other changed
key is logged as needing a restart.
"""

from __future__ import annotations

import logging
import os

from ..config import Settings, load_settings, settings_diff

log = logging.getLogger(__name__)


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
        for key, (old, new) in diff.items():  # detector keys are logged by the pipeline
            if key not in live:  # secrets come masked
                log.warning("config reload: %s changed from %r to %r (takes effect after a "
                            "restart)", key, old, new)
        if not live:
            return None
        self.current = fresh
        return fresh
