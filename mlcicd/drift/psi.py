"""Population stability index (PSI) for one numeric feature."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcicd.drift.base import DriftTest, DriftTestResult, dropped_note, numeric_values
from mlcicd.params import Integer, Real, check

__all__ = ["PopulationStabilityIndex", "psi_bins"]


def psi_bins(reference: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges at the reference quantiles (repeated edges merged).

    >>> psi_bins(np.arange(100.0), 4)
    array([24.75, 49.5 , 74.25])
    """
    inner = np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    return np.unique(inner)


class PopulationStabilityIndex(DriftTest):
    """How far the current distribution has moved from the reference, bin by bin.

    Parameters
    ----------
    bins : int
        Number of bins, cut at the reference quantiles so each holds about the same share
        of the reference (fewer when the reference has repeated values).
    epsilon : float
        Share given to a bin that is empty on one side, so the logarithm stays finite
        (default 1e-4, i.e. 0.01 %).

    Notes
    -----
    :math:`PSI = \\sum_b (c_b - r_b) \\ln(c_b / r_b)` over bin shares :math:`r_b`
    (reference) and :math:`c_b` (current); 0 means identical shares. Rule of thumb: below
    0.1 stable, 0.1 to 0.25 moderate shift, above 0.25 major shift. No p-value.

    Examples
    --------
    >>> reference = np.arange(100.0)
    >>> round(PopulationStabilityIndex(bins=2).test(reference, reference).statistic, 6)
    0.0
    >>> shifted = np.r_[np.zeros(25), np.full(75, 99.0)]   # 25 % / 75 % instead of 50 / 50
    >>> round(PopulationStabilityIndex(bins=2).test(reference, shifted).statistic, 4)
    0.2747

    References
    ----------
    Yurdakul, B. (2018). Statistical properties of population stability index. PhD
    thesis, Western Michigan University.
    """

    name = "psi"
    kind = "numeric"
    has_pvalue = False
    statistic_range = (0.0, float("inf"))

    def __init__(self, bins: int = 10, epsilon: float = 1e-4) -> None:
        caller = "PopulationStabilityIndex"
        self.bins = check(caller, "bins", bins, Integer(low=2))
        self.epsilon = check(caller, "epsilon", epsilon, Real(0, 1, closed="neither"))

    def test(self, reference: Any, current: Any) -> DriftTestResult:
        ref, dropped_ref = numeric_values(reference, "reference")
        cur, dropped_cur = numeric_values(current, "current")
        edges = psi_bins(ref, self.bins)
        ref_share = self._shares(ref, edges)
        cur_share = self._shares(cur, edges)
        statistic = float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))
        return DriftTestResult(
            statistic=max(statistic, 0.0),
            pvalue=None,
            n_reference=ref.size,
            n_current=cur.size,
            note=dropped_note(dropped_ref, dropped_cur),
        )

    def _shares(self, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
        return np.maximum(counts / values.size, self.epsilon)
