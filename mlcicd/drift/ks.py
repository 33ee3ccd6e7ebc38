"""Two-sample Kolmogorov-Smirnov test, over many features at once.

:func:`ks_2samp_columns` gives, for every column, the same statistic and p-value as
``scipy.stats.ks_2samp(ref, cur, nan_policy="omit")`` (two-sided, ``method="auto"``),
taking for each column whichever path is fastest at its size:

* unequal sizes of at most :data:`EXACT_MAX_N` values (the exact region, where the
  p-value costs more than the sort): one vectorised ``scipy.stats.ks_2samp(axis=0)``
  call, whose compiled lattice-path count no numpy code here beat;
* everything else: each column is sorted once and the largest gap between the two
  empirical CDFs is found from how many reference values lie below each current value
  (:func:`gap_units`), searching value by value only where the gap can be largest;
  scipy instead sorts, concatenates and searches the pooled sample twice. P-values
  then come from :mod:`mlcicd.drift.ks_pvalue`.

``bench/bench_ks.py --sweep`` times both paths against scipy and the sort floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mlcicd.drift.base import DriftTest, DriftTestResult, dropped_note, numeric_values
from mlcicd.drift.ks_pvalue import EXACT_MAX_N, asymptotic_pvalue, exact_pvalue_equal_sizes
from mlcicd.errors import InputError

__all__ = [
    "EXACT_MAX_N",
    "KSColumnsResult",
    "KolmogorovSmirnov",
    "asymptotic_pvalue",
    "gap_units",
    "ks_2samp_columns",
]


@dataclass(frozen=True)
class KSColumnsResult:
    """Per-column results of :func:`ks_2samp_columns` (arrays, one entry per column).

    ``method`` is ``"exact"`` or ``"asymp"``; ``n_reference`` and ``n_current`` count the
    non-missing values used. A column with no value on one side has NaN statistic and
    p-value and ``method == "not tested"``.
    """

    statistic: np.ndarray
    pvalue: np.ndarray
    n_reference: np.ndarray
    n_current: np.ndarray
    method: np.ndarray


def ks_2samp_columns(reference: Any, current: Any) -> KSColumnsResult:
    """Two-sided two-sample KS test of each column of ``reference`` against ``current``.

    Parameters
    ----------
    reference, current : 2-D array-like or DataFrame, shape (n_rows, n_columns)
        Numeric samples with the same number of columns, compared column by column.
        Missing values (NaN) are dropped per column, like ``nan_policy="omit"``.

    Returns
    -------
    KSColumnsResult

    Notes
    -----
    The statistic is :math:`D = \\sup_x |F_{ref}(x) - F_{cur}(x)|`. The ECDF gap only
    falls at current values and only rises at reference values, so its extremes sit at,
    or just before, a current value: knowing how many reference values lie below (and
    at) each current value is enough, ties included (:func:`gap_units`). P-values: exact
    when both samples have at most :data:`EXACT_MAX_N` values, else
    ``scipy.stats.kstwo`` with :math:`n = \\mathrm{round}(n_1 n_2 / (n_1 + n_2))`, as
    scipy does. Columns of unequal sizes in the exact region are handed to scipy as one
    ``ks_2samp(axis=0, nan_policy="omit")`` call (its compiled exact p-value is the
    fastest there); all other columns take the sort-once path above.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> ref = rng.normal(size=(500, 2))
    >>> cur = np.column_stack([rng.normal(size=400), rng.normal(1.0, 1.0, size=400)])
    >>> result = ks_2samp_columns(ref, cur)
    >>> result.statistic.round(3).tolist(), result.pvalue.round(3).tolist()
    ([0.054, 0.42], [0.519, 0.0])
    """
    ref_table = _table(reference, "reference")
    cur_table = _table(current, "current")
    if ref_table.shape[1] != cur_table.shape[1]:
        raise InputError(
            f"reference has {ref_table.shape[1]} columns but current has {cur_table.shape[1]}"
        )
    k = ref_table.shape[1]
    statistic = np.full(k, np.nan)
    pvalue = np.full(k, np.nan)
    # Counting first decides each column's path before any sorting is done.
    n_ref, n_cur = _count_values(ref_table), _count_values(cur_table)
    tested = (n_ref > 0) & (n_cur > 0)
    exact = tested & (np.maximum(n_ref, n_cur) <= EXACT_MAX_N)
    method = np.full(k, "not tested", dtype=object)
    method[tested] = "asymp"
    method[exact] = "exact"
    by_scipy = np.flatnonzero(exact & (n_ref != n_cur))
    if by_scipy.size:
        # All columns (the usual case at small sizes): the tables go to scipy as they are.
        every = by_scipy.size == k
        result = stats.ks_2samp(
            ref_table if every else ref_table[:, by_scipy],
            cur_table if every else cur_table[:, by_scipy],
            axis=0,
            nan_policy="omit",
        )
        statistic[by_scipy] = result.statistic
        pvalue[by_scipy] = result.pvalue
    for j in np.flatnonzero(tested & ((n_ref == n_cur) | ~exact)):
        a = _sorted_without_nan(ref_table[:, j])
        b = _sorted_without_nan(cur_table[:, j])
        n1, n2 = a.size, b.size
        gap = gap_units(a, b)
        statistic[j] = gap / ((n1 // math.gcd(n1, n2)) * n2)
        if exact[j]:  # equal sizes: lcm(n, n) = n, so the gap is already h in D = h / n
            pvalue[j] = exact_pvalue_equal_sizes(n1, gap)
        else:
            pvalue[j] = asymptotic_pvalue(statistic[j], round(n1 * n2 / (n1 + n2)))
    return KSColumnsResult(statistic, pvalue, n_ref, n_cur, method)


def _table(data: Any, argument: str) -> np.ndarray:
    # A float64 array or a one-dtype DataFrame is used as it is, without a copy; the
    # columns are sorted one at a time, so peak memory stays near one sorted column.
    if isinstance(data, pd.DataFrame):
        try:
            return data.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):  # name the column at fault
            return np.column_stack(
                [_float_column(data.iloc[:, j], f"{argument}[{c!r}]")
                 for j, c in enumerate(data.columns)]
            )
    array = np.asarray(data)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise InputError(f"{argument}: expected a 2-D table of values, got shape {array.shape}")
    try:
        return np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError):  # name the column at fault
        return np.column_stack(
            [_float_column(array[:, j], f"{argument}[{j}]") for j in range(array.shape[1])]
        )


def _float_column(values: Any, argument: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{argument}: expected numbers") from None


def _count_values(table: np.ndarray) -> np.ndarray:
    # Column by column: count_nonzero(axis=0) would build an integer copy of the table.
    missing = [np.count_nonzero(np.isnan(table[:, j])) for j in range(table.shape[1])]
    return table.shape[0] - np.array(missing, dtype=np.int64).reshape(-1)


def _sorted_without_nan(column: np.ndarray) -> np.ndarray:
    ordered = np.sort(column)
    # NaN sorts last, so the first NaN's position is the count of values to keep.
    return ordered[: np.searchsorted(ordered, np.nan)]


def gap_units(a: np.ndarray, b: np.ndarray, block: int = 64) -> int:
    """``lcm(n1, n2) * max_x |F_a(x) - F_b(x)|`` for sorted ``a`` and ``b``: an integer.

    Blocks of ``block`` consecutive values of ``b`` are first bounded using only their
    first and last values; only the blocks whose bound could beat the best exact value
    seen so far are searched value by value. The answer is exact, ties included.

    >>> gap_units(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 5.0, 6.0]))  # D = 6/12
    6
    """
    n1, n2 = a.size, b.size
    g = math.gcd(n1, n2)
    n1g, n2g = n1 // g, n2 // g
    if n2 <= 4 * block:
        return _gap_exact(a, b, np.arange(n2), n1g, n2g)
    first = np.arange(0, n2, block)
    last = np.minimum(first + block, n2) - 1
    below_first = np.searchsorted(a, b[first], side="left")
    at_or_below_last = np.searchsorted(a, b[last], side="right")
    best = _gap_exact(a, b, first, n1g, n2g, below=below_first)
    # Within a block, below[j] >= below[first] and at_or_below[j] <= at_or_below[last].
    bound = np.maximum(
        at_or_below_last * n2g - first * n1g, (last + 1) * n1g - below_first * n2g
    )
    open_blocks = np.flatnonzero(bound > best)
    if open_blocks.size > first.size // 2:
        return _gap_exact(a, b, np.arange(n2), n1g, n2g)
    if open_blocks.size:
        rows = (first[open_blocks, None] + np.arange(block)).ravel()
        best = max(best, _gap_exact(a, b, rows[rows < n2], n1g, n2g))
    return best


def _gap_exact(
    a: np.ndarray,
    b: np.ndarray,
    rows: np.ndarray,
    n1g: int,
    n2g: int,
    below: np.ndarray | None = None,
) -> int:
    # Differences counted in units of 1 / lcm(n1, n2) are integers: no rounding.
    # F_a - F_b peaks just before some b[j]: below[j] / n1 - j / n2.
    # F_b - F_a peaks at some b[j]: (j + 1) / n2 - at_or_below[j] / n1.
    # below / at_or_below: values of a < b[j] / <= b[j] (they differ only on ties).
    keys = b[rows]
    if below is None:
        below = np.searchsorted(a, keys, side="left")
    at_or_below = below
    tied = a[np.minimum(below, a.size - 1)] == keys
    if tied.any():
        at_or_below = below.copy()
        at_or_below[tied] = np.searchsorted(a, keys[tied], side="right")
    steps = rows.astype(np.int64) * n1g
    a_ahead = int(np.max(below * n2g - steps))
    b_ahead = int(np.max(steps - at_or_below * n2g)) + n1g
    return max(a_ahead, b_ahead, 0)


class KolmogorovSmirnov(DriftTest):
    """Two-sample Kolmogorov-Smirnov test for one numeric feature.

    Notes
    -----
    :math:`D = \\sup_x |F_{ref}(x) - F_{cur}(x)|` is the largest gap between the two
    empirical CDFs, in [0, 1]; small p-values mean the two samples differ somewhere.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> result = KolmogorovSmirnov().test(rng.normal(size=300), rng.normal(0.5, 1, size=300))
    >>> round(result.statistic, 3), result.pvalue < 0.001
    (0.3, True)

    References
    ----------
    Hodges, J. L. (1958). The significance probability of the Smirnov two-sample test.
    Arkiv för Matematik 3, 469-486.
    """

    name = "ks"
    kind = "numeric"
    has_pvalue = True
    statistic_range = (0.0, 1.0)

    def test(self, reference: Any, current: Any) -> DriftTestResult:
        ref, dropped_ref = numeric_values(reference, "reference")
        cur, dropped_cur = numeric_values(current, "current")
        result = ks_2samp_columns(ref[:, None], cur[:, None])
        return DriftTestResult(
            statistic=float(result.statistic[0]),
            pvalue=float(result.pvalue[0]),
            n_reference=ref.size,
            n_current=cur.size,
            note=dropped_note(dropped_ref, dropped_cur),
        )
