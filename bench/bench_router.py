"""Routing 10,000 requests as one batch versus one request at a time.

Two routers with the same slots and weights (70 % blue, 30 % green, sticky by key)
answer the same 10,000 requests: one with ``route_batch``, the other with ``route``
called per request (one ``predict`` per request). The script checks that both took
the same decisions and prints both times and the speed-up; the brief asks for 50x
or more. It is run twice: with pipelines fitted on a DataFrame (each single request
then needs a one-row frame with the feature names) and on plain arrays (cheaper
single requests, so a smaller speed-up).

Usage: python bench/bench_router.py [--requests 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlcicd.deploy import ModelVersion, Router


def build_router(blue: ModelVersion, green: ModelVersion) -> Router:
    router = Router({"blue": blue, "green": green})
    router.set_weights({"green": 0.3, "blue": 0.7})
    return router


def measure(blue: ModelVersion, green: ModelVersion, rows: np.ndarray, keys: list[str],
            repeat: int) -> tuple[float, float]:
    """Best batch time and per-request time (seconds); fails if decisions differ."""
    batch_times = []
    for _ in range(repeat):
        router = build_router(blue, green)
        start = time.perf_counter()
        batch = router.route_batch(rows, keys)
        batch_times.append(time.perf_counter() - start)
    router = build_router(blue, green)
    start = time.perf_counter()
    singles = [router.route(rows[i], key=keys[i]) for i in range(len(rows))]
    single_s = time.perf_counter() - start
    same = (batch.versions.tolist() == [r.version for r in singles]
            and batch.predictions.tolist() == [r.prediction for r in singles])
    if not same:
        raise SystemExit("batch and per-request routing disagree")
    return min(batch_times), single_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many batch runs")
    args = parser.parse_args()
    data = load_breast_cancer(as_frame=True)
    X, y = data.data, data.target
    rng = np.random.default_rng(0)
    rows = X.to_numpy()[rng.integers(0, len(X), size=args.requests)]
    keys = [f"user-{i}" for i in range(args.requests)]
    # Pipelines fitted on a DataFrame (as mlcicd.training does) need named columns, so
    # each single request builds a one-row frame; pipelines fitted on arrays do not.
    for label, features in (("fitted on DataFrame", X), ("fitted on arrays", X.to_numpy())):
        blue = ModelVersion(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
                            .fit(features, y), "v1")
        green = ModelVersion(make_pipeline(StandardScaler(),
                                           LogisticRegression(C=0.1, max_iter=1000))
                             .fit(features, y), "v2")
        batch_s, single_s = measure(blue, green, rows, keys, args.repeat)
        print(f"router ({label}): {args.requests} requests, batch {batch_s * 1000:.1f} ms, "
              f"one by one {single_s * 1000:.0f} ms -> {single_s / batch_s:.0f}x faster, "
              f"same decisions")


if __name__ == "__main__":
    main()
