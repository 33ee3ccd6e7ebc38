"""Self-checks of lab 2 (testing ML): schema, repair, performance and integration tests."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlcicd.datasets import TARGET, make_dirty_frame, make_people_frame, people_schema
from mlcicd.labs.checking import CheckResult, NotAnswered, answer_of, checker, fail, ok
from mlcicd.training import split_xy
from mlcicd.validation import Schema, validate

__all__ = [
    "DIRTY_PROBLEMS",
    "check_integration_tests",
    "check_performance_tests",
    "check_repair",
    "check_schema",
]

#: The problems :func:`mlcicd.datasets.make_dirty_frame` injects: (check, column) as
#: reported by the validator, what it is, and the rule that catches it.
DIRTY_PROBLEMS: tuple[tuple[str, str | None, str, str], ...] = (
    ("duplicate_rows", None, "duplicated rows", "max_duplicate_rows=0 on the Schema"),
    ("unique", "person_id", "repeated person_id values", "unique=True on person_id"),
    ("missing", "age", "missing ages", "nullable=False on age"),
    ("range", "age", "impossible ages (150, -3)", "min=0 and max=120 on age"),
    ("missing", "income", "too many missing incomes (8 %)", "max_missing_rate=0.05 on income"),
    ("range", "income", "negative incomes", "min=0 on income"),
    ("range", "score", "scores outside [0, 1]", "min=0 and max=1 on score"),
    ("range", "height_cm", "heights typed in metres", "a min on height_cm, such as 100"),
    ("dtype", "weight_kg", "the text 'unknown' in weight_kg", "dtype='float' on weight_kg"),
    ("allowed", "city", "the lower-case city 'paris'", "allowed=CITIES on city"),
)

_UNRECOVERABLE_ROWS = 10


@checker
def check_schema(
    make_schema: Callable[[], Schema] | Schema, seed: int = 0, n_rows: int = 200
) -> CheckResult:
    """Pass when the learner's schema accepts clean people data and catches every problem.

    ``make_schema`` is the learner's function returning a :class:`Schema` (or the schema).
    """
    schema = make_schema if isinstance(make_schema, Schema) else answer_of(make_schema)
    if not isinstance(schema, Schema):
        return fail(f"`make_schema` should return a Schema, got {type(schema).__name__}")
    clean = validate(make_people_frame(seed=seed, n=max(n_rows, 50)), schema)
    if not clean.ok:
        return fail(
            "your schema rejects clean data, which would block every good release: "
            f"{clean.failures[0]}"
        )
    found = {(f.check, f.column) for f in validate(make_dirty_frame(seed, n_rows), schema).failures}
    missed = [p for p in DIRTY_PROBLEMS if (p[0], p[1]) not in found]
    if missed:
        what, rule = missed[0][2], missed[0][3]
        others = f" (and {len(missed) - 1} more: {', '.join(p[2] for p in missed[1:])})"
        return fail(
            f"your schema misses {what}: add {rule}" + (others if len(missed) > 1 else "") + "."
        )
    return ok(f"your schema accepts clean data and catches all {len(DIRTY_PROBLEMS)} problems.")


@checker
def check_repair(repair: Callable[[pd.DataFrame], pd.DataFrame], seed: int = 0,
                 n_rows: int = 200) -> CheckResult:
    """Pass when the repaired data passes the reference schema and keeps most rows."""
    dirty = make_dirty_frame(seed, n_rows)
    before = dirty.copy()
    repaired = answer_of(repair, dirty)
    if not isinstance(repaired, pd.DataFrame):
        return fail(f"`repair` should return a DataFrame, got {type(repaired).__name__}")
    if not dirty.equals(before):
        return fail("`repair` changed the frame it was given: work on a copy (df.copy()).")
    report = validate(repaired, people_schema())
    if not report.ok:
        return fail(
            f"the repaired data still fails {len(report.failures)} check(s), "
            f"first: {report.failures[0]}"
        )
    distinct = len(dirty.drop_duplicates())
    # Ten rows hold values nobody can recover (missing or impossible ages, negative
    # incomes, out-of-range scores, a weight of "unknown"); rows missing only their
    # income may be dropped too. Heights in metres and the city's case can be fixed.
    floor = distinct - _UNRECOVERABLE_ROWS - math.ceil(0.08 * n_rows)
    if len(repaired) < floor:
        return fail(
            f"the repaired data passes but keeps only {len(repaired)} of the {distinct} "
            f"distinct rows (at least {floor} can be kept): fix values you can recover "
            "(heights in metres, the city's case) instead of dropping their rows."
        )
    return ok(
        f"the repaired data passes every check and keeps {len(repaired)} of the "
        f"{distinct} distinct rows."
    )


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


def _check_tests(
    tests: Sequence[Callable[..., Any]],
    good: dict[str, Any],
    bad: dict[str, Any],
    bad_name: str,
    good_name: str = "the good model",
) -> CheckResult:
    if callable(tests):
        tests = [tests]
    if not tests:
        return fail("give the list of your test functions")
    for test in tests:
        name = getattr(test, "__name__", "")
        if not name.startswith("test_"):
            return fail(f"`{name}`: pytest only collects functions whose name starts with test_")
        error = _call_test(test, good)
        if error is not None:
            return fail(f"`{name}` fails on {good_name}, so it would block good releases: "
                        f"{type(error).__name__}: {error}")
        if _call_test(test, bad) is None:
            return fail(f"`{name}` passes on {bad_name}: it would not catch that regression.")
    names = ", ".join(f"`{getattr(t, '__name__', '')}`" for t in tests)
    return ok(f"{names} pass on {good_name} and fail on {bad_name}.")


@checker
def check_performance_tests(
    tests: Sequence[Callable[..., Any]], model: Any, test_df: pd.DataFrame
) -> CheckResult:
    """Each test must pass on ``model`` and fail on a model that always predicts one class."""
    X, y = split_xy(test_df, TARGET)
    majority = Pipeline([("model", DummyClassifier(strategy="most_frequent"))]).fit(X, y)
    return _check_tests(
        tests,
        {"model": model, "test_df": test_df},
        {"model": majority, "test_df": test_df},
        "a model that always predicts the most frequent class",
    )


@checker
def check_integration_tests(
    tests: Sequence[Callable[..., Any]],
    make_pipeline: Callable[..., Any],
    train_with_gaps: pd.DataFrame,
    test_df: pd.DataFrame,
) -> CheckResult:
    """Each test must pass with ``make_pipeline`` and fail with a pipeline without imputer."""

    def no_imputer(seed: int = 0) -> Pipeline:
        return Pipeline([
            ("scaler", StandardScaler()),
            ("model", LogisticRegression(max_iter=500, random_state=seed)),
        ])

    fixtures = {"train_with_gaps": train_with_gaps, "test_df": test_df}
    return _check_tests(
        tests,
        {**fixtures, "make_pipeline": make_pipeline},
        {**fixtures, "make_pipeline": no_imputer},
        "a pipeline without an imputer (it cannot train on missing values)",
        "the project's pipeline",
    )
