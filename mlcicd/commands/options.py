"""Option types shared by the subcommands: checked by argparse, before anything runs.

A value out of range is a usage error (one line, exit code 2) naming the option, so
that a run never starts with a seed numpy refuses or a resample count that would run
for hours. The limits are documented in each option's help and in :data:`LIMITS`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

#: Seeds are what numpy's generators accept from every entry point: [0, 2**32).
SEED_LIMIT = 2**32
#: Upper limits of the counting options (a test checks the library agrees).
LIMITS = {"n_resamples": 100_000, "repeat": 1_000}


def seed(text: str) -> int:
    """A random seed: a whole number in [0, 2**32)."""
    value = _whole(text)
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, 2**32), got {value}")
    return value


def count(low: int, high: int) -> Callable[[str], int]:
    """A whole number in [low, high], for ``--n-resamples``, ``--repeat`` and the like."""

    def parse(text: str) -> int:
        value = _whole(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number in [{low}, {high:,}], "
                                             f"got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def fraction(*, open_low: bool = False, open_high: bool = False) -> Callable[[str], float]:
    """A number in [0, 1] (ends excluded as asked), for shares, rates and levels."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
        low_ok = value > 0 if open_low else value >= 0
        high_ok = value < 1 if open_high else value <= 1
        if math.isnan(value) or not (low_ok and high_ok):
            interval = f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"
            raise argparse.ArgumentTypeError(f"expected a number in {interval}, got {text[:40]}")
        return value

    parse.__name__ = "number"
    return parse


def non_negative(text: str) -> float:
    """A finite number >= 0 (a margin, a latency)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text[:40]}")
    return value


def add_force(parser: argparse.ArgumentParser) -> None:
    """The ``--force`` flag: write over an input or inside an artifact, on purpose."""
    parser.add_argument("--force", action="store_true",
                        help="allow an output to replace existing data, one of the inputs "
                        "or a file inside a model artifact")


def _whole(text: str) -> int:
    if len(text.strip().lstrip("+-")) > 20:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {len(text)} digits")
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
