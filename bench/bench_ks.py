"""Benchmark: Kolmogorov-Smirnov over many features, against scipy and the sort floor.

Compares, on the same data and in one run:

* ``mlcicd.drift.ks_2samp_columns`` over all features at once;
* a loop of ``scipy.stats.ks_2samp`` per feature (what one would write by hand);
* ``np.sort`` of both samples, the floor: no KS test can skip sorting. It is timed
  two ways, the whole arrays at once (``axis=0``) and column by column as the library
  does (fewer fresh pages to allocate); the faster one is the floor.

and measures the peak memory each needs with :mod:`tracemalloc` (numpy reports its
allocations to it), relative to the size of the two input arrays.

Usage::

    python bench/bench_ks.py                       # 1,000,000 x 20 vs 1,000,000 x 20
    python bench/bench_ks.py --rows 100000 --features 5

The figures are printed, never asserted: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
from scipy import stats

from mlcicd.drift.ks import ks_2samp_columns


def make_data(
    rows: int, features: int, seed: int, max_shift: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current samples, column-contiguous like a DataFrame's float block.

    Half the features do not move; the other half drift by up to ``max_shift`` standard
    deviations (0.5 % to 5 % by default), so p-values range from "nothing" to "certain"
    as in real monitoring. ``max_shift=0``: nothing drifts.
    """
    rng = np.random.default_rng(seed)
    reference = np.asfortranarray(rng.normal(size=(rows, features)))
    drifting = np.arange(features) % 2 == 1
    shift = np.where(drifting, np.linspace(max_shift / 10, max_shift, features), 0.0)
    current = np.asfortranarray(rng.normal(loc=shift, size=(rows, features)))
    return reference, current


def scipy_loop(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    results = [stats.ks_2samp(reference[:, j], current[:, j]) for j in range(reference.shape[1])]
    return np.array([r.statistic for r in results]), np.array([r.pvalue for r in results])


def sort_whole(reference: np.ndarray, current: np.ndarray) -> None:
    np.sort(reference, axis=0)
    np.sort(current, axis=0)


def sort_by_column(reference: np.ndarray, current: np.ndarray) -> None:
    for j in range(reference.shape[1]):
        np.sort(reference[:, j])
        np.sort(current[:, j])


def best_times(runs: dict[str, tuple[Callable[[], object], int]], repeat: int) -> dict[str, float]:
    """Best wall time of each run; rounds are interleaved so that load from other
    processes hits every method alike rather than whichever ran during a busy spell."""
    best = dict.fromkeys(runs, float("inf"))
    for round_ in range(repeat):
        for name, (func, times) in runs.items():
            if round_ < times:
                start = time.perf_counter()
                func()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def peak_bytes(func: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in each sample")
    parser.add_argument("--features", type=int, default=20, help="numeric features")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (best is kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-shift", type=float, default=0.05, help="largest drift, in standard deviations"
    )
    args = parser.parse_args(argv)

    reference, current = make_data(args.rows, args.features, args.seed, args.max_shift)
    input_bytes = reference.nbytes + current.nbytes
    ours = ks_2samp_columns(reference, current)
    theirs = scipy_loop(reference, current)
    agree = max(
        float(np.max(np.abs(ours.statistic - theirs[0]))),
        float(np.max(np.abs(ours.pvalue - theirs[1]))),
    )

    runs = {
        "mlcicd ks_2samp_columns": (lambda: ks_2samp_columns(reference, current), args.repeat),
        "scipy ks_2samp loop": (lambda: scipy_loop(reference, current), 1),
        "np.sort both, axis=0": (lambda: sort_whole(reference, current), args.repeat),
        "np.sort both, by column": (lambda: sort_by_column(reference, current), args.repeat),
    }
    seconds = best_times(runs, args.repeat)
    peaks = {name: peak_bytes(func) for name, (func, _) in runs.items()}

    print(
        f"KS benchmark: {args.rows:,} vs {args.rows:,} rows x {args.features} float64 "
        f"features, half of them shifted by up to {args.max_shift} sd"
    )
    print(f"input arrays: {input_bytes / 2**20:,.0f} MiB; max |ours - scipy| = {agree:.1e}")
    print(f"{'method':<26}{'seconds':>9}{'vs ours':>9}{'peak MiB':>10}{'x input':>9}")
    ours_s = seconds["mlcicd ks_2samp_columns"]
    for name in runs:
        print(
            f"{name:<26}{seconds[name]:>9.3f}{seconds[name] / ours_s:>9.2f}"
            f"{peaks[name] / 2**20:>10.0f}{peaks[name] / input_bytes:>9.2f}"
        )
    speedup = seconds["scipy ks_2samp loop"] / ours_s
    floor = min(seconds["np.sort both, axis=0"], seconds["np.sort both, by column"])
    floor_ratio = ours_s / floor
    peak_ratio = peaks["mlcicd ks_2samp_columns"] / input_bytes
    print(
        f"speed-up over scipy loop: {speedup:.1f}x (goal >= 10x); "
        f"ours / sort floor: {floor_ratio:.2f} (goal <= 2); "
        f"extra peak memory: {peak_ratio:.2f} x input (goal <= 3)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
