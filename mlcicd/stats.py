"""Paired statistics for "is the new model really better, or really worse?".

Two models scored on the *same* test rows give paired results, and a paired analysis
is far more sensitive than comparing two accuracies as if they were independent:

- :func:`mcnemar_test` looks only at the rows where exactly one model is right. If
  the models were equally good, each of those rows would be a fair coin flip, so the
  count of "candidate alone right" follows Binomial(discordant, 1/2). The exact
  two-sided binomial test (:func:`scipy.stats.binomtest`) gives the p-value.
- :func:`bootstrap_diff_ci` resamples test rows with replacement, the same rows for
  both models, and reports a percentile confidence interval for the difference of a
  metric (candidate minus baseline). A small test set gives a wide interval: that is
  the point, a threshold on a noisy number is itself noisy.

Both return small frozen result objects, in the manner of :mod:`scipy.stats`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import binom

from mlcicd.errors import InputError
from mlcicd.metrics import classification_metrics
from mlcicd.params import SEED, Integer, Real, check

__all__ = [
    "BOOTSTRAP_METRICS",
    "MAX_RESAMPLES",
    "BootstrapResult",
    "McNemarResult",
    "bootstrap_diff_ci",
    "mcnemar_from_counts",
    "mcnemar_test",
]

#: Metric names :func:`bootstrap_diff_ci` understands (a callable is accepted as well).
BOOTSTRAP_METRICS = ("accuracy", "precision", "recall", "f1")

# Bound on the number of resampled indices held in memory at once (rows x resamples).
_MAX_CELLS = 2_000_000


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test of two classifiers on the same rows.

    Attributes
    ----------
    statistic : float
        The smaller of the two discordant counts, the binomial test's tail statistic.
    pvalue : float
        Two-sided exact p-value; 1.0 when the models never disagree on correctness.
    a_only_correct : int
        Rows where model A is right and model B wrong.
    b_only_correct : int
        Rows where model B is right and model A wrong.

    Examples
    --------
    >>> r = McNemarResult(statistic=1.0, pvalue=0.021484375, a_only_correct=1, b_only_correct=9)
    >>> r.discordant
    10
    >>> r.significant()
    True
    """

    statistic: float
    pvalue: float
    a_only_correct: int
    b_only_correct: int

    @property
    def discordant(self) -> int:
        """Number of rows where exactly one of the two models is right."""
        return self.a_only_correct + self.b_only_correct

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the difference in correctness is significant at level ``alpha``."""
        return self.pvalue < alpha

    def interpret(self, alpha: float = 0.05, names: tuple[str, str] = ("A", "B")) -> str:
        """One plain-words sentence reading the result.

        Examples
        --------
        >>> McNemarResult(0.0, 1.0, 0, 0).interpret()
        'A and B are right and wrong on exactly the same rows: no evidence of a difference.'
        """
        a, b = names
        if self.discordant == 0:
            return (
                f"{a[:1].upper()}{a[1:]} and {b} are right and wrong on exactly the same rows: "
                "no evidence of a difference."
            )
        counts = (
            f"they disagree on {self.discordant} row(s): {a} alone is right on "
            f"{self.a_only_correct}, {b} alone on {self.b_only_correct}"
        )
        if not self.significant(alpha):
            return (
                f"{counts[0].upper()}{counts[1:]}; p = {self.pvalue:.3g} >= {alpha:g}, "
                "so this split is consistent with chance: no evidence that either is better."
            )
        better = a if self.a_only_correct > self.b_only_correct else b
        return (
            f"{counts[0].upper()}{counts[1:]}; p = {self.pvalue:.3g} < {alpha:g}, "
            f"so {better} is very likely better on data like this."
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile bootstrap confidence interval of ``metric(B) - metric(A)``.

    Attributes
    ----------
    estimate : float
        The difference on the full test set.
    low, high : float
        Bounds of the percentile interval.
    confidence : float
        Coverage of the interval, e.g. 0.95.
    metric : str
        Name of the metric compared.
    n_resamples : int
        Number of paired resamples drawn.

    Examples
    --------
    >>> r = BootstrapResult(estimate=0.02, low=-0.01, high=0.05, confidence=0.95)
    >>> r.contains_zero
    True
    """

    estimate: float
    low: float
    high: float
    confidence: float
    metric: str = "accuracy"
    n_resamples: int = 2000

    @property
    def contains_zero(self) -> bool:
        """Whether "no difference" is inside the interval."""
        return self.low <= 0.0 <= self.high

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def _as_paired_arrays(y_true: Any, pred_a: Any, pred_b: Any) -> tuple[np.ndarray, ...]:
    arrays = []
    for name, values in (("y_true", y_true), ("pred_a", pred_a), ("pred_b", pred_b)):
        array = np.asarray(values)
        if array.ndim != 1:
            raise InputError(f"{name} must be one-dimensional, got shape {array.shape}")
        if array.size == 0:
            raise InputError(f"{name} is empty: need at least one labelled row")
        arrays.append(array)
    n = len(arrays[0])
    for name, array in zip(("pred_a", "pred_b"), arrays[1:], strict=True):
        if len(array) != n:
            raise InputError(f"{name} has {len(array)} values but y_true has {n}")
    return tuple(arrays)


