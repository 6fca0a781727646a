"""Every docstring example in the package runs and holds.

pytest's ``--doctest-modules`` would import the top-level folders under
their folder names (the repository root *is* the `gridwatch` package), so
the examples are collected here by their installed module names instead.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import gridwatch

SKIP = ("gridwatch.tests", "gridwatch.bench", "gridwatch.__main__", "gridwatch.setup")


def modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(gridwatch.__path__, "gridwatch."):
        if info.name.startswith(SKIP):
            continue
        spec = importlib.util.find_spec(info.name)
        origin = spec.origin if spec else None
        if origin and origin.endswith(".py") and ">>>" in Path(origin).read_text():
            names.append(info.name)
    return names


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
