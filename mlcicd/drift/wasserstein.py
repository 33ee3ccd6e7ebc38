"""Wasserstein (earth mover's) distance for one numeric feature, in reference std units."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from mlcicd.drift.base import DriftTest, DriftTestResult, dropped_note, numeric_values

__all__ = ["Wasserstein"]


class Wasserstein(DriftTest):
    """How much probability mass must move, and how far, to turn one sample into the other.

    Notes
    -----
    :math:`W_1 = \\int |F_{ref}(x) - F_{cur}(x)|\\,dx` (``scipy.stats.wasserstein_distance``),
    divided by the reference standard deviation so that features on different scales
    compare: 0.5 means "moved by about half a standard deviation". A constant reference
    cannot be scaled: the raw distance is returned and the note says so. No p-value.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(10.0, 2.0, size=2000)
    >>> round(Wasserstein().test(reference, reference + 1.0).statistic, 2)
    0.5

    References
    ----------
    Ramdas, A., Garcia, N., Cuturi, M. (2017). On Wasserstein two-sample testing and
    related families of nonparametric tests. Entropy 19(2), 47.
    """

    name = "wasserstein"
    kind = "numeric"
    has_pvalue = False
    statistic_range = (0.0, float("inf"))

    def test(self, reference: Any, current: Any) -> DriftTestResult:
        ref, dropped_ref = numeric_values(reference, "reference")
        cur, dropped_cur = numeric_values(current, "current")
        distance = float(stats.wasserstein_distance(ref, cur))
        scale = float(np.std(ref))
        notes = [dropped_note(dropped_ref, dropped_cur)]
        if scale > 0:
            distance /= scale
        else:
            notes.append("reference is constant: distance not scaled")
        return DriftTestResult(
            statistic=distance,
            pvalue=None,
            n_reference=ref.size,
            n_current=cur.size,
            note="; ".join(n for n in notes if n),
        )
