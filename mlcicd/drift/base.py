"""What every per-feature drift test shares: its result object and input cleaning.

A drift test compares one feature's *reference* values (what the model was trained on)
with its *current* values (what production sees now). Every test in this package is a
small class with a ``test(reference, current)`` method returning a
:class:`DriftTestResult`, so reports and the contract test can treat them alike.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlcicd.errors import InputError

__all__ = ["DriftTestResult", "DriftTest", "category_label", "category_values", "numeric_values"]


@dataclass(frozen=True)
class DriftTestResult:
    """The outcome of one drift test on one feature.

    Attributes
    ----------
    statistic : float
        The test's statistic (its range depends on the test).
    pvalue : float or None
        Probability, under "no drift", of a statistic at least this large; ``None`` for
        a distance that has no p-value (PSI, Wasserstein).
    n_reference, n_current : int
        Values actually used, after dropping missing ones.
    note : str
        Anything the reader should know (values dropped, categories unseen...).
    """

    statistic: float
    pvalue: float | None
    n_reference: int
    n_current: int
    note: str = ""


class DriftTest:
    """Base class: a named two-sample test on one feature.

    Subclasses set ``name``, ``kind`` ("numeric" or "categorical"), ``has_pvalue`` and
    ``statistic_range`` and implement :meth:`test`.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "numeric"
    has_pvalue: ClassVar[bool] = True
    statistic_range: ClassVar[tuple[float, float]] = (0.0, float("inf"))

    def test(self, reference: Any, current: Any) -> DriftTestResult:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


def _as_1d(values: Any, argument: str) -> np.ndarray:
    array = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
    if array.ndim != 1:
        raise InputError(f"{argument}: expected one column of values, got shape {array.shape}")
    return array


def numeric_values(values: Any, argument: str) -> tuple[np.ndarray, int]:
    """Return the non-missing values as float64 and how many were dropped.

    >>> numeric_values([1, None, 3], "reference")
    (array([1., 3.]), 1)
    """
    if isinstance(values, pd.Series) and not pd.api.types.is_numeric_dtype(values.dtype):
        raise InputError(f"{argument}: expected numbers, got {values.dtype} values")
    array = _as_1d(values, argument)
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{argument}: expected numbers, got {array.dtype} values") from None
    keep = ~np.isnan(array)
    if not keep.any():
        raise InputError(f"{argument}: no non-missing values to test")
    return array[keep], int(array.size - keep.sum())


def category_values(values: Any, argument: str) -> tuple[np.ndarray, int]:
    """Return the non-missing values as category labels and how many were dropped.

    Missing means ``None``, NaN or ``pd.NA``, also inside a plain list (which numpy
    would otherwise turn into the text ``'nan'``). A number that is whole is one
    category whatever its type, so ``1``, ``1.0`` and ``np.int64(1)`` all count as ``'1'``:
    a column read once as integers and once as floats (a CSV with a gap) must not look
    like two categories.

    >>> category_values(["a", None, "b", float("nan")], "current")
    (array(['a', 'b'], dtype=object), 2)
    >>> category_values([1, 1.0, 2.5, True], "reference")[0].tolist()
    ['1', '1', '2.5', 'True']
    """
    if not isinstance(values, pd.Series | np.ndarray):
        values = np.asarray(values, dtype=object)
    series = pd.Series(_as_1d(values, argument), dtype=object)
    keep = series.notna().to_numpy()
    if not keep.any():
        raise InputError(f"{argument}: no non-missing values to test")
    labels = [category_label(value) for value in series[keep]]
    return np.asarray(labels, dtype=object), int(series.size - keep.sum())


def category_label(value: Any) -> str:
    """The category a single non-missing value stands for (see :func:`category_values`).

    >>> category_label(3.0), category_label(np.int64(3)), category_label(0.25)
    ('3', '3', '0.25')
    """
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)


def dropped_note(dropped_reference: int, dropped_current: int) -> str:
    """Say how many missing values were left out, or nothing."""
    if not (dropped_reference or dropped_current):
        return ""
    return f"missing values dropped: {dropped_reference} reference, {dropped_current} current"
