"""Run test functions written in a notebook with real pytest, in a fresh process.

A lab asks the learner to write pytest tests as plain functions in notebook cells.
:func:`run_tests` writes them into a temporary test module, next to a ``conftest.py``
whose fixtures build the model and the data from a small JSON context, and runs
``python -m pytest`` on it: the tests run exactly as they would in CI.

The module holds everything the tests use from the notebook (:func:`module_source_for`):
an import line for each module or library object they name, the source of each helper
function or class written in the notebook (and of what those use in turn), and each plain
constant as a literal. A name that cannot be carried into a file (an open connection, a
fitted model held in a variable) is an :class:`~mlcicd.errors.InputError` that says so,
before pytest runs.

Fixtures the tests may ask for: ``model`` (a fitted pipeline), ``test_df`` and
``train_df`` (the breast-cancer split), ``train_with_gaps`` (the training rows with
missing values and outliers added) and ``make_pipeline`` (a function of a seed that
returns a fresh, unfitted pipeline).
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import types
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

__all__ = ["TestRun", "lab_fixtures", "module_source_for", "run_tests", "with_gaps_and_outliers"]

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
    timeout: float = 300,
) -> TestRun:
    """Write ``tests`` and what they use into a module and run it with ``python -m pytest``.

    Parameters
    ----------
    *tests
        Functions whose names start with ``test_``; their source is copied as written,
        with the helpers, imports and constants they use (:func:`module_source_for`).
    context
        Arguments of :func:`lab_fixtures` (``seed``, ``n_estimators``, ``model``).
    """
    module = module_source_for(*tests)
    with tempfile.TemporaryDirectory(prefix="mlcicd-lab-tests-") as tmp:
        folder = Path(tmp)
        (folder / "context.json").write_text(json.dumps(context or {}), encoding="utf-8")
        (folder / "conftest.py").write_text(_CONFTEST, encoding="utf-8")
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
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


_LITERALS = (bool, int, float, str, bytes, type(None))


def module_source_for(*tests: Callable[..., Any]) -> str:
    """The text of a test module holding ``tests`` and everything they use from the notebook.

    Examples
    --------
    >>> import math
    >>> LIMIT = 2.0
    >>> def helper(x):
    ...     return math.sqrt(x)
    >>> def test_root():
    ...     assert helper(4.0) == LIMIT
    >>> print(module_source_for(test_root))  # doctest: +NORMALIZE_WHITESPACE
    import math
    <BLANKLINE>
    LIMIT = 2.0
    <BLANKLINE>
    <BLANKLINE>
    def helper(x):
        return math.sqrt(x)
    <BLANKLINE>
    <BLANKLINE>
    def test_root():
        assert helper(4.0) == LIMIT
    <BLANKLINE>
    """
    if not tests:
        raise InputError("run_tests: give at least one test function")
    for test in tests:
        name = getattr(test, "__name__", "")
        if not callable(test) or not name.startswith("test_"):
            raise InputError(f"run_tests: {name or test!r} is not a function named test_*")
    imports: dict[str, str] = {}
    constants: dict[str, str] = {}
    definitions: dict[str, str] = {}
    pending = list(tests)
    while pending:
        obj = pending.pop(0)
        name = obj.__name__
        if name in definitions:
            continue
        definitions[name] = _source_of(obj)
        for used, value in _globals_used(obj).items():
            if used in definitions or used in imports or used in constants:
                continue
            if _defined_beside(value, obj):
                pending.append(value)
            elif (line := _import_line(used, value)) is not None:
                imports[used] = line
            elif _is_literal(value):
                constants[used] = f"{used} = {value!r}"
            else:
                raise InputError(
                    f"run_tests: `{name}` uses `{used}` ({type(value).__name__}), which cannot "
                    "be written into a test file; build it inside the test or a fixture"
                )
    test_names = [t.__name__ for t in tests]
    helpers = [source for name, source in definitions.items() if name not in test_names]
    helpers.reverse()  # what a helper uses comes before it
    ordered = helpers + [definitions[name] for name in dict.fromkeys(test_names)]
    parts = sorted(set(imports.values())) + [""] + list(constants.values())
    return "\n".join(parts).strip() + "\n\n\n" + "\n\n\n".join(
        source.rstrip() for source in _unique(ordered)
    ) + "\n"


def _unique(sources: list[str]) -> list[str]:
    seen: set[str] = set()
    return [s for s in sources if not (s in seen or seen.add(s))]


def _source_of(obj: Any) -> str:
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        raise InputError(
            f"run_tests: the source of `{obj.__name__}` cannot be read; define it in a "
            "notebook cell or a file"
        ) from None


def _globals_used(obj: Any) -> dict[str, Any]:
    """Global names the function (or the methods of the class) reads, with their values."""
    functions = [obj] if inspect.isfunction(obj) else [
        f for f in vars(obj).values() if inspect.isfunction(f)]
    used: dict[str, Any] = {}
    for function in functions:
        namespace = function.__globals__
        for name in _code_names(function.__code__):
            if name.startswith("@"):  # names pytest's assertion rewriting adds
                continue
            if name in namespace and not (hasattr(builtins, name)
                                          and namespace[name] is getattr(builtins, name)):
                used.setdefault(name, namespace[name])
    return used


def _code_names(code: types.CodeType) -> list[str]:
    names = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names += _code_names(const)
    return list(dict.fromkeys(names))


def _import_line(name: str, value: Any) -> str | None:
    """``import x as name`` or ``from m import obj as name`` when ``value`` is importable."""
    if isinstance(value, types.ModuleType):
        module = value.__name__
        if name == module:
            return f"import {module}"
        if "." in module and name == module.rsplit(".", 1)[1]:
            return f"from {module.rsplit('.', 1)[0]} import {name}"
        return f"import {module} as {name}"
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", getattr(value, "__name__", None))
    if not module or module == "__main__" or not qualname or "." in qualname:
        return None
    if module.startswith("builtins"):
        return None
    try:
        found = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError):
        return None
    if found is not value:
        return None
    return f"from {module} import {qualname}" + (f" as {name}" if name != qualname else "")


def _is_literal(value: Any) -> bool:
    if isinstance(value, _LITERALS):
        return not isinstance(value, float) or np.isfinite(value)
    if isinstance(value, list | tuple | set | frozenset):
        return all(_is_literal(v) for v in value)
    if isinstance(value, dict):
        return all(_is_literal(k) and _is_literal(v) for k, v in value.items())
    return False


def _defined_beside(value: Any, user: Any) -> bool:
    """A function or class written in the same notebook (or module) as ``user``."""
    if not (inspect.isfunction(value) or inspect.isclass(value)):
        return False
    return getattr(value, "__module__", None) == getattr(user, "__module__", None)


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
