"""Monitoring before the labels arrive: prediction drift and estimated accuracy.

Labels often come days or weeks after a prediction (a diagnosis is confirmed, a loan is
repaid or not). Until then two signals are available from the model's own outputs:

* **prediction drift** (:func:`prediction_drift`): the distribution of the model's scores
  and the share of each predicted class, compared with a reference period. It moves when
  the inputs move in a way the model cares about.
* **confidence-based performance estimation** (:class:`ConfidenceBasedEstimator`): when
  the model's probabilities are calibrated, the probability it gives to the class it
  predicts is the chance that the prediction is right, so the mean of those probabilities
  estimates the accuracy (the idea behind NannyML's CBPE). The estimator first learns, on
  labelled reference data, how confidence maps to the observed chance of being right
  (isotonic regression), so a badly calibrated model can still be used.

Both rest on one assumption: the link between inputs and labels, ``P(y | x)``, is the one
seen in the reference period. Under concept drift the inputs, the scores and therefore
both signals stay where they were while the accuracy falls: only labels can reveal it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.isotonic import IsotonicRegression

from mlcicd.boundaries import clopper_pearson
from mlcicd.drift.categorical import ChiSquared
from mlcicd.drift.ks import KolmogorovSmirnov
from mlcicd.errors import InputError
from mlcicd.params import Integer, Real, check

__all__ = [
    "ConfidenceBasedEstimator",
    "PerformanceEstimate",
    "PredictionDrift",
    "as_probabilities",
    "first_alarms",
    "monitoring_timeline",
    "prediction_drift",
]


def as_probabilities(probabilities: Any, argument: str = "probabilities") -> np.ndarray:
    """Check a ``predict_proba`` output and return it as an ``(n, k)`` float array.

    A one-dimensional input is read as the probability of the second class of two.

    >>> as_probabilities([0.9, 0.2]).tolist()
    [[0.09999999999999998, 0.9], [0.8, 0.2]]
    >>> as_probabilities([[0.5, 0.7]])
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: probabilities: every row must sum to 1 (row 0 sums to 1.2)
    """
    try:
        array = np.asarray(probabilities, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{argument}: expected numbers between 0 and 1") from None
    if array.ndim == 1:
        array = np.column_stack([1.0 - array, array])
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] < 2:
        raise InputError(f"{argument}: expected an (n rows, k >= 2 classes) array, "
                         f"got shape {np.shape(probabilities)}")
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise InputError(f"{argument}: every value must be a finite number in [0, 1]")
    sums = array.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
    if bad.size:
        raise InputError(f"{argument}: every row must sum to 1 "
                         f"(row {bad[0]} sums to {sums[bad[0]]:.3g})")
    return array


@dataclass(frozen=True)
class PerformanceEstimate:
    """Estimated accuracy of a batch whose labels are not known yet.

    ``low`` and ``high`` bound the accuracy the batch would show *if the reference
    calibration still holds*: they cover the luck of which rows turn out right, not a
    change of the world (see :class:`ConfidenceBasedEstimator`).
    """

    estimate: float
    low: float
    high: float
    n: int
    alpha: float

    def below(self, threshold: float) -> bool:
        """True when even the upper end of the interval is under ``threshold``."""
        return self.high < threshold

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "n": self.n,
                "alpha": self.alpha}


class ConfidenceBasedEstimator:
    """Estimate a classifier's accuracy from its probabilities alone.

    Parameters
    ----------
    alpha : float
        The interval of each estimate is a ``1 - alpha`` interval.

    Attributes
    ----------
    reference_accuracy_ : float
        Accuracy observed on the labelled reference data given to :meth:`fit`.
    calibration_ : IsotonicRegression
        The learned map from confidence (highest class probability) to the observed
        chance of being right.

    Notes
    -----
    Each row's prediction is right with probability :math:`c_i = g(\\max_k p_{ik})`,
    where :math:`g` is the calibration map, so the batch's expected accuracy is
    :math:`\\bar c` and the number right is a sum of independent Bernoulli draws with
    variance :math:`\\sum c_i (1 - c_i)` (normal interval). This is only true while
    ``P(y | x)`` is unchanged: under concept drift the estimate stays at the reference
    level while the real accuracy falls, and under a shift into regions the reference
    never covered the calibration is extrapolated and the drop is underestimated.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.5, 1.0, 4000)                 # confidence of the predicted class
    >>> right = rng.random(4000) < p                     # a perfectly calibrated model
    >>> proba = np.column_stack([1 - p, p])
    >>> estimator = ConfidenceBasedEstimator().fit(proba, np.where(right, 1, 0))
    >>> round(estimator.reference_accuracy_, 2)
    0.75
    >>> result = estimator.estimate(np.column_stack([1 - p[:500], p[:500]]))
    >>> bool(result.low < 0.75 < result.high)
    True

    References
    ----------
    NannyML documentation, "Confidence-based performance estimation (CBPE)".
    Guo, C., Pleiss, G., Sun, Y. & Weinberger, K. Q. (2017). On calibration of modern
    neural networks. ICML.
    """

    def __init__(self, alpha: float = 0.05) -> None:
        self.alpha = check("ConfidenceBasedEstimator", "alpha", alpha,
                           Real(0, 0.5, closed="neither"))

    def fit(self, probabilities: Any, labels: Any, *, classes: Any = None
            ) -> ConfidenceBasedEstimator:
        """Learn how confidence maps to being right, on labelled reference data.

        ``classes`` lists the label of each probability column (a model's ``classes_``);
        by default the columns are the labels ``0 .. k-1``.
        """
        proba = as_probabilities(probabilities)
        truth = np.asarray(labels)
        if truth.shape != (proba.shape[0],):
            raise InputError(f"labels: expected {proba.shape[0]} labels, one per row of "
                             f"probabilities, got shape {truth.shape}")
        names = np.arange(proba.shape[1]) if classes is None else np.asarray(classes)
        if names.shape != (proba.shape[1],):
            raise InputError(f"classes: expected {proba.shape[1]} labels, one per column")
        unknown = set(truth.tolist()) - set(names.tolist())
        if unknown:
            raise InputError(f"labels: {sorted(map(str, unknown))[:3]} are not among the "
                             f"classes {names.tolist()}")
        correct = names[proba.argmax(axis=1)] == truth
        self.calibration_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        self.calibration_.fit(proba.max(axis=1), correct.astype(float))
        self.reference_accuracy_ = float(correct.mean())
        return self

    def row_confidence(self, probabilities: Any) -> np.ndarray:
        """Calibrated chance that each row's prediction is right."""
        if not hasattr(self, "calibration_"):
            raise InputError("the estimator is not fitted: call fit() on labelled data first")
        proba = as_probabilities(probabilities)
        return np.clip(self.calibration_.predict(proba.max(axis=1)), 0.0, 1.0)

    def estimate(self, probabilities: Any) -> PerformanceEstimate:
        """Estimated accuracy of a batch, with a ``1 - alpha`` interval."""
        confidence = self.row_confidence(probabilities)
        n = confidence.size
        mean = float(confidence.mean())
        half = stats.norm.ppf(1 - self.alpha / 2) * np.sqrt(
            np.sum(confidence * (1 - confidence))) / n
        return PerformanceEstimate(estimate=mean, low=max(0.0, mean - half),
                                   high=min(1.0, mean + half), n=n, alpha=self.alpha)


@dataclass(frozen=True)
class PredictionDrift:
    """How the model's outputs moved between a reference period and now.

    ``score_*`` compare the distributions of the top-class probability (KS test);
    ``class_*`` compare the counts of each predicted class (chi-squared test).
    """

    score_statistic: float
    score_pvalue: float
    class_statistic: float
    class_pvalue: float
    reference_shares: dict[str, float]
    current_shares: dict[str, float]

    def drifted(self, alpha: float = 0.05) -> bool:
        """Either test rejects "no change" at level ``alpha / 2`` (Bonferroni over two)."""
        return min(self.score_pvalue, self.class_pvalue) < alpha / 2

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"statistic": [self.score_statistic, self.class_statistic],
             "pvalue": [self.score_pvalue, self.class_pvalue]},
            index=pd.Index(["confidence (KS)", "predicted class (chi-squared)"], name="test"),
        )


