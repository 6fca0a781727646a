"""Benchmarks printing JSON (`python -m bench.<name> --json`); targets are checked here."""
