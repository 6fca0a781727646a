"""The command line shared by the real-data benchmarks (`bench.real`, `bench.real_scorers`).

Why one: each takes the same three options (`--quick` for CI, `--data` for the
shared data folder, `--json`) and fails the same way on missing data; only
what it runs and how it prints a table differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def bench_main(name: str, description: str, default_data: Path,
               run: Callable[[bool, Path], dict[str, Any]],
               show: Callable[[dict[str, Any]], None], argv: list[str] | None = None) -> int:
    """Parse the options, run, print JSON or `show` the table; exit 2 naming a data problem."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small samples (CI)")
    parser.add_argument("--data", type=Path, default=default_data, help="the shared data folder")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        report = run(args.quick, args.data)
    except (OSError, ValueError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        show(report)
    return 0