def prediction_drift(reference: Any, current: Any, *, classes: Any = None) -> PredictionDrift:
    """Compare two batches of ``predict_proba`` outputs of the same model.

    >>> rng = np.random.default_rng(1)
    >>> before = rng.uniform(0, 1, 1000)
    >>> after = np.clip(before + 0.2, 0, 1)              # the model now says "1" more often
    >>> result = prediction_drift(before, after)
    >>> result.drifted(), round(result.current_shares["1"] - result.reference_shares["1"], 2)
    (True, 0.2)
    """
    ref = as_probabilities(reference, "reference")
    cur = as_probabilities(current, "current")
    if ref.shape[1] != cur.shape[1]:
        raise InputError(f"current: {cur.shape[1]} probability columns, the reference "
                         f"has {ref.shape[1]}")
    names = [str(c) for c in (range(ref.shape[1]) if classes is None else classes)]
    if len(names) != ref.shape[1]:
        raise InputError(f"classes: expected {ref.shape[1]} labels, one per column")
    score = KolmogorovSmirnov().test(ref.max(axis=1), cur.max(axis=1))
    ref_class = np.asarray(names, dtype=object)[ref.argmax(axis=1)]
    cur_class = np.asarray(names, dtype=object)[cur.argmax(axis=1)]
    counts = ChiSquared().test(ref_class, cur_class)
    return PredictionDrift(
        score_statistic=score.statistic, score_pvalue=float(score.pvalue),
        class_statistic=counts.statistic, class_pvalue=float(counts.pvalue),
        reference_shares={n: float(np.mean(ref_class == n)) for n in names},
        current_shares={n: float(np.mean(cur_class == n)) for n in names},
    )


