"""Run every rule of a :class:`~mlcicd.validation.schema.Schema` against a data frame.

:func:`validate` never stops at the first failure and never raises because of what is
in the data: text in a numeric column, infinities, an empty frame, a missing column are
all things to report. A column of the wrong kind still gets its other rules checked
where that means something: its values are read as numbers for the range and the
statistics, and values that cannot be read are counted as failures.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.errors import InputError
from mlcicd.validation.report import Failure, ValidationReport, plain
from mlcicd.validation.schema import ColumnSchema, Schema

__all__ = ["validate"]

#: How many offending values a failure shows.
N_EXAMPLES = 3

_BOOL_WORDS = {"true", "false", "yes", "no", "0", "1", "t", "f", "y", "n"}


class _Collector:
    """Counts the checks run and keeps the failures, whatever a single check does."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self.n_checks = 0

    def run(self, check: str, column: str | None, rule: Callable[[], Failure | None]) -> None:
        self.n_checks += 1
        try:
            failure = rule()
        except Exception as exc:  # a bug in one rule must not hide the other rules' findings
            failure = Failure(check, column, f"could not run this check ({type(exc).__name__}: "
                              f"{exc})")
        if failure is not None:
            self.failures.append(failure)


def validate(df: pd.DataFrame, schema: Schema) -> ValidationReport:
    """Check ``df`` against every rule of ``schema`` and report every failure.

    Parameters
    ----------
    df : pandas.DataFrame
        The data, as read (text columns may hold numbers, numeric columns may hold text).
    schema : Schema
        The rules.

    Returns
    -------
    ValidationReport
        ``.ok`` is ``True`` when every check passed; ``.failures`` lists the others.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlcicd.validation import ColumnSchema, Schema
    >>> schema = Schema(columns=(
    ...     ColumnSchema("age", dtype="integer", nullable=False, min=0, max=120),
    ...     ColumnSchema("score", dtype="float", min=0, max=1),
    ... ), max_duplicate_rows=0)
    >>> df = pd.DataFrame({"age": [34, 150, None, 34], "score": [0.5, 0.2, 1.4, 0.5]})
    >>> report = validate(df, schema)
    >>> report.ok
    False
    >>> for failure in report.failures:
    ...     print(failure)
    duplicate_rows: 1 duplicate row, at most 0 allowed (e.g. 3)
    missing [age]: 1 missing value, none allowed
    range [age]: 1 value outside [0, 120] (e.g. 150.0)
    range [score]: 1 value outside [0, 1] (e.g. 1.4)
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"validate: expected a pandas DataFrame, got {type(df).__name__}")
    if not isinstance(schema, Schema):
        raise InputError(f"validate: expected a Schema, got {type(schema).__name__}")
    out = _Collector()
    positions = _column_positions(df, out)
    _check_frame(df, schema, positions, out)
    for column in schema.columns:
        if column.name in positions:
            values = df.iloc[:, positions[column.name]]
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(object)
            _check_column(values, column, out)
    return ValidationReport(
        failures=tuple(out.failures), n_checks=out.n_checks, n_rows=len(df),
        n_columns=df.shape[1],
    )


def _column_positions(df: pd.DataFrame, out: _Collector) -> dict[str, int]:
    """Map each column name (as text) to its first position, reporting repeated names."""
    positions: dict[str, int] = {}
    counts: dict[str, int] = {}
    for i, name in enumerate(map(str, df.columns)):
        positions.setdefault(name, i)
        counts[name] = counts.get(name, 0) + 1

    for name, count in counts.items():
        out.run("duplicate_column", name, lambda name=name, count=count: None if count == 1 else
                Failure("duplicate_column", name,
                        f"column name used {count} times (the first is checked)"))
    return positions


def _check_frame(df: pd.DataFrame, schema: Schema, positions: dict[str, int],
                 out: _Collector) -> None:
    for column in schema.columns:
        if column.required:
            name = column.name
            out.run("missing_column", name, lambda name=name: None if name in positions else
                    Failure("missing_column", name, "expected column is missing"))
    if not schema.allow_extra_columns:
        expected = set(schema.column_names)
        for name in positions:
            out.run("unexpected_column", name, lambda name=name: None if name in expected else
                    Failure("unexpected_column", name, "column is not in the schema"))
    if schema.min_rows is not None or schema.max_rows is not None:
        out.run("row_count", None, lambda: _row_count(len(df), schema))
    if schema.max_duplicate_rows is not None:
        out.run("duplicate_rows", None, lambda: _duplicate_rows(df, schema.max_duplicate_rows))


def _row_count(n: int, schema: Schema) -> Failure | None:
    if schema.min_rows is not None and n < schema.min_rows:
        return Failure("row_count", None, f"{n} rows, at least {schema.min_rows} expected")
    if schema.max_rows is not None and n > schema.max_rows:
        return Failure("row_count", None, f"{n} rows, at most {schema.max_rows} expected")
    return None


def duplicated_rows(df: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the rows that repeat an earlier row exactly (NaN equals NaN)."""
    if df.shape[1] == 0:
        return np.zeros(len(df), dtype=bool)
    try:
        repeated = df.duplicated(keep="first")
    except TypeError:  # unhashable cells: compare their text instead
        repeated = df.map(repr).duplicated(keep="first")
    return repeated.to_numpy(dtype=bool)


