"""Self-checks of lab 2's test-writing exercises: performance and integration tests.

A learner's test is only useful if it fails on a broken model. Each check runs every test
the exercise names on the good model or pipeline (it must pass) and on broken ones built
to miss exactly one property (it must fail), so a test without assertions, a test that
ignores its fixture or a test with a hard-coded threshold is caught.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlcicd.datasets import TARGET
from mlcicd.labs.checking import CheckResult, NotAnswered, checker, fail, ok
from mlcicd.training import split_xy

__all__ = ["check_integration_tests", "check_performance_tests"]


def _call_test(test: Callable[..., Any], fixtures: dict[str, Any]) -> BaseException | None:
    """Run one test function with the fixtures it asks for; return what it raised."""
    name = getattr(test, "__name__", "your test")
    wanted = list(inspect.signature(test).parameters)
    unknown = [p for p in wanted if p not in fixtures]
    if unknown:
        raise NotAnswered(fail(
            f"`{name}` asks for {', '.join(unknown)}; the fixtures here are "
            f"{', '.join(fixtures)}"
        ))
    try:
        test(**{p: fixtures[p] for p in wanted})
    except NotImplementedError:
        raise NotAnswered(fail(f"`{name}` is still a stub: write its body.")) from None
    except Exception as exc:  # a failing test is what we are looking for
        return exc
    return None


@dataclass(frozen=True)
class _Scenario:
    """One run of a learner's test: the fixtures, the constants, and whether it must pass."""

    fixtures: dict[str, Any]
    must_pass: bool
    story: str
    constants: dict[str, Any] = field(default_factory=dict)


@contextmanager
def _constants(test: Callable[..., Any], values: dict[str, Any]) -> Iterator[None]:
    """Set module-level names the test reads (``MIN_ACCURACY``) for the length of a run."""
    namespace = getattr(test, "__globals__", {})
    missing = object()
    saved = {key: namespace.get(key, missing) for key in values}
    namespace.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is missing:
                namespace.pop(key, None)
            else:
                namespace[key] = value


def _tests_by_name(tests: Any, wanted: Sequence[str]) -> dict[str, Callable[..., Any]]:
    if callable(tests):
        tests = [tests]
    named = {getattr(t, "__name__", ""): t for t in tests or []}
    missing = [name for name in wanted if name not in named]
    if missing:
        given = ", ".join(f"`{n}`" for n in named) or "nothing"
        raise NotAnswered(fail(
            f"give the tests the exercise names ({', '.join(wanted)}); got {given}"
        ))
    return {name: named[name] for name in wanted}


def _run_scenarios(tests: dict[str, Callable[..., Any]],
                   scenarios: dict[str, list[_Scenario]]) -> CheckResult:
    for name, test in tests.items():
        for scenario in scenarios[name]:
            with _constants(test, scenario.constants):
                error = _call_test(test, scenario.fixtures)
            if scenario.must_pass and error is not None:
                return fail(f"`{name}` fails on {scenario.story}, so it would block good "
                            f"releases: {type(error).__name__}: {error}")
            if not scenario.must_pass and error is None:
                return fail(f"`{name}` passes on {scenario.story}: it would not catch that "
                            "(does it assert what the exercise asks?)")
    runs = sum(len(s) for s in scenarios.values())
    names = ", ".join(f"`{n}`" for n in tests)
    return ok(f"{names} pass and fail where they should, in {runs} runs on good and broken "
              "models.")


class _ScriptedModel:
    """A stand-in model whose predictions on known rows are fixed in advance."""

    def __init__(self, frame: pd.DataFrame, predictions: np.ndarray) -> None:
        X, _ = split_xy(frame, TARGET)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self._answers = {row.tobytes(): p for row, p in
                         zip(X.to_numpy(dtype=float), predictions, strict=True)}
        self.classes_ = np.unique(predictions)

    def predict(self, X: Any) -> np.ndarray:
        rows = np.asarray(X, dtype=float)
        return np.asarray([self._answers.get(row.tobytes(), 0) for row in rows])


