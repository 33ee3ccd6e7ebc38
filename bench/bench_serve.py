"""Throughput and latency of the HTTP server under a bounded concurrent load.

Saves a breast-cancer model as an artifact, starts ``mlcicd serve`` in a child
process on a free 127.0.0.1 port (loopback only), sends ``--requests`` POST /predict
calls with at most ``--concurrency`` in flight (httpx.AsyncClient), and prints
requests per second and the client-side p50/p99 latency. Client and server share
the machine's CPUs: the figures are a floor, not a capacity plan.

Usage: python bench/bench_serve.py [--requests 3000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlcicd.artifacts import save_model
from mlcicd.testing import ServerProcess


async def _load(url: str, rows: list[list[float]], n: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    failures = 0
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal failures
            async with sem:
                start = time.perf_counter()
                r = await client.post("/predict", json={"features": rows[i % len(rows)],
                                                        "key": f"user-{i}"})
                latencies.append(time.perf_counter() - start)
                failures += r.status_code != 200

        await asyncio.gather(*(one(i) for i in range(n)))
    if failures:
        raise SystemExit(f"{failures} requests failed")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    rows = X[:200].tolist()
    with tempfile.TemporaryDirectory() as tmp:
        save_model(model, Path(tmp) / "model")
        with ServerProcess(Path(tmp) / "model") as url:
            asyncio.run(_load(url, rows, 200, args.concurrency))  # warm-up
            start = time.perf_counter()
            latencies = asyncio.run(_load(url, rows, args.requests, args.concurrency))
            elapsed = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    print(f"serve: {args.requests} requests, {args.concurrency} concurrent, "
          f"{args.requests / elapsed:.0f} req/s, p50 {np.percentile(ms, 50):.1f} ms, "
          f"p99 {np.percentile(ms, 99):.1f} ms (server in its own process, same machine)")


if __name__ == "__main__":
    main()
