"""Draft a schema from reference data, with margins so that fresh data of the same kind passes.

The inferred schema is a starting point to review, not a verdict: read it, tighten
what you know (``age`` is never above 120), loosen what you expect to move, and
commit it. The rules, for each column of the reference data:

* **dtype**: booleans -> ``bool``; integers -> ``integer``; other numbers -> ``float``;
  text with few distinct values (at most ``max_categories`` and at most half the
  non-missing rows) -> ``category`` with those values as ``allowed``; other text ->
  ``string``.
* **missing values**: none in the reference -> ``nullable: false``; otherwise
  ``max_missing_rate`` is twice the observed rate (at most 1).
* **range**: the observed ``[min, max]`` widened by ``margin`` times its width on each
  side (by ``margin`` times the value when the column is constant), never crossing
  zero when the reference did not (non-negative data stays non-negative), rounded
  outwards (to whole numbers for integer columns, to 6 significant digits otherwise).
  The default margin, half the observed width, is wide on purpose: the extremes of a
  fresh sample from a long-tailed distribution often pass the reference's. Inferring
  from the training part of 20 seeded breast-cancer splits and validating the test
  part, a 10 % margin flagged all 20 test sets, a 50 % margin one. The range rule is
  there to catch gross errors (a sign, a unit, a sentinel such as -999); shifts are
  the mean and spread rules' job.
* **statistics** (numeric columns with at least two values): the mean may move by
  ``mean_tolerance`` reference standard deviations either way, and the standard
  deviation may grow to ``std_factor`` times its reference value.
* **data set**: at least one row; no more duplicate rows than in the reference;
  no columns beyond the reference's.
* **target** (when named): no missing values, its observed classes as ``allowed``,
  no statistics (the class balance may legitimately move).

``unique`` is never inferred: a float column is all-distinct by chance, so mark
identifiers yourself.
"""

from __future__ import annotations

import math
import sys
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.errors import InputError
from mlcicd.params import Real, check
from mlcicd.validation.checks import duplicated_rows, mean_and_std
from mlcicd.validation.report import plain
from mlcicd.validation.schema import ColumnSchema, Schema

__all__ = ["DEFAULT_MARGIN", "infer_schema"]

#: Share of the observed range added on each side of it (see the module notes).
DEFAULT_MARGIN = 0.5

_DIGITS = 6