def _duplicate_rows(df: pd.DataFrame, limit: int) -> Failure | None:
    repeated = duplicated_rows(df)
    count = int(repeated.sum())
    if count <= limit:
        return None
    labels = tuple(plain(i) for i in df.index[repeated][:N_EXAMPLES])
    message = f"{_count(count, 'duplicate row')}, at most {limit} allowed"
    return Failure("duplicate_rows", None, message, count, labels)


def _check_column(values: pd.Series, column: ColumnSchema, out: _Collector) -> None:
    name = column.name
    present = values.notna().to_numpy(dtype=bool)
    numbers = _as_numbers(values)
    if column.is_numeric or column.dtype == "bool":
        out.run("dtype", name, lambda: _dtype(values, present, numbers, column))
    if not column.nullable or column.max_missing_rate is not None:
        out.run("missing", name, lambda: _missing(present, column))
    if column.min is not None or column.max is not None:
        out.run("range", name, lambda: _range(values, present, numbers, column))
    if column.allowed is not None:
        out.run("allowed", name, lambda: _allowed(values, present, column))
    if column.unique:
        out.run("unique", name, lambda: _unique(values, present, name))
    if column.mean_min is not None or column.mean_max is not None:
        out.run("mean", name, lambda: _mean(numbers, column))
    if column.std_max is not None:
        out.run("std", name, lambda: _std(numbers, column))


