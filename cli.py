"""The `gridwatch` command: one entry point, one sub-command family per subpackage.

Each subpackage that offers commands has a ``cli`` module with a
``register(subparsers)`` function; this module only discovers them, so a
subpackage adds a command without touching the others.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .config import ConfigError

COMMAND_MODULES = ("devstack", "streams", "sensors", "evaluation", "detectors", "ext", "alerts",
                   "dashboards", "reporting")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridwatch",
        description="Streaming grid monitoring and anomaly detection for distribution utilities.",
    )
    parser.add_argument("--version", action="version", version=f"gridwatch {__version__}")
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="YAML configuration file (default: $GRIDWATCH_CONFIG, else defaults)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module_name = f"gridwatch.{name}.cli"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"gridwatch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
