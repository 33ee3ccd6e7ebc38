"""Self-checks of lab 2 (testing ML): the schema and the repair (the tests: checks_pytests)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from mlcicd.datasets import make_dirty_frame, make_people_frame, people_schema
from mlcicd.labs.checking import (
    CheckResult,
    answer_of,
    checker,
    fail,
    ok,
    refuse_library,
)
from mlcicd.validation import Schema, infer_schema, validate

__all__ = [
    "DIRTY_PROBLEMS",
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


_SCHEMA_DATA = ((0, 200), (3, 120), (17, 400))


@checker
def check_schema(
    make_schema: Callable[[], Schema] | Schema, seed: int = 0, n_rows: int = 200
) -> CheckResult:
    """Pass when the schema accepts clean people data and catches every problem.

    ``make_schema`` is the learner's function returning a :class:`Schema` (or the
    schema). It is tried on the notebook's data (``seed``, ``n_rows``) and on three
    other draws, clean and dirty.
    """
    if not isinstance(make_schema, Schema):
        refuse_library(make_schema, {"people_schema": people_schema, "infer_schema": infer_schema},
                       "the schema")
    schema = make_schema if isinstance(make_schema, Schema) else answer_of(make_schema)
    if not isinstance(schema, Schema):
        return fail(f"`make_schema` should return a Schema, got {type(schema).__name__}")
    for data_seed, rows in ((seed, n_rows), *_SCHEMA_DATA):
        clean_frame = make_people_frame(seed=data_seed, n=max(rows, 50))
        for label, frame in (("clean data", clean_frame),
                             ("clean data with 4 % missing incomes (normal, says the "
                              "exercise)", _with_missing_incomes(clean_frame, 0.04))):
            clean = validate(frame, schema)
            if not clean.ok:
                return fail(
                    f"your schema rejects {label}, which would block every good release: "
                    f"{clean.failures[0]} (seed {data_seed}, {max(rows, 50)} rows)"
                )
        dirty = validate(make_dirty_frame(data_seed, rows), schema).failures
        found = {(f.check, f.column) for f in dirty}
        missed = [p for p in DIRTY_PROBLEMS if (p[0], p[1]) not in found]
        if missed:
            what, rule = missed[0][2], missed[0][3]
            others = f" (and {len(missed) - 1} more: {', '.join(p[2] for p in missed[1:])})"
            return fail(
                f"your schema misses {what}: add {rule}"
                + (others if len(missed) > 1 else "") + "."
            )
    return ok(f"your schema accepts clean data and catches all {len(DIRTY_PROBLEMS)} problems, "
              f"on {len(_SCHEMA_DATA) + 1} draws of the data.")


def _with_missing_incomes(frame: pd.DataFrame, share: float) -> pd.DataFrame:
    """A copy of clean data with the first ``share`` of incomes missing (a normal amount).

    The clean generator has no gaps, so without this a schema that forbids any missing
    income passed; the exercise states that up to 5 % are normal.
    """
    out = frame.copy()
    out.loc[out.index[: int(share * len(out))], "income"] = np.nan
    return out


def _kept_values_problem(dirty: pd.DataFrame, repaired: pd.DataFrame) -> str | None:
    """Why ``repaired`` is not a repair of ``dirty`` (rows made up or changed), or None."""
    if "person_id" not in repaired.columns:
        return "the repaired data has no person_id column"
    original = dirty.drop_duplicates().set_index("person_id")
    ids = pd.to_numeric(repaired["person_id"], errors="coerce")
    unknown = ids[~ids.isin(original.index)]
    if len(unknown):
        return (f"person_id {unknown.iloc[0]!r} is not in the data you were given: repair "
                "the rows of `df`, do not return other data")
    for column in ("age", "score", "member"):
        before = original.loc[ids.to_numpy(), column].to_numpy()
        after = repaired[column].to_numpy()
        if not np.array_equal(before.astype(float), after.astype(float)):
            return (f"the {column} of some kept rows differs from the data you were given: "
                    "only fix values that are recoverable (heights, city, missing incomes)")
    recoverable = original.index[
        (pd.to_numeric(original["height_cm"], errors="coerce") < 3)
        | (original["city"].astype(str).str.lower() != original["city"].astype(str))
    ]
    recoverable = [i for i in recoverable if _row_is_trustworthy(original.loc[i])]
    dropped = [i for i in recoverable if i not in set(ids)]
    if dropped:
        return (f"person_id {dropped[0]} was dropped, but its only problem can be fixed "
                "(a height in metres, or the city's case): fix it instead")
    return None


def _row_is_trustworthy(row: pd.Series) -> bool:
    weight = pd.to_numeric(pd.Series([row["weight_kg"]]), errors="coerce").iloc[0]
    return bool(0 <= row["age"] <= 120 and not (row["income"] < 0)
                and 0 <= row["score"] <= 1 and pd.notna(weight))


@checker
def check_repair(repair: Callable[[pd.DataFrame], pd.DataFrame], seed: int = 0,
                 n_rows: int = 200) -> CheckResult:
    """Pass when the repaired data passes the reference schema and keeps most rows.

    Tried on the notebook's data and on two other draws: the kept rows must be rows of
    the input, with their unrecoverable values untouched.
    """
    refuse_library(repair, {"make_people_frame": make_people_frame,
                            "make_dirty_frame": make_dirty_frame}, "the repair")
    kept: list[tuple[int, int]] = []
    for data_seed, rows in ((seed, n_rows), (seed + 5, max(60, n_rows // 2)),
                            (seed + 9, n_rows + 150)):
        dirty = make_dirty_frame(data_seed, rows)
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
        problem = _kept_values_problem(dirty, repaired)
        if problem:
            return fail(problem)
        distinct = len(dirty.drop_duplicates())
        # Ten rows hold values nobody can recover (missing or impossible ages, negative
        # incomes, out-of-range scores, a weight of "unknown"); rows missing only their
        # income may be dropped too. Heights in metres and the city's case can be fixed.
        floor = distinct - _UNRECOVERABLE_ROWS - math.ceil(0.08 * rows)
        if len(repaired) < floor:
            return fail(
                f"the repaired data passes but keeps only {len(repaired)} of the {distinct} "
                f"distinct rows (at least {floor} can be kept): fix values you can recover "
                "(heights in metres, the city's case) instead of dropping their rows."
            )
        kept.append((len(repaired), distinct))
    return ok(
        f"the repaired data passes every check and keeps {kept[0][0]} of the "
        f"{kept[0][1]} distinct rows (and as much on two other draws)."
    )
