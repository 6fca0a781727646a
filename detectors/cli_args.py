"""Command-line arguments shared by `gridwatch score` and `gridwatch forecast`."""

from __future__ import annotations


def key_value_params(pairs: list[str]) -> dict[str, str]:
    """``--param KEY=VALUE`` pairs as a dict; a malformed pair is an error that quotes it.

    >>> key_value_params(["period=24", " alpha = 0.1"])
    {'period': '24', 'alpha': '0.1'}
    >>> key_value_params(["period"])
    Traceback (most recent call last):
    ...
    ValueError: --param 'period' must look like KEY=VALUE
    """
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {pair!r} must look like KEY=VALUE")
        out[key.strip()] = value.strip()
    return out
