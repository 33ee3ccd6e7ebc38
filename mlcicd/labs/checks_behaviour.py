"""Self-checks of lab 2's behaviour steps: a directional test, slices, a point-estimate gate.

Each check compares the learner's function with an answer computed here or by
:mod:`mlcicd.behaviour` on several models, features and arguments, so that a wrong
sign, the wrong column, labels instead of probabilities, an ignored argument or an
off-by-one boundary cannot pass by luck on the notebook's one example.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlcicd.behaviour import directional_test, invariance_test, slice_gate
from mlcicd.datasets import TARGET
from mlcicd.labs.checking import CheckResult, answer_of, checker, close, fail, ok, refuse_library
from mlcicd.training import split_xy

__all__ = [
    "BENIGN",
    "TOLERANCE",
    "MirroredFeatureModel",
    "check_directional",
    "check_point_estimate_fail_rate",
    "check_size_slices",
]

#: The class label of a benign tumour in scikit-learn's breast-cancer data.
BENIGN = 1
#: A probability must move by more than this to count as moving (float noise does not).
TOLERANCE = 1e-9

#: (feature, factor) pairs the directional check tries besides the notebook's own.
_DIRECTIONAL_CASES = (("worst_radius", 1.1), ("worst_area", 1.5),
                      ("mean_concavity", 1.05), ("worst_concave_points", 1.2))


class MirroredFeatureModel:
    """A fitted classifier that reads one feature mirrored around its median.

    Built to break a directional expectation on purpose: where the wrapped model learnt
    "larger means less likely benign", this one answers as if a larger value were a
    smaller one, so a directional test must fail it.
    """

    def __init__(self, model: Any, feature: str, centre: float) -> None:
        self.model, self.feature, self.centre = model, feature, float(centre)
        self.classes_ = model.classes_

    def _mirrored(self, X: pd.DataFrame) -> pd.DataFrame:
        return X.assign(**{self.feature: 2 * self.centre - X[self.feature]})

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(self._mirrored(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict(self._mirrored(X))


def _models(model: Any, X: pd.DataFrame, y: pd.Series) -> list[tuple[str, Any]]:
    """The notebook's model, a logistic regression, and that regression mirrored."""
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    return [("the lab's model", model), ("a logistic regression", linear),
            ("a model built to break the direction on worst_area",
             MirroredFeatureModel(linear, "worst_area", float(X["worst_area"].median())))]


def _expected_mask(model: Any, X: pd.DataFrame, feature: str, factor: float) -> np.ndarray:
    result = directional_test(model, X, lambda d: d.assign(**{feature: d[feature] * factor}),
                              name=feature, expect="decrease", positive_class=BENIGN,
                              tolerance=TOLERANCE)
    return X.index.isin(result.failures.index)


def _as_mask(answer: Any, n_rows: int) -> np.ndarray | None:
    mask = np.asarray(answer)
    if mask.shape != (n_rows,) or mask.dtype != bool:
        return None
    return mask


def _diagnosis(model: Any, X: pd.DataFrame, feature: str, factor: float,
               mask: np.ndarray) -> str:
    """Name the mistake when the learner's mask matches a known wrong variant."""
    column = list(model.classes_).index(BENIGN)
    before = model.predict_proba(X)[:, column]
    after = model.predict_proba(X.assign(**{feature: X[feature] * factor}))[:, column]
    labels_before, labels_after = model.predict(X), model.predict(X.assign(
        **{feature: X[feature] * factor}))
    variants = {
        "you flag rows whose probability of benign goes DOWN: a larger tumour must not "
        "look more benign, so flag the rows where it goes up": after - before < -TOLERANCE,
        "you flag rows whose probability did not move at all: staying equal is allowed "
        "(a tree may not react to a small change), only a rise of more than TOLERANCE "
        "fails": after - before >= -TOLERANCE,
        "you compare predicted labels; the expectation is about the probability of "
        "benign (predict_proba), which can rise without the label changing":
            (labels_after == BENIGN) & (labels_before != BENIGN),
    }
    for hint, variant in variants.items():
        if variant.any() and np.array_equal(mask, variant):
            return hint
    return ("compare the probability of benign before and after multiplying `feature` by "
            "`factor` (all other columns unchanged) and flag the rows where it rises by more "
            "than TOLERANCE")