def mcnemar_test(y_true: Any, pred_a: Any, pred_b: Any) -> McNemarResult:
    """Exact McNemar test: do models A and B differ in how often they are right?

    Parameters
    ----------
    y_true : array-like of shape (n,)
        True labels.
    pred_a, pred_b : array-like of shape (n,)
        Predictions of the two models on the same rows, in the same order.

    Returns
    -------
    McNemarResult

    Notes
    -----
    With ``b`` rows where only A is right and ``c`` where only B is right, under
    "equally good" ``c ~ Binomial(b + c, 1/2)``; the p-value is the exact two-sided
    binomial test. Rows where both are right or both wrong carry no information.
    With no discordant rows the p-value is defined as 1.0 (nothing contradicts
    equality).

    Examples
    --------
    One row only A gets right, nine only B gets right:

    >>> y = [1] * 10
    >>> a = [1] + [0] * 9
    >>> b = [0] + [1] * 9
    >>> r = mcnemar_test(y, a, b)
    >>> r.a_only_correct, r.b_only_correct, round(r.pvalue, 5)
    (1, 9, 0.02148)
    >>> mcnemar_test([0, 1], [0, 1], [0, 1]).pvalue
    1.0
    """
    y, a, b = _as_paired_arrays(y_true, pred_a, pred_b)
    a_right = a == y
    b_right = b == y
    return mcnemar_from_counts(int(np.sum(a_right & ~b_right)), int(np.sum(b_right & ~a_right)))


def mcnemar_from_counts(a_only: int, b_only: int) -> McNemarResult:
    """The exact McNemar test of :func:`mcnemar_test`, from its two discordant counts.

    For callers that keep running counts instead of predictions (a shadow release reads
    its test after every batch). Under "equally good" the discordant rows are fair coin
    flips, and the two-sided exact binomial test at 1/2 (:func:`scipy.stats.binomtest`)
    is symmetric: twice the smaller tail, in closed form (no search over outcomes).

    >>> round(mcnemar_from_counts(1, 9).pvalue, 5)
    0.02148
    >>> mcnemar_from_counts(4, 4).pvalue, mcnemar_from_counts(0, 0).pvalue
    (1.0, 1.0)
    """
    discordant = a_only + b_only
    if discordant == 0:
        return McNemarResult(statistic=0.0, pvalue=1.0, a_only_correct=0, b_only_correct=0)
    smaller = min(a_only, b_only)
    pvalue = float(2 * binom.cdf(smaller, discordant, 0.5))
    return McNemarResult(statistic=float(smaller), pvalue=min(pvalue, 1.0),
                         a_only_correct=int(a_only), b_only_correct=int(b_only))


#: Most bootstrap resamples: the percentile interval is stable to 3 decimals long
#: before this, and more only makes ``mlcicd compare`` slower (100 million ran for hours).
MAX_RESAMPLES = 100_000


