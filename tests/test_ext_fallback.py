"""`gridwatch.ext` uses the compiled kernels, else the fallback with one warning."""

from __future__ import annotations

import os
import subprocess
import sys

BLOCK_EXTENSION = """
import sys, warnings
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("gridwatch.ext._"):
            raise ImportError(f"blocked {name}")
sys.meta_path.insert(0, Block())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import gridwatch.ext as ext
    import gridwatch.ext as again
print(ext.IMPLEMENTATION, len(caught), caught[0].category.__name__, ext.EWStats.__module__)
"""


def run_python(code: str, **env: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, **env}, check=True, timeout=60)
    return result.stdout.strip()


def test_missing_extension_falls_back_with_one_warning():
    out = run_python(BLOCK_EXTENSION)
    assert out == "python 1 RuntimeWarning gridwatch.ext.pure_stats"


def test_environment_variable_forces_the_fallback():
    code = "import gridwatch.ext as e; print(e.IMPLEMENTATION, e.HalfSpaceTrees.__module__)"
    assert run_python(code, GRIDWATCH_PURE_PYTHON="1") == "python gridwatch.ext.fallback"
    assert run_python(code, GRIDWATCH_PURE_PYTHON="0") == "cython gridwatch.ext.compiled"