@checker
def check_directional(directional_failures: Callable[..., Any], *, model: Any,
                      test_df: pd.DataFrame, feature: str = "worst_radius",
                      factor: float = 1.1) -> CheckResult:
    """Pass when ``directional_failures`` flags exactly the rows the library flags.

    Tried on the lab's model, a logistic regression and a model built to break the
    direction, for the notebook's (``feature``, ``factor``) and four other pairs.
    """
    refuse_library(directional_failures, {"directional_test": directional_test,
                                          "invariance_test": invariance_test},
                   "the directional check")
    X, y = split_xy(test_df, TARGET)
    cases = list(dict.fromkeys([(feature, factor), *_DIRECTIONAL_CASES]))
    flagged_on_mirror = 0
    for label, candidate in _models(model, X, y):
        for column, times in cases:
            given = X.copy()
            answer = answer_of(directional_failures, candidate, given, column, times)
            if not given.equals(X):
                return fail("`directional_failures` changed the frame it was given: perturb a "
                            "copy (X.assign(...) or X.copy()), or every later test sees "
                            "altered data.")
            mask = _as_mask(answer, len(X))
            if mask is None:
                return fail(f"`directional_failures` should return one bool per row "
                            f"({len(X)}), got {type(answer).__name__} of shape "
                            f"{np.shape(answer)}")
            wanted = _expected_mask(candidate, X, column, times)
            if not np.array_equal(mask, wanted):
                return fail(f"on {label}, {column} x {times}: you flag {int(mask.sum())} rows, "
                            f"the library {int(wanted.sum())}; "
                            + _diagnosis(candidate, X, column, times, mask) + ".")
            if label.startswith("a model built"):
                flagged_on_mirror = max(flagged_on_mirror, int(mask.sum()))
    part = X.iloc[::-2]  # half the rows, reversed: an answer must read the X it is given
    mask = _as_mask(answer_of(directional_failures, model, part.copy(), feature, factor),
                    len(part))
    if mask is None or not np.array_equal(mask, _expected_mask(model, part, feature, factor)):
        return fail(f"given {len(part)} of the rows in another order, your answer does not "
                    "match them row by row: use the `X` you are given, not the notebook's "
                    "test set.")
    return ok(f"your check agrees with the library row by row on 3 models and {len(cases)} "
              f"changes, and catches the model built to break the direction "
              f"(up to {flagged_on_mirror} of {len(X)} rows).")


def _reference_slices(X: pd.DataFrame, cut: float) -> np.ndarray:
    return np.where(X["mean_radius"].to_numpy() < cut, "small", "large")