def bootstrap_diff_ci(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    metric: str | Callable[[np.ndarray, np.ndarray], float] = "accuracy",
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapResult:
    """Paired bootstrap percentile interval for ``metric(y, pred_b) - metric(y, pred_a)``.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        True labels.
    pred_a, pred_b : array-like of shape (n,)
        Predictions of the baseline (A) and the candidate (B) on the same rows.
    metric : {"accuracy", "precision", "recall", "f1"} or callable
        Metric to compare, as defined in :func:`mlcicd.metrics.classification_metrics`,
        or a function ``metric(y_true, y_pred) -> float``.
    n_resamples : int
        Number of bootstrap resamples, from 1 to :data:`MAX_RESAMPLES`.
    confidence : float
        Coverage of the interval, strictly between 0 and 1.
    seed : int
        Seed of the :class:`numpy.random.Generator`, in [0, 2**32); the same seed gives
        the same interval.

    Returns
    -------
    BootstrapResult

    Notes
    -----
    Each resample draws ``n`` row indices with replacement and scores *both* models on
    those rows, so the correlation between the models is kept. The interval is the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the resampled
    differences.

    Examples
    --------
    >>> y = [0, 1] * 50
    >>> a = y[:80] + [1 - v for v in y[80:]]     # wrong on the last 20 rows
    >>> b = y[:95] + [1 - v for v in y[95:]]     # wrong on the last 5 rows
    >>> r = bootstrap_diff_ci(y, a, b, n_resamples=500, seed=0)
    >>> round(r.estimate, 2)
    0.15
    >>> 0 < r.low < r.estimate < r.high
    True
    >>> r == bootstrap_diff_ci(y, a, b, n_resamples=500, seed=0)
    True
    """
    y, a, b = _as_paired_arrays(y_true, pred_a, pred_b)
    caller = "bootstrap_diff_ci"
    n_resamples = check(caller, "n_resamples", n_resamples, Integer(1, MAX_RESAMPLES))
    seed = check(caller, "seed", seed, SEED)
    confidence = check(caller, "confidence", confidence, Real(0, 1, closed="neither"))
    score, name = _resolve_metric(metric, y, a, b)
    estimate = float(score(y[None, :], b[None, :])[0] - score(y[None, :], a[None, :])[0])

    rng = np.random.default_rng(seed)
    n = len(y)
    chunk = max(1, _MAX_CELLS // n)
    diffs = np.empty(n_resamples, dtype=float)
    for start in range(0, n_resamples, chunk):
        stop = min(start + chunk, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        diffs[start:stop] = score(y[idx], b[idx]) - score(y[idx], a[idx])
    tail = (1.0 - float(confidence)) / 2.0
    low, high = np.quantile(diffs, [tail, 1.0 - tail])
    return BootstrapResult(
        estimate=estimate,
        low=float(low),
        high=float(high),
        confidence=float(confidence),
        metric=name,
        n_resamples=int(n_resamples),
    )


_RowScorer = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _resolve_metric(
    metric: str | Callable[[np.ndarray, np.ndarray], float],
    y: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
) -> tuple[_RowScorer, str]:
    """A scorer mapping 2-D (resample x row) arrays to one value per resample."""
    if callable(metric):
        return _per_row(metric), getattr(metric, "__name__", "custom")
    if metric not in BOOTSTRAP_METRICS:
        raise InputError(
            f"metric must be one of {', '.join(BOOTSTRAP_METRICS)} or a callable, got {metric!r}"
        )
    if metric == "accuracy":
        return (lambda yt, yp: np.mean(yt == yp, axis=1)), metric
    labels = np.unique(np.concatenate([y, a, b]))
    if len(labels) > 2:
        # Macro averages over several classes: slower, but the one definition we use.
        return _per_row(lambda yt, yp: classification_metrics(yt, yp)[metric]), metric
    positive = labels.max()
    return (lambda yt, yp: _binary_score(metric, yt == positive, yp == positive)), metric


def _binary_score(metric: str, true_pos: np.ndarray, pred_pos: np.ndarray) -> np.ndarray:
    tp = np.sum(true_pos & pred_pos, axis=1).astype(float)
    predicted = np.sum(pred_pos, axis=1).astype(float)
    actual = np.sum(true_pos, axis=1).astype(float)
    # Undefined ratios count as 0, as in mlcicd.metrics (zero_division=0).
    if metric == "precision":
        return np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    if metric == "recall":
        return np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    total = predicted + actual
    return np.divide(2 * tp, total, out=np.zeros_like(tp), where=total > 0)


def _per_row(func: Callable[[np.ndarray, np.ndarray], float]) -> _RowScorer:
    def score(yt: np.ndarray, yp: np.ndarray) -> np.ndarray:
        return np.array([float(func(t, p)) for t, p in zip(yt, yp, strict=True)])

    return score
