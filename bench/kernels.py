"""`python -m bench.kernels [--json]`: River versus the Cython kernels, in one process.

Same document as `gridwatch bench kernels`; see `gridwatch.ext.benchmark`.
"""

from __future__ import annotations

import argparse

from gridwatch.ext.cli import add_arguments, bench_kernels


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kernels", description=__doc__)
    add_arguments(parser)
    return bench_kernels(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
