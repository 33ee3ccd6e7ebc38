"""Execute the lab notebooks with papermill, in parallel, and summarise the runs.

Each run executes one (lab, parameter set) pair, in a worker process when ``jobs`` > 1,
and points :data:`~mlcicd.labs.recorder.METRICS_ENV` at the run's metrics file, so the
values the notebook passes to :func:`~mlcicd.labs.record` land next to the executed
notebook. A self-check that says ``NOT YET`` in the executed notebook fails the run (the
checks themselves never raise: they behave the same here, in Jupyter and in pytest). A
failing run is reported with its lab, parameters, cell and exception; the others still
run to the end.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlcicd.io import write_json
from mlcicd.labs.checking import failed_checks
from mlcicd.labs.params import RunSpec, check_parameters, notebook_parameters
from mlcicd.labs.recorder import METRICS_ENV
from mlcicd.lean_imports import skip_unused_optional_imports

KERNEL_NAME = "python3"
CELL_TIMEOUT = 600

__all__ = ["RunResult", "check_specs", "format_summary", "run_all", "run_one"]


@dataclass
class RunResult:
    """What one notebook execution gave: status, duration, recorded metrics, error."""

    lab: str
    params_name: str
    parameters: dict[str, Any]
    status: str
    seconds: float
    output: str
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def check_specs(specs: list[RunSpec]) -> None:
    """Check every run's parameters against its notebook, before executing anything."""
    cache: dict[Path, dict[str, Any]] = {}
    for spec in specs:
        if spec.notebook not in cache:
            cache[spec.notebook] = notebook_parameters(spec.notebook)
        check_parameters(spec, cache[spec.notebook])


def run_one(spec: RunSpec, out_dir: str | Path) -> RunResult:
    """Execute one notebook with papermill; never raises for a failure inside the notebook."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    folder = Path(out_dir) / spec.lab
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / f"{spec.params_name}.ipynb"
    metrics_path = folder / f"{spec.params_name}.metrics.json"
    metrics_path.unlink(missing_ok=True)
    previous = os.environ.get(METRICS_ENV)  # restored after: the run may be in our process
    os.environ[METRICS_ENV] = str(metrics_path.resolve())
    error = None
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(spec.notebook),
            str(output),
            parameters=spec.parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            execution_timeout=CELL_TIMEOUT,
            cwd=str(spec.notebook.parent),
        )
    except PapermillExecutionError as exc:
        error = (
            f"cell {exc.cell_index} (execution count {exc.exec_count}) raised "
            f"{exc.ename}: {_first_line(exc.evalue)}"
        )
    except Exception as exc:  # a dead kernel or a timeout must not stop the other runs
        error = f"{type(exc).__name__}: {_first_line(str(exc))}"
    finally:
        if previous is None:
            os.environ.pop(METRICS_ENV, None)
        else:
            os.environ[METRICS_ENV] = previous
    seconds = time.perf_counter() - start
    if error is None and output.is_file():
        not_yet = failed_checks(json.loads(output.read_text("utf-8")))
        if not_yet:
            error = f"{len(not_yet)} self-check(s) failed, first: {not_yet[0]}"
    metrics = json.loads(metrics_path.read_text("utf-8")) if metrics_path.is_file() else {}
    return RunResult(
        spec.lab,
        spec.params_name,
        dict(spec.parameters),
        "failed" if error else "ok",
        round(seconds, 2),
        str(output),
        metrics,
        error,
    )


def run_all(
    specs: list[RunSpec], out_dir: str | Path, *, jobs: int = 1, progress: bool = True
) -> list[RunResult]:
    """Run every spec in ``jobs`` worker processes; results come back in the specs' order.

    The parameters of every spec are checked first (:func:`check_specs`), so a typo in
    the matrix stops the command before any notebook runs. A summary is written to
    ``out_dir/summary.json``.
    """
    from tqdm import tqdm

    check_specs(specs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results: list[RunResult | None] = [None] * len(specs)
    bar = tqdm(total=len(specs), desc="labs", unit="run", file=sys.stderr, disable=not progress)

    def report(index: int, result: RunResult) -> None:
        results[index] = result
        bar.set_postfix_str(f"{result.lab}/{result.params_name} {result.status}")
        bar.update()

    if jobs <= 1 or len(specs) == 1:
        # One at a time: run here. A worker process would only add its own start-up (a
        # second Python importing papermill) to each run; the kernel is a process anyway.
        with bar:
            for index, spec in enumerate(specs):
                report(index, run_one(spec, out))
    else:
        # "spawn": forking a process that already runs threads (tqdm's monitor) is unsafe.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                 initializer=_start_worker) as pool, bar:
            futures = {pool.submit(run_one, spec, out): i for i, spec in enumerate(specs)}
            for future in as_completed(futures):
                report(futures[future], future.result())
    done = [r for r in results if r is not None]
    write_json(out / "summary.json", [asdict(r) for r in done])
    return done


def _start_worker() -> None:
    """Prepare a worker process of :func:`run_all`, which only ever runs papermill.

    papermill imports nbformat, which imports jsonschema: see
    :mod:`mlcicd.lean_imports` for the optional module this worker does without.
    """
    skip_unused_optional_imports()


def format_summary(results: list[RunResult], *, max_metrics: int = 4) -> str:
    """A plain-text table: lab, parameters, status, seconds and the first recorded metrics."""
    rows = [("lab", "parameters", "status", "seconds", "metrics")]
    for r in results:
        shown = list(r.metrics.items())[:max_metrics]
        metrics = " ".join(f"{k}={_short(v)}" for k, v in shown)
        rows.append((r.lab, r.params_name, r.status, f"{r.seconds:.1f}", metrics))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _first_line(text: str) -> str:
    text = str(text).strip()
    return text.splitlines()[0] if text else ""
