"""The examples in the alerts modules' docstrings run (pytest's testpaths hold only tests/)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ("model", "matchers", "grouping", "flapping", "cli", "notifiers.webhook")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"gridwatch.alerts.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