def infer_schema(
    df: pd.DataFrame,
    *,
    target: str | None = None,
    margin: float = DEFAULT_MARGIN,
    mean_tolerance: float = 0.5,
    std_factor: float = 2.0,
    max_categories: int = 20,
) -> Schema:
    """Infer a :class:`Schema` from reference data (see the module notes for the rules).

    Parameters
    ----------
    df : pandas.DataFrame
        Reference data, at least one row.
    target : str, optional
        Name of the label column.
    margin : float
        Share of the observed range added on each side of ``[min, max]``.
    mean_tolerance : float
        How many reference standard deviations the mean may move.
    std_factor : float
        How many times the reference standard deviation the spread may reach.
    max_categories : int
        Most distinct values a text column may have to be taken as a category.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [20, 30, 40, 50], "city": ["a", "b", "a", "b"]})
    >>> schema = infer_schema(df)
    >>> schema["age"].to_dict()
    {'dtype': 'integer', 'nullable': False, 'min': 5, 'max': 65, 'mean_min': 28.5, \
'mean_max': 41.5, 'std_max': 25.8199}
    >>> schema["city"].allowed
    ('a', 'b')
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"infer_schema: expected a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise InputError("infer_schema: the reference data has no rows (or no columns)")
    for name, value in (("margin", margin), ("mean_tolerance", mean_tolerance),
                        ("std_factor", std_factor)):
        check("infer_schema", name, value, Real(low=0))
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        raise InputError("infer_schema: the reference data has repeated column names")
    if target is not None and target not in names:
        raise InputError(f"infer_schema: target column {target!r} not found; "
                         f"columns are {', '.join(map(repr, names))}")
    columns = []
    for position, name in enumerate(names):
        values = df.iloc[:, position]
        if name == target:
            columns.append(_infer_target(values, name))
        else:
            columns.append(_infer_column(values, name, margin, mean_tolerance, std_factor,
                                         max_categories))
    return Schema(
        columns=tuple(columns),
        min_rows=1,
        max_rows=None,
        max_duplicate_rows=int(duplicated_rows(df).sum()),
        allow_extra_columns=False,
        target=target,
    )


def _missing_rules(values: pd.Series) -> dict[str, Any]:
    rate = float(values.isna().mean())
    if rate == 0:
        return {"nullable": False}
    return {"max_missing_rate": min(1.0, _round(2 * rate, up=True))}


def _kind(values: pd.Series, max_categories: int) -> str:
    if pd.api.types.is_bool_dtype(values.dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(values.dtype):
        return "integer"
    if pd.api.types.is_numeric_dtype(values.dtype):
        return "float"
    present = values.dropna()
    distinct = present.astype(str).nunique()
    if len(present) and distinct <= max_categories and distinct <= len(present) / 2:
        return "category"
    return "string"


def _infer_column(values: pd.Series, name: str, margin: float, mean_tolerance: float,
                  std_factor: float, max_categories: int) -> ColumnSchema:
    kind = _kind(values, max_categories)
    rules: dict[str, Any] = {"dtype": kind, **_missing_rules(values)}
    if kind == "category":
        rules["allowed"] = tuple(sorted({plain(v) for v in values.dropna()}, key=str))
    if kind in ("integer", "float"):
        numbers = values.dropna().to_numpy(dtype=float)
        numbers = numbers[np.isfinite(numbers)]
        if len(numbers):
            rules.update(_range_rules(numbers, margin, whole=kind == "integer"))
        if len(numbers) >= 2:
            rules.update(_stat_rules(numbers, mean_tolerance, std_factor))
    return ColumnSchema(name, **rules)


def _infer_target(values: pd.Series, name: str) -> ColumnSchema:
    classes = tuple(sorted({plain(v) for v in values.dropna()}, key=lambda v: (str(type(v)), v)))
    kind = "integer" if pd.api.types.is_integer_dtype(values.dtype) else "category"
    if pd.api.types.is_bool_dtype(values.dtype):
        kind = "bool"
    return ColumnSchema(name, dtype=kind, nullable=False, allowed=classes,
                        description="target (label) column")


def _range_rules(numbers: np.ndarray, margin: float, whole: bool) -> dict[str, Any]:
    low, high = float(numbers.min()), float(numbers.max())
    width = high - low if high > low else max(abs(low), 1.0)
    lower, upper = low - margin * width, high + margin * width
    if low >= 0:
        lower = max(lower, 0.0)
    if high <= 0:
        upper = min(upper, 0.0)
    if whole and max(abs(lower), abs(upper)) < 2**53:
        return {"min": int(math.floor(lower)), "max": int(math.ceil(upper))}
    return {"min": _round(lower, up=False), "max": _round(upper, up=True)}


def _stat_rules(numbers: np.ndarray, mean_tolerance: float, std_factor: float) -> dict[str, Any]:
    mean, std = mean_and_std(numbers)
    if not (math.isfinite(mean) and math.isfinite(std)):
        return {}
    rules = {"mean_min": _round(mean - mean_tolerance * std, up=False),
             "mean_max": _round(mean + mean_tolerance * std, up=True)}
    if std > 0:
        rules["std_max"] = _round(std_factor * std, up=True)
    return rules


def _round(value: float, *, up: bool) -> float:
    """Round to :data:`_DIGITS` significant digits, away from the data (outwards).

    A bound never becomes infinite: data near the float limits (``1e308``) would
    overflow the margin, and a schema with ``.inf`` bounds checks nothing. Such a bound
    is clamped to the largest float instead.

    >>> _round(sys.float_info.max, up=True) == sys.float_info.max  # 1.79770e308 overflows
    True
    """
    if value == 0 or math.isnan(value):
        return float(value)
    if math.isinf(value):
        return math.copysign(sys.float_info.max, value)
    exponent = math.floor(math.log10(abs(value))) - _DIGITS + 1
    quantum = Decimal(1).scaleb(exponent)
    rounded = Decimal(value).quantize(quantum, rounding=ROUND_CEILING if up else ROUND_FLOOR)
    result = float(rounded)
    if math.isinf(result):
        return math.copysign(sys.float_info.max, result)
    return int(result) if result.is_integer() and abs(result) < 2**53 else result
