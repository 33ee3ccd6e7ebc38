"""The model server against a minimal FastAPI app serving the same model, in one run.

Saves a breast-cancer pipeline as an artifact and starts, each in its own child
process on a free 127.0.0.1 port (loopback only):

- ``minimal``: a bare FastAPI app whose ``/predict`` calls the model inline, with no
  routing, logging, input checks or thread pools: the floor of what serving costs;
- ``mlcicd``: ``mlcicd.deploy.serve`` with the same model live (blue) and a canary
  slot (green) holding a model that raises on every call.

Then ``--requests`` POST /predict calls, at most ``--concurrency`` (32) in flight
(httpx.AsyncClient), go to each server in ``--rounds`` alternating rounds, so both
see the same machine load. A third case sends the same load to ``mlcicd`` right after
``/admin/canary/start`` of the raising model: the server must abort that canary by
itself, and no user may see a failure (the stable model answers for the canary).

Prints requests/s, p50, p99 and failed requests per case, the ratios to the minimal
app, and the raising canary's errors and final status. Client and servers share the
machine's CPUs: the figures are a floor, not a capacity plan.

Usage: python bench/bench_serve.py [--requests 3000] [--concurrency 32] [--rounds 3]
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

TOKEN = "bench-token"  # noqa: S105 - a throwaway token for a loopback-only child


class RaisingModel:
    """A canary that fails on every call."""

    n_features_in_ = 30

    def predict(self, X: object) -> np.ndarray:
        raise RuntimeError("this canary raises on every call")


def run_minimal(model_dir: str, port: int) -> None:
    """The baseline: FastAPI + the model, nothing else."""
    import uvicorn
    from fastapi import FastAPI
    from pydantic import BaseModel

    from mlcicd.artifacts import load_model

    model = load_model(model_dir).model
    app = FastAPI()

    class Body(BaseModel):
        features: list[float]
        key: str | None = None

    @app.post("/predict")
    async def predict(body: Body) -> dict:
        return {"prediction": int(model.predict(np.array([body.features]))[0])}

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def run_mlcicd(model_dir: str, port: int) -> None:
    """The project's server: the artifact live in blue, a raising model idle in green."""
    from mlcicd.deploy import ModelVersion, Router
    from mlcicd.deploy.serve import serve

    router = Router({"blue": ModelVersion.from_artifact(model_dir),
                     "green": ModelVersion(RaisingModel(), "raising")}, max_events=100_000)
    serve(router, host="127.0.0.1", port=port, admin_token=TOKEN)


async def _load(url: str, rows: list[list[float]], n: int, concurrency: int,
                offset: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = 0
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal failures
            async with sem:
                start = time.perf_counter()
                try:
                    r = await client.post("/predict", json={"features": rows[i % len(rows)],
                                                            "key": f"user-{offset + i}"})
                    failures += r.status_code != 200
                except httpx.HTTPError:
                    failures += 1
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(one(i) for i in range(n)))
    return latencies, failures


class Case:
    """Latencies, failures and elapsed time of one case, pooled over rounds."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.failures = 0
        self.elapsed = 0.0

    def add(self, url: str, rows: list[list[float]], n: int, concurrency: int,
            offset: int) -> None:
        start = time.perf_counter()
        latencies, failures = asyncio.run(_load(url, rows, n, concurrency, offset))
        self.elapsed += time.perf_counter() - start
        self.latencies += latencies
        self.failures += failures

    def figures(self) -> dict[str, float]:
        ms = np.array(self.latencies) * 1000
        return {"requests": len(ms), "rps": len(ms) / self.elapsed,
                "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
                "failed": self.failures}


def _canary_round(url: str, case: Case, rows: list[list[float]], n: int, concurrency: int,
                  offset: int) -> dict:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = _errors_of(url, "raising")
    r = httpx.post(f"{url}/admin/canary/start", headers=auth, timeout=30,
                   json={"slot": "green", "steps": [0.1, 0.5, 1.0], "min_requests": 100})
    r.raise_for_status()
    case.add(url, rows, n, concurrency, offset)
    report = httpx.get(f"{url}/admin/canary", headers=auth, timeout=30).json()
    return {"status": report["status"], "canary_errors": _errors_of(url, "raising") - before}


def _errors_of(url: str, version: str) -> int:
    rows = httpx.get(f"{url}/metrics", timeout=30).json()["versions"]
    return sum(row["errors"] for row in rows if row["version"] == version)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=["minimal", "mlcicd"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:  # a child process started by the bench
        (run_minimal if args.serve == "minimal" else run_mlcicd)(args.model, args.port)
        return
    bench(args.requests, args.concurrency, args.rounds)


def bench(n_requests: int, concurrency: int, rounds: int) -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlcicd.artifacts import save_model
    from mlcicd.testing import ServerProcess

    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    rows = X[:200].tolist()
    per_round = max(n_requests // rounds, 1)
    cases = {name: Case(name) for name in ("minimal", "mlcicd", "mlcicd + raising canary")}
    canaries = []
    with tempfile.TemporaryDirectory() as tmp:
        save_model(model, Path(tmp) / "model")

        def child(kind: str) -> ServerProcess:
            return ServerProcess(command=[sys.executable, __file__, "--serve", kind, "--model",
                                          str(Path(tmp) / "model"), "--port", "{port}"],
                                 startup_timeout=300)

        with child("minimal") as minimal, child("mlcicd") as ours:
            for url in (minimal, ours):
                asyncio.run(_load(url, rows, 300, concurrency, 0))  # warm-up
            for r in range(rounds):
                offset = r * per_round
                cases["minimal"].add(minimal, rows, per_round, concurrency, offset)
                cases["mlcicd"].add(ours, rows, per_round, concurrency, offset)
                canaries.append(_canary_round(ours, cases["mlcicd + raising canary"], rows,
                                              per_round, concurrency, 10**6 + offset))
    _report(cases, canaries, concurrency)


def _report(cases: dict[str, Case], canaries: list[dict], concurrency: int) -> None:
    figures = {name: case.figures() for name, case in cases.items()}
    base = figures["minimal"]
    print(f"{concurrency} concurrent clients, servers in their own processes on 127.0.0.1")
    for name, f in figures.items():
        print(f"{name:>24}: {f['requests']} requests, {f['rps']:.0f} req/s, "
              f"p50 {f['p50']:.1f} ms, p99 {f['p99']:.1f} ms, failed {f['failed']}")
    for name in ("mlcicd", "mlcicd + raising canary"):
        f = figures[name]
        print(f"{name} / minimal: p50 {f['p50'] / base['p50']:.2f}x, "
              f"p99 {f['p99'] / base['p99']:.2f}x, req/s {f['rps'] / base['rps']:.2f}x "
              "(goal: p50 and p99 within 1.3x)")
    statuses = [c["status"] for c in canaries]
    errors = [c["canary_errors"] for c in canaries]
    print(f"raising canary: {statuses.count('aborted')}/{len(canaries)} rounds aborted by the "
          f"server, canary errors per round {errors}, failed user requests "
          f"{figures['mlcicd + raising canary']['failed']} (goal: 0)")


if __name__ == "__main__":
    main()