def _with_accuracy(test_df: pd.DataFrame, wrong: int) -> _ScriptedModel:
    """Right on every row but ``wrong`` of them, taken alternately from each class."""
    y = test_df[TARGET].to_numpy().copy()
    flips = np.r_[np.flatnonzero(y == 0)[: (wrong + 1) // 2], np.flatnonzero(y == 1)[: wrong // 2]]
    y[flips] = 1 - y[flips]
    return _ScriptedModel(test_df, y)


def _with_share(test_df: pd.DataFrame, minority: int, label: int) -> _ScriptedModel:
    """Predicts ``label`` except on ``minority`` rows, whatever the truth."""
    predictions = np.full(len(test_df), label)
    predictions[:minority] = 1 - label
    return _ScriptedModel(test_df, predictions)


@checker
def check_performance_tests(
    tests: Sequence[Callable[..., Any]], model: Any, test_df: pd.DataFrame
) -> CheckResult:
    """Run each test on the good model and on broken ones; it must pass and fail as it should.

    The accuracy test is run with several values of ``MIN_ACCURACY`` (set in the test's
    module for the run) on models right on a known number of rows, so it must read the
    constant and accept an accuracy equal to it. The balance test must reject a model
    giving either class fewer than 10 % of the predictions, and only such a model.
    """
    named = _tests_by_name(tests, ("test_accuracy_is_at_least_the_minimum",
                                   "test_predictions_are_not_degenerate"))
    n = len(test_df)
    X, y = split_xy(test_df, TARGET)
    majority = Pipeline([("model", DummyClassifier(strategy="most_frequent"))]).fit(X, y)
    good_accuracy = float((model.predict(X) == y.to_numpy()).mean())
    wrong = max(2, round(0.15 * n))
    scripted = _with_accuracy(test_df, wrong)
    exact = (n - wrong) / n
    good = {"model": model, "test_df": test_df}
    just_above, just_below = math.ceil(0.1 * n) + 1, math.floor(0.1 * n) - 1
    balance_label = "more than 10 % of the predictions for the rarer class"
    scenarios = {
        "test_accuracy_is_at_least_the_minimum": [
            _Scenario(good, True, f"the good model (accuracy {good_accuracy:.3f}) with "
                      f"MIN_ACCURACY = {min(good_accuracy, 0.8)}",
                      {"MIN_ACCURACY": min(good_accuracy, 0.8)}),
            _Scenario({**good, "model": majority}, False, "a model that always predicts the "
                      "most frequent class", {"MIN_ACCURACY": 0.9}),
            _Scenario({**good, "model": scripted}, True, f"a model whose accuracy {exact:.4f} "
                      "is exactly MIN_ACCURACY (at least the minimum passes)",
                      {"MIN_ACCURACY": exact}),
            _Scenario({**good, "model": scripted}, False, f"a model of accuracy {exact:.4f} "
                      f"with MIN_ACCURACY = {(n - wrong + 1) / n:.4f} (read MIN_ACCURACY, do "
                      "not type the number)", {"MIN_ACCURACY": (n - wrong + 1) / n}),
            _Scenario({**good, "model": scripted}, True, f"a model of accuracy {exact:.4f} "
                      "with MIN_ACCURACY = 0.7", {"MIN_ACCURACY": 0.7}),
        ],
        "test_predictions_are_not_degenerate": [
            _Scenario(good, True, "the good model", {"MIN_ACCURACY": 0.0}),
            _Scenario({**good, "model": majority}, False, "a model that always predicts the "
                      "most frequent class", {"MIN_ACCURACY": 0.0}),
            _Scenario({**good, "model": _with_share(test_df, just_below, 1)}, False,
                      f"a model giving class 0 only {just_below} of {n} predictions",
                      {"MIN_ACCURACY": 0.0}),
            _Scenario({**good, "model": _with_share(test_df, just_below, 0)}, False,
                      f"a model giving class 1 only {just_below} of {n} predictions",
                      {"MIN_ACCURACY": 0.0}),
            _Scenario({**good, "model": _with_share(test_df, just_above, 0)}, True,
                      f"a model giving class 1 {just_above} of {n} predictions "
                      f"({balance_label})", {"MIN_ACCURACY": 0.0}),
        ],
    }
    return _run_scenarios(named, scenarios)


class _AlteredPipeline:
    """A pipeline from ``factory`` whose predictions pass through ``alter``."""

    instances = 0

    def __init__(self, factory: Callable[..., Any], alter: Callable[..., np.ndarray],
                 *args: Any, **kwargs: Any) -> None:
        self._inner = factory(*args, **kwargs)
        self._alter = alter
        _AlteredPipeline.instances += 1
        self._instance = _AlteredPipeline.instances

    def fit(self, X: Any, y: Any) -> _AlteredPipeline:
        self._inner.fit(X, y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self._alter(np.asarray(self._inner.predict(X)), self._instance)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _altered(factory: Callable[..., Any], alter: Callable[..., np.ndarray]) -> Callable[..., Any]:
    def make(*args: Any, **kwargs: Any) -> _AlteredPipeline:
        return _AlteredPipeline(factory, alter, *args, **kwargs)

    return make


def _one_short(p: np.ndarray, _: int) -> np.ndarray:
    return p[:-1]


def _unknown_class(p: np.ndarray, _: int) -> np.ndarray:
    out = p.copy()
    out[:3] = 7
    return out


def _with_missing(p: np.ndarray, _: int) -> np.ndarray:
    out = p.astype(float)
    out[1] = np.nan
    return out


def _ignores_seed(p: np.ndarray, instance: int) -> np.ndarray:
    out = p.copy()
    rows = np.arange(instance % 5, len(out), 9)
    out[rows] = 1 - out[rows]
    return out


@checker
def check_integration_tests(
    tests: Sequence[Callable[..., Any]],
    make_pipeline: Callable[..., Any],
    train_with_gaps: pd.DataFrame,
    test_df: pd.DataFrame,
) -> CheckResult:
    """Run each test with the project's pipeline (must pass) and with broken ones (must fail).

    The training test must fail for a pipeline without an imputer, one that drops a
    prediction, one that invents a class and one that predicts a missing value; the
    reproducibility test must fail for a pipeline that ignores its seed.
    """
    named = _tests_by_name(tests, ("test_pipeline_trains_on_data_with_gaps",
                                   "test_training_is_reproducible"))

    def no_imputer(seed: int = 0) -> Pipeline:
        return Pipeline([
            ("scaler", StandardScaler()),
            ("model", LogisticRegression(max_iter=500, random_state=seed)),
        ])

    data = {"train_with_gaps": train_with_gaps, "test_df": test_df}
    good = {**data, "make_pipeline": make_pipeline}
    broken = {
        "no_imputer": {**data, "make_pipeline": no_imputer},
        "short": {**data, "make_pipeline": _altered(make_pipeline, _one_short)},
        "unknown": {**data, "make_pipeline": _altered(make_pipeline, _unknown_class)},
        "missing": {**data, "make_pipeline": _altered(make_pipeline, _with_missing)},
        "seedless": {**data, "make_pipeline": _altered(make_pipeline, _ignores_seed)},
    }
    scenarios = {
        "test_pipeline_trains_on_data_with_gaps": [
            _Scenario(good, True, "the project's pipeline"),
            _Scenario(broken["no_imputer"], False, "a pipeline without an imputer (it cannot "
                      "train on missing values)"),
            _Scenario(broken["short"], False, "a pipeline that returns one prediction fewer "
                      "than there are rows"),
            _Scenario(broken["unknown"], False, "a pipeline that predicts a class (7) the "
                      "training labels do not have"),
            _Scenario(broken["missing"], False, "a pipeline that predicts a missing value"),
        ],
        "test_training_is_reproducible": [
            _Scenario(good, True, "the project's pipeline"),
            _Scenario(broken["seedless"], False, "a pipeline that ignores its seed (two fits "
                      "with the same seed predict differently)"),
            _Scenario(broken["no_imputer"], False, "a pipeline without an imputer"),
        ],
    }
    return _run_scenarios(named, scenarios)
