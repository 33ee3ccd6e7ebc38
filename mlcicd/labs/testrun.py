"""Run test functions written in a notebook with real pytest, in a fresh process.

A lab asks the learner to write pytest tests as plain functions in notebook cells.
:func:`run_tests` copies their source into a temporary test module, next to a
``conftest.py`` whose fixtures build the model and the data from a small JSON context,
and runs ``python -m pytest`` on it: the tests run exactly as they would in CI.

Fixtures the tests may ask for: ``model`` (a fitted pipeline), ``test_df`` and
``train_df`` (the breast-cancer split), ``train_with_gaps`` (the training rows with
missing values and outliers added) and ``make_pipeline`` (a function of a seed that
returns a fresh, unfitted pipeline).
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.datasets import TARGET, load_breast_cancer_frame, split_frame
from mlcicd.errors import InputError
from mlcicd.training import TrainConfig, build_pipeline, split_xy

__all__ = ["TestRun", "lab_fixtures", "run_tests", "with_gaps_and_outliers"]

_HEADER = """\
import numpy as np
import pandas as pd
import pytest

from mlcicd.datasets import TARGET
from mlcicd.metrics import classification_metrics, prediction_balance
from mlcicd.training import TrainConfig, build_pipeline, evaluate, split_xy
"""

_CONFTEST = """\
import json
from pathlib import Path

import pytest

from mlcicd.labs.testrun import lab_fixtures

_FIXTURES = lab_fixtures(**json.loads((Path(__file__).parent / "context.json").read_text()))


@pytest.fixture(scope="session")
def model():
    return _FIXTURES["model"]


@pytest.fixture(scope="session")
def train_df():
    return _FIXTURES["train_df"].copy()


@pytest.fixture(scope="session")
def test_df():
    return _FIXTURES["test_df"].copy()


@pytest.fixture(scope="session")
def train_with_gaps():
    return _FIXTURES["train_with_gaps"].copy()


@pytest.fixture(scope="session")
def make_pipeline():
    return _FIXTURES["make_pipeline"]
"""


def with_gaps_and_outliers(df: pd.DataFrame, *, seed: int = 0, rate: float = 0.05) -> pd.DataFrame:
    """A copy of ``df`` with ``rate`` of its feature cells missing and a few huge outliers.

    >>> frame = pd.DataFrame({"a": np.arange(100.0), "target": [0, 1] * 50})
    >>> gappy = with_gaps_and_outliers(frame, seed=0, rate=0.1)
    >>> int(gappy["a"].isna().sum()), int((gappy["a"] > 1000).sum()), gappy["target"].equals(
    ...     frame["target"])
    (10, 1, True)
    """
    rng = np.random.default_rng(seed)
    out = df.copy()
    features = [c for c in out.columns if c != TARGET]
    for column in features:
        values = out[column].astype(float).to_numpy(copy=True)
        rows = rng.permutation(len(values))
        n_missing = int(round(rate * len(values)))
        values[rows[:n_missing]] = np.nan
        values[rows[n_missing]] = np.nanmax(np.abs(values)) * 100
        out[column] = values
    return out


def lab_fixtures(
    seed: int = 0, n_estimators: int = 50, model: str = "random_forest"
) -> dict[str, Any]:
    """The fixture values of :func:`run_tests`, built from its context."""
    train_df, test_df = split_frame(load_breast_cancer_frame(), seed=seed)

    def make_pipeline(pipeline_seed: int = seed) -> Any:
        params = {"n_estimators": n_estimators} if model != "logistic_regression" else {}
        return build_pipeline(TrainConfig(model=model, params=params, seed=pipeline_seed))

    X, y = split_xy(train_df, TARGET)
    return {
        "model": make_pipeline().fit(X, y),
        "train_df": train_df,
        "test_df": test_df,
        "train_with_gaps": with_gaps_and_outliers(train_df, seed=seed),
        "make_pipeline": make_pipeline,
    }


@dataclass(frozen=True)
class TestRun:
    """Outcome of :func:`run_tests`: one (test, outcome, message) row per test."""

    __test__ = False  # not a pytest test class, whatever its name says

    outcomes: tuple[tuple[str, str, str], ...]
    returncode: int

    @property
    def n_passed(self) -> int:
        return sum(outcome == "passed" for _, outcome, _ in self.outcomes)

    @property
    def passed(self) -> bool:
        """True when every test passed (and at least one ran)."""
        return bool(self.outcomes) and self.n_passed == len(self.outcomes)

    def to_frame(self) -> pd.DataFrame:
        """One row per test: test, outcome, message (the first line of a failure)."""
        return pd.DataFrame(list(self.outcomes), columns=["test", "outcome", "message"])

    def __repr__(self) -> str:
        failed = len(self.outcomes) - self.n_passed
        return f"pytest: {self.n_passed} passed, {failed} failed"


def run_tests(
    *tests: Callable[..., Any],
    context: dict[str, Any] | None = None,
    constants: dict[str, Any] | None = None,
    timeout: float = 300,
) -> TestRun:
    """Write ``tests`` into a temporary module and run it with ``python -m pytest``.

    Parameters
    ----------
    *tests
        Functions whose names start with ``test_``; their source is copied as written.
    context
        Arguments of :func:`lab_fixtures` (``seed``, ``n_estimators``, ``model``).
    constants
        Module-level names the tests use (e.g. ``{"MIN_ACCURACY": 0.9}``), as literals.
    """
    if not tests:
        raise InputError("run_tests: give at least one test function")
    sources = []
    for test in tests:
        name = getattr(test, "__name__", "")
        if not callable(test) or not name.startswith("test_"):
            raise InputError(f"run_tests: {name or test!r} is not a function named test_*")
        sources.append(textwrap.dedent(inspect.getsource(test)))
    lines = [_HEADER]
    lines += [f"{key} = {value!r}" for key, value in (constants or {}).items()]
    with tempfile.TemporaryDirectory(prefix="mlcicd-lab-tests-") as tmp:
        folder = Path(tmp)
        (folder / "context.json").write_text(json.dumps(context or {}), encoding="utf-8")
        (folder / "conftest.py").write_text(_CONFTEST, encoding="utf-8")
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        module = "\n".join(lines) + "\n\n" + "\n\n".join(sources)
        (folder / "test_lab.py").write_text(module, encoding="utf-8")
        report = folder / "report.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += ["--junitxml", str(report), "test_lab.py"]
        # Third-party plugins are not needed here and take seconds to load.
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        completed = subprocess.run(  # noqa: S603 - our own interpreter on our own files
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )
        if not report.is_file():
            tail = (completed.stdout + completed.stderr).strip().splitlines()[-5:]
            raise InputError("run_tests: pytest did not run the tests:\n" + "\n".join(tail))
        return TestRun(_outcomes(report), completed.returncode)


def _outcomes(report: Path) -> tuple[tuple[str, str, str], ...]:
    rows = []
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 - pytest's own file
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            node = case.find(kind)
            if node is not None:
                outcome = {"failure": "failed"}.get(kind, kind)
                message = (node.get("message") or "").strip().splitlines()[0:1]
                message = message[0] if message else ""
                break
        rows.append((case.get("name", "?"), outcome, message))
    return tuple(rows)