def monitoring_timeline(model: Any, estimator: ConfidenceBasedEstimator, reference: Any,
                        X: pd.DataFrame, y: Any, *, rows_per_day: int, label_delay: int,
                        min_accuracy: float, alpha: float = 0.01) -> pd.DataFrame:
    """Day by day, what each signal says about a stream, and on which day it is known.

    The stream ``X, y`` is cut into days of ``rows_per_day`` rows. For each day:

    * ``accuracy`` (the truth) becomes known ``label_delay`` days later
      (``labels_known_on``); its alarm fires when the one-sided ``1 - alpha``
      Clopper-Pearson upper bound of the day's accuracy is under ``min_accuracy``;
    * ``estimate`` (:class:`ConfidenceBasedEstimator`) is known the same day; its alarm
      fires when the upper end of its interval is under ``min_accuracy``;
    * ``prediction_pvalue`` (:func:`prediction_drift` against ``reference``, the
      reference period's ``predict_proba``) is known the same day; its alarm fires when
      :meth:`PredictionDrift.drifted` at level ``alpha`` says so.

    Each alarm is a test at a fixed level per day, so over ``D`` undrifted days expect
    about ``D * alpha`` false alarms from the label and prediction-drift rules.
    """
    rows_per_day = check("monitoring_timeline", "rows_per_day", rows_per_day, Integer(low=1))
    label_delay = check("monitoring_timeline", "label_delay", label_delay, Integer(low=0))
    truth = np.asarray(y)
    if len(truth) != len(X) or len(X) < rows_per_day:
        raise InputError("X and y must have one length, at least one day of rows")
    classes = np.asarray(model.classes_)
    rows = []
    for day in range(len(X) // rows_per_day):
        part = slice(day * rows_per_day, (day + 1) * rows_per_day)
        proba = model.predict_proba(X.iloc[part])
        right = int(np.sum(classes[proba.argmax(axis=1)] == truth[part]))
        upper = float(clopper_pearson(right, rows_per_day, alpha)[1])
        estimate = estimator.estimate(proba)
        drift = prediction_drift(reference, proba, classes=classes)
        rows.append({
            "day": day, "accuracy": right / rows_per_day, "labels_known_on": day + label_delay,
            "label_alarm": upper < min_accuracy, "estimate": estimate.estimate,
            "estimate_high": estimate.high, "estimate_alarm": estimate.below(min_accuracy),
            "prediction_pvalue": min(drift.score_pvalue, drift.class_pvalue),
            "prediction_alarm": drift.drifted(alpha),
        })
    return pd.DataFrame(rows).set_index("day")


def first_alarms(timeline: pd.DataFrame, *, after: int = 0) -> dict[str, float]:
    """The first day, at or after ``after``, on which each signal *knows* of a problem.

    A label alarm about day ``d`` is known on ``labels_known_on``; the two label-free
    signals on the day itself. NaN when a signal never fires.

    >>> t = pd.DataFrame({"labels_known_on": [5, 6, 7], "label_alarm": [False, True, True],
    ...                   "estimate_alarm": [False, False, False],
    ...                   "prediction_alarm": [False, True, True]}, index=[0, 1, 2])
    >>> first_alarms(t)
    {'labels': 6.0, 'estimated accuracy': nan, 'prediction drift': 1.0}
    """
    late = timeline[timeline.index >= after]
    known = {
        "labels": late.loc[late["label_alarm"], "labels_known_on"],
        "estimated accuracy": pd.Series(late.index[late["estimate_alarm"]], dtype=float),
        "prediction drift": pd.Series(late.index[late["prediction_alarm"]], dtype=float),
    }
    return {name: float(days.min()) if len(days) else float("nan")
            for name, days in known.items()}