def _as_numbers(values: pd.Series) -> np.ndarray:
    """The values as floats; anything that is not a number becomes NaN."""
    try:
        with warnings.catch_warnings():
            # A lossy cast (complex to real, say) warns: take the careful path instead.
            warnings.simplefilter("error")
            numbers = pd.to_numeric(values, errors="coerce")
            return np.asarray(numbers.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    except (TypeError, ValueError, OverflowError, Warning):
        return np.array([_one_number(v) for v in values], dtype=float)


def _one_number(value: Any) -> float:
    if isinstance(value, complex | np.complexfloating):
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return np.nan


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _stat(value: float) -> float:
    return float(f"{value:.6g}")


def _examples(values: pd.Series, mask: np.ndarray) -> tuple[Any, ...]:
    """Up to :data:`N_EXAMPLES` distinct offending values, as plain Python values."""
    shown: list[Any] = []
    seen: set[str] = set()
    for value in values[mask]:
        key = repr(plain(value))
        if key not in seen:
            seen.add(key)
            shown.append(plain(value))
            if len(shown) == N_EXAMPLES:
                break
    return tuple(shown)


def _dtype(values: pd.Series, present: np.ndarray, numbers: np.ndarray,
           column: ColumnSchema) -> Failure | None:
    if column.dtype == "bool":
        good = np.array([_is_boolish(v) for v in values], dtype=bool)
        expected = "true/false"
    else:
        with np.errstate(invalid="ignore"):
            good = np.isfinite(numbers)
            if column.dtype == "integer":
                good &= np.floor(np.where(good, numbers, 0)) == np.where(good, numbers, 0)
        expected = "a whole number" if column.dtype == "integer" else "a finite number"
    bad = present & ~good
    count = int(bad.sum())
    if not count:
        return None
    return Failure("dtype", column.name,
                   f"{_count(count, 'value')} that cannot be read as {expected} "
                   f"(dtype {column.dtype!r} expected, "
                   f"found {values.dtype})", count, _examples(values, bad))


def _is_boolish(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return True
    if isinstance(value, int | float | np.integer | np.floating):
        return value in (0, 1)
    if isinstance(value, str):
        return value.strip().lower() in _BOOL_WORDS
    return False


def _missing(present: np.ndarray, column: ColumnSchema) -> Failure | None:
    n = len(present)
    missing = int(n - present.sum())
    if not column.nullable:
        if missing:
            message = f"{_count(missing, 'missing value')}, none allowed"
            return Failure("missing", column.name, message, missing)
        return None
    rate = missing / n if n else 0.0
    limit = column.max_missing_rate
    if limit is not None and rate > limit:
        return Failure("missing", column.name,
                       f"{rate:.1%} missing ({missing} of {n}), at most {limit:.1%} allowed",
                       missing)
    return None


def _range(values: pd.Series, present: np.ndarray, numbers: np.ndarray,
           column: ColumnSchema) -> Failure | None:
    low = -np.inf if column.min is None else column.min
    high = np.inf if column.max is None else column.max
    with np.errstate(invalid="ignore"):
        outside = (numbers < low) | (numbers > high)
    message_tail = ""
    if not column.is_numeric:
        # The dtype rule did not look at these, so they are reported here.
        unreadable = present & np.isnan(numbers)
        if unreadable.any():
            message_tail = f" ({int(unreadable.sum())} of them not numbers)"
            outside = outside | unreadable
    count = int(outside.sum())
    if not count:
        return None
    message = f"{_count(count, 'value')} outside {_interval(column.min, column.max)}"
    return Failure("range", column.name, message + message_tail, count,
                   _examples(values, outside))


def _interval(low: float | None, high: float | None) -> str:
    if low is None:
        return f"(-inf, {high}]"
    if high is None:
        return f"[{low}, inf)"
    return f"[{low}, {high}]"


def _allowed(values: pd.Series, present: np.ndarray, column: ColumnSchema) -> Failure | None:
    allowed = column.allowed or ()
    as_text = {str(a) for a in allowed}
    try:
        as_set = set(allowed)
    except TypeError:
        as_set = set()

    def ok(value: Any) -> bool:
        try:
            if value in as_set:
                return True
        except TypeError:
            pass
        return str(plain(value)) in as_text or str(value) in as_text

    bad = present & ~np.array([ok(v) for v in values], dtype=bool)
    count = int(bad.sum())
    if not count:
        return None
    shown = ", ".join(map(repr, allowed[:8])) + (", ..." if len(allowed) > 8 else "")
    message = f"{_count(count, 'value')} not in the allowed set {{{shown}}}"
    return Failure("allowed", column.name, message, count, _examples(values, bad))


def _unique(values: pd.Series, present: np.ndarray, name: str) -> Failure | None:
    kept = values[present]
    try:
        repeated = kept.duplicated(keep="first").to_numpy(dtype=bool)
    except TypeError:
        repeated = kept.map(repr).duplicated(keep="first").to_numpy(dtype=bool)
    count = int(repeated.sum())
    if not count:
        return None
    message = f"{_count(count, 'repeated value')} (values should be unique)"
    return Failure("unique", name, message, count, _examples(kept, repeated))


def _finite(numbers: np.ndarray) -> np.ndarray:
    return numbers[np.isfinite(numbers)]


def mean_and_std(numbers: np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1, NaN below 2 values) of finite numbers.

    Values are scaled by the largest magnitude first, so that numbers near the float
    limit do not overflow the sum.
    """
    if not len(numbers):
        return np.nan, np.nan
    scale = float(np.max(np.abs(numbers))) or 1.0
    scaled = numbers / scale
    std = float(np.std(scaled, ddof=1)) * scale if len(numbers) > 1 else np.nan
    with np.errstate(over="ignore"):
        return float(np.mean(scaled)) * scale, std


def _mean(numbers: np.ndarray, column: ColumnSchema) -> Failure | None:
    finite = _finite(numbers)
    bounds = _interval(column.mean_min, column.mean_max)
    if not len(finite):
        return Failure("mean", column.name, f"no numbers to average; mean in {bounds} expected")
    mean, _ = mean_and_std(finite)
    low = -np.inf if column.mean_min is None else column.mean_min
    high = np.inf if column.mean_max is None else column.mean_max
    if low <= mean <= high:
        return None
    return Failure("mean", column.name, f"mean {mean:.6g} outside {bounds}", None,
                   (_stat(mean),))


def _std(numbers: np.ndarray, column: ColumnSchema) -> Failure | None:
    finite = _finite(numbers)
    if len(finite) < 2:
        return None
    _, std = mean_and_std(finite)
    if std <= column.std_max:
        return None
    return Failure("std", column.name,
                   f"standard deviation {std:.6g} above the maximum {column.std_max}", None,
                   (_stat(std),))