@checker
def check_size_slices(size_slices: Callable[[pd.DataFrame, float], Any], *,
                      test_df: pd.DataFrame | None = None) -> CheckResult:
    """Pass when ``size_slices`` labels rows "small"/"large" by ``mean_radius < cut``.

    Tried with cuts that fall exactly on a value of the data (the boundary belongs to
    "large"), on the notebook's test rows or on a fixed frame.
    """
    refuse_library(size_slices, {"slice_gate": slice_gate}, "the slices")
    if test_df is None:
        radius = np.round(np.linspace(7.0, 25.0, 61), 2)
        X = pd.DataFrame({"mean_radius": radius, "worst_radius": radius[::-1] * 1.2})
    else:
        X, _ = split_xy(test_df, TARGET)
    values = np.sort(X["mean_radius"].unique())
    cuts = [float(np.median(values)), float(values[len(values) // 4]), 15.0,
            float(values[-1]) + 1.0]
    for cut in cuts:
        given = X.copy()
        labels = answer_of(size_slices, given, cut)
        if not given.equals(X):
            return fail("`size_slices` changed the frame it was given (did it add a column?): "
                        "return the labels, leave X as it is.")
        labels = np.asarray(labels, dtype=object)
        if labels.shape != (len(X),):
            return fail(f"`size_slices` should return one label per row ({len(X)}), got "
                        f"shape {labels.shape}")
        wanted = _reference_slices(X, cut)
        if not np.array_equal(labels.astype(str), wanted):
            on_cut = X["mean_radius"].to_numpy() == cut
            wrong = labels.astype(str) != wanted
            if wrong.any() and on_cut[wrong].all():
                return fail(f"rows whose mean_radius equals the cut ({cut}) are not 'large': "
                            "the rule is mean_radius < cut for 'small', so the cut itself is "
                            "'large'.")
            if not set(labels.astype(str)) <= {"small", "large"}:
                return fail(f"labels should be 'small' or 'large', got "
                            f"{sorted(set(labels.astype(str)))[:4]}")
            return fail(f"with cut {cut}, {int(wrong.sum())} rows get the wrong label: slice "
                        "on mean_radius (not worst_radius) and use the `cut` you are given.")
    part = X.iloc[::-2]  # half the rows, reversed: an answer must read the X it is given
    labels = np.asarray(answer_of(size_slices, part.copy(), cuts[0]), dtype=object)
    if labels.shape != (len(part),) or not np.array_equal(labels.astype(str),
                                                           _reference_slices(part, cuts[0])):
        return fail(f"given {len(part)} of the rows in another order, your labels do not match "
                    "them: label the rows of the `X` you are given, not the notebook's test set.")
    return ok(f"your slices match the rule for {len(cuts)} cuts, boundary values included.")


#: (rows in the slice, its true accuracy, the minimum accuracy) tried by the check.
#: (25, 0.6, 0.56) is at the bar too, but 0.56 * 25 is 14.000000000000002 in floating point:
#: counting correct rows < rows * bar there fails a slice whose accuracy equals the bar.
_RATE_CASES = ((20, 0.95, 0.9), (10, 0.9, 0.9), (36, 0.97, 0.9), (50, 0.93, 0.93),
               (143, 0.95, 0.9), (7, 0.99, 0.8), (25, 0.6, 0.5), (25, 0.6, 0.56))


def _reference_rate(n_rows: int, true_accuracy: float, min_accuracy: float) -> float:
    """Sum of the binomial probabilities of every count whose accuracy is under the bar."""
    counts = np.arange(n_rows + 1)
    under = counts / n_rows < min_accuracy
    return float(stats.binom.pmf(counts[under], n_rows, true_accuracy).sum())


@checker
def check_point_estimate_fail_rate(point_estimate_fail_rate: Callable[[int, float, float], Any],
                                   ) -> CheckResult:
    """Pass when the learner's exact false-fail rate of the point-estimate rule is right.

    The rule fails a slice whose observed accuracy (correct / rows) is under the bar;
    the answer must be the exact binomial probability, to 1e-6, for slices from 7 to
    143 rows, including ones where the bar is hit exactly (``10`` rows, ``0.9``).
    """
    refuse_library(point_estimate_fail_rate, {"slice_gate": slice_gate}, "the rate")
    for n_rows, true_accuracy, min_accuracy in _RATE_CASES:
        answer = answer_of(point_estimate_fail_rate, n_rows, true_accuracy, min_accuracy)
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return fail(f"`point_estimate_fail_rate` should return a probability, got "
                        f"{type(answer).__name__}")
        wanted = _reference_rate(n_rows, true_accuracy, min_accuracy)
        if not close(value, wanted, rel=1e-6, abs_tol=1e-12):
            at_bar = _reference_rate(n_rows, true_accuracy, min_accuracy + 1e-12)
            hint = ("a slice exactly at the bar (correct / rows == min_accuracy) passes: count "
                    "only accuracies strictly under it" + (
                        f" (compare correct / rows with the bar: rows x bar is "
                        f"{n_rows * min_accuracy!r} in floating point)"
                        if n_rows * min_accuracy != round(n_rows * min_accuracy) else "")
                    if close(value, at_bar) else
                    "sum the binomial probabilities (n_rows, true_accuracy) of every count of "
                    "correct rows whose accuracy is under min_accuracy (exactly, no simulation "
                    "or normal approximation)")
            return fail(f"for {n_rows} rows, true accuracy {true_accuracy}, bar {min_accuracy}: "
                        f"you give {value:.6g}, the exact rate is {wanted:.6g}; {hint}.")
    return ok(f"your rate is exact on {len(_RATE_CASES)} slices from 7 to 143 rows, "
              "including slices exactly at the bar.")
