"""`gridwatch bench kernels`: River versus our kernels, readable or as JSON.

The same entry point backs `python -m bench.kernels`, so both print the
same document.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

DEFAULT_BUDGET_S = 1.0
KERNELS = ("half_space_trees", "ew_mean_var", "mean_var", "rolling_mean_var", "page_hinkley",
           "seasonal_baseline", "cusum", "voltage_qualification", "loss_attribution")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S, metavar="SECONDS",
                        help="time per measurement (3 per kernel; default %(default)s s, "
                             "about 30 s of CPU in all)")
    parser.add_argument("--plot", type=Path, metavar="PNG",
                        help="also write a bar chart of the speed-ups to this PNG file")
    parser.add_argument("--only", nargs="+", choices=KERNELS, metavar="KERNEL",
                        help=f"benchmark only these kernels ({', '.join(KERNELS)})")


def register(subparsers: Any) -> None:
    bench = subparsers.add_parser("bench", help="benchmarks").add_subparsers(
        dest="bench_command", metavar="BENCHMARK", required=True)
    kernels = bench.add_parser("kernels", help="River vs the Cython kernels (speed, parity, "
                                               "state bytes)")
    add_arguments(kernels)
    kernels.set_defaults(func=bench_kernels)


def bench_kernels(args: argparse.Namespace) -> int:
    """Run the kernel benchmark (targets met or missed are reported in the output)."""
    if args.budget <= 0:
        print("gridwatch: --budget must be > 0 seconds", file=sys.stderr)
        return 2
    try:
        from .benchmark import run
    except ImportError as exc:
        print(f"gridwatch: the Cython kernels are not compiled ({exc}); build them with "
              "`pip install -e .`", file=sys.stderr)
        return 2
    names = args.only or list(KERNELS)
    with tqdm(names, desc="kernels", unit="kernel", file=sys.stderr) as bar:
        def progress(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update()

        result = run(names, args.budget, progress)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    if args.plot:
        from .benchmark_plot import save_plot
        print(f"plot written to {save_plot(result, args.plot)}", file=sys.stderr)
    return 0


def format_table(result: dict[str, Any]) -> str:
    """The benchmark document as an aligned table plus the target checks."""
    header = (f"{'kernel':<22}{'river/s':>12}{'ours/s':>12}{'batch/s':>13}{'ratio':>8}"
              f"{'batch x':>9}{'parity':>10}{'bytes':>8}")
    lines = [header, "-" * len(header)]
    for name, k in result["kernels"].items():
        ours = f"{k['ours_ops']:>12,}" if k["ours_ops"] else f"{'-':>12}"
        ratio = f"{k['ratio']:>8.1f}" if k["ratio"] else f"{'-':>8}"
        lines.append(f"{name:<22}{k['river_ops']:>12,}{ours}{k['ours_batch_ops']:>13,}{ratio}"
                     f"{k['batch_ratio']:>9.1f}{k['max_parity_error']:>10.1e}"
                     f"{k['state_bytes']:>8}")
    lines.append(f"\nper-meter state, all per-meter kernels: "
                 f"{result['per_meter_state_bytes_total']} bytes "
                 f"({result['implementation']}, {result['seconds']} s)")
    lines += [f"  {'ok  ' if ok else 'MISS'} {target}" for target, ok in result["targets"].items()]
    return "\n".join(lines)
