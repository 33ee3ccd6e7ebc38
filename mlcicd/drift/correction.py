"""Correcting p-values when many features are tested at once.

Testing 30 features at level 0.05 flags about 1.5 of them by chance alone even when
nothing drifted. Two classic answers:

``"bonferroni"``
    Multiply each p-value by the number of tests (capped at 1): controls the chance of
    *any* false alarm (family-wise error rate). Simple and strict.
``"bh"``
    Benjamini-Hochberg (``scipy.stats.false_discovery_control``): controls the expected
    share of false alarms among the features flagged (false discovery rate). Less
    strict, so more real drifts are caught.
``"none"``
    Leave the p-values as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from mlcicd.errors import InputError
from mlcicd.params import Choice, check

__all__ = ["CORRECTIONS", "adjust_pvalues"]

CORRECTIONS = ("bh", "bonferroni", "none")


def adjust_pvalues(pvalues: Any, method: str = "bh") -> np.ndarray:
    """Corrected p-values, in the same order; NaN (a feature not tested) stays NaN.

    Only the tested features count towards the number of tests.

    Parameters
    ----------
    pvalues : array-like of float in [0, 1] or NaN
    method : {"bh", "bonferroni", "none"}

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.2], "bonferroni")
    array([0.04, 0.16, 0.12, 0.8 ])
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.2], "bh").round(4)
    array([0.04  , 0.0533, 0.0533, 0.2   ])
    >>> adjust_pvalues([0.01, float("nan")], "bonferroni")
    array([0.01,  nan])
    """
    check("adjust_pvalues", "method", method, Choice(CORRECTIONS))
    values = np.asarray(pvalues, dtype=float).reshape(-1)
    tested = ~np.isnan(values)
    if np.any((values[tested] < 0) | (values[tested] > 1)):
        raise InputError("p-values must be in [0, 1]")
    adjusted = values.copy()
    if method == "none" or not tested.any():
        return adjusted
    if method == "bonferroni":
        adjusted[tested] = np.minimum(values[tested] * tested.sum(), 1.0)
    else:
        adjusted[tested] = stats.false_discovery_control(values[tested], method="bh")
    return adjusted
