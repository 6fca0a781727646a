"""The floors of ARCHITECTURE.md hold: imports point one way, the registries are the one home.

`lint-imports` checks the layered contract of `.importlinter`; ruff's TID251
rule (pyproject.toml) rejects an absolute ``gridwatch`` import inside the
package; the rest is checked here by reading the source and by running the
pipeline once.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

from gridwatch.config import DetectorSettings
from gridwatch.detectors.contract import state_keys
from gridwatch.detectors.pipeline import AreaPipeline
from gridwatch.detectors.registry import AREA_DETECTORS
from gridwatch.detectors.state import AreaState
from gridwatch.vocabulary.kinds import KINDS
from gridwatch.vocabulary.measurements import undeclared
from tests.detector_streams import area_batches

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUTSIDE_PACKAGE = {"tests", "bench", ".venv", "build", ".gridwatch", "scenarios"}
# Where a kind's name may be spelt out: the registry; the scenario format itself (what a
# scenario file may name), kept as it is while other branches change it; a metric field
# and a configuration section that share a kind's name.
KIND_LITERALS_ALLOWED = {"vocabulary/kinds.py", "sensors/scenarios.py"}
SAME_NAME_ALLOWED = {("vocabulary/measurements.py", '"low_voltage_zone"'),
                     ("detectors/balance.py", '"leakage"')}


def package_sources() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py")
                  if p.relative_to(ROOT).parts[0] not in OUTSIDE_PACKAGE and p.name != "setup.py")


def test_floors_import_only_downwards() -> None:
    run = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_package_imports_itself_relatively() -> None:
    run = subprocess.run([str(BIN / "ruff"), "check", "--select", "TID251", "--no-cache", "."],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_benchmarks_do_not_import_the_tests() -> None:
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.split(".")[0] == "tests"
                        or n.startswith("gridwatch.tests")], path


def test_the_tests_are_not_installed() -> None:
    tree = ast.parse((ROOT / "setup.py").read_text())
    listed = next(ast.literal_eval(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Assign)
                  and getattr(node.targets[0], "id", "") == "SUBPACKAGES")
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert set(listed) == on_disk - {"tests", "bench"}


def test_kinds_are_named_only_through_the_registry() -> None:
    literals = []
    for path in package_sources():
        if str(path.relative_to(ROOT)) in KIND_LITERALS_ALLOWED:
            continue
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if token.type == tokenize.STRING and token.string.strip("'\"") in KINDS \
                    and token.string[0] == token.string[-1] \
                    and (str(path.relative_to(ROOT)), token.string) not in SAME_NAME_ALLOWED:
                literals.append(f"{path.relative_to(ROOT)}:{token.start[0]} {token.string}")
    assert literals == []


def test_detectors_own_disjoint_declared_state_slices() -> None:
    owners = [state_keys(AreaPipeline), *(state_keys(d) for d in AREA_DETECTORS)]
    declared = set().union(*owners)
    assert sum(len(keys) for keys in owners) == len(declared)
    pipeline, state = AreaPipeline(DetectorSettings()), AreaState()
    points = []
    for batch in area_batches(3):
        points += pipeline.process(batch, state).points
    assert set(state.scalars) <= declared
    assert points and [u for p in points for u in undeclared(p)] == []
