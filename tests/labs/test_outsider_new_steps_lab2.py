"""An outsider's answers to the steps added to lab 2 (issue 13): exercises 5, 6 and 7.

Written from the exercise text alone, before reading the authors' corpus: slips a learner
makes (the malignant column, labels for probabilities, ``>=`` at a tie, ``X`` mutated,
``pd.cut`` closed on the right, the notebook's global test rows instead of the ``X``
argument, ``rows * bar`` compared in floating point) and correct answers written unlike
the reference (``.loc`` on a copy, Series arithmetic, ``math.comb``), each run through the
real check as the notebook runs it. Three passed before the checks were tightened: the
global rows in both ``directional_failures`` and ``size_slices`` (the checks now also try
half the rows in reverse order) and ``ceil(bar * rows) - 1`` (a case where
``0.56 * 25`` is ``14.000000000000002``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _corpus import outsider_tests, registrar
from scipy import stats

from mlcicd.datasets import TARGET
from mlcicd.labs.checks_behaviour import BENIGN, TOLERANCE
from mlcicd.labs.testrun import lab_fixtures
from mlcicd.training import split_xy

WRONG: list[tuple[str, object]] = []
RIGHT: list[tuple[str, object]] = []
#: The exercise of each answer, by how its name starts.
EXERCISE_OF = {"directional_": "directional", "slices_": "size_slices",
               "rate_": "point_estimate_fail_rate"}
#: The notebook's own test rows, which a careless answer reads instead of its argument.
NOTEBOOK: dict[str, pd.DataFrame] = {}

wrong, right = registrar(WRONG), registrar(RIGHT)


# === Lab 2, exercise 5: directional_failures ==============================================
def _benign(model, X):
    return model.predict_proba(X)[:, list(model.classes_).index(BENIGN)]


def _rise(model, X, changed):
    return _benign(model, changed) - _benign(model, X)


@wrong
def directional_flags_a_fall(model, X, feature, factor):
    return _rise(model, X, X.assign(**{feature: X[feature] * factor})) < -TOLERANCE


@wrong
def directional_on_labels(model, X, feature, factor):
    before, after = model.predict(X), model.predict(X.assign(**{feature: X[feature] * factor}))
    return (after == BENIGN) & (before != BENIGN)


@wrong
def directional_malignant_column(model, X, feature, factor):
    changed = X.assign(**{feature: X[feature] * factor})
    return model.predict_proba(changed)[:, 0] - model.predict_proba(X)[:, 0] > TOLERANCE


@wrong
def directional_mutates_X(model, X, feature, factor):
    before = _benign(model, X)
    X[feature] = X[feature] * factor
    return _benign(model, X) - before > TOLERANCE


@wrong
def directional_adds_factor(model, X, feature, factor):
    return _rise(model, X, X.assign(**{feature: X[feature] + factor})) > TOLERANCE


@wrong
def directional_returns_row_numbers(model, X, feature, factor):
    return np.flatnonzero(_rise(model, X, X.assign(**{feature: X[feature] * factor}))
                          > TOLERANCE)


@wrong
def directional_scales_every_column(model, X, feature, factor):
    return _rise(model, X, X * factor) > TOLERANCE


@wrong
def directional_fixed_feature_and_factor(model, X, feature, factor):
    return _rise(model, X, X.assign(worst_radius=X["worst_radius"] * 1.1)) > TOLERANCE


@wrong
def directional_equal_fails_too(model, X, feature, factor):
    return _rise(model, X, X.assign(**{feature: X[feature] * factor})) >= -TOLERANCE


@wrong
def directional_any_movement(model, X, feature, factor):
    return np.abs(_rise(model, X, X.assign(**{feature: X[feature] * factor}))) > TOLERANCE


@wrong
def directional_reads_notebook_X(model, X, feature, factor):
    rows = NOTEBOOK["X"]
    return _rise(model, rows, rows.assign(**{feature: rows[feature] * factor})) > TOLERANCE


@right
def directional_copy_and_loc(model, X, feature, factor):
    bigger = X.copy()
    bigger.loc[:, feature] = bigger[feature] * factor
    column = int(np.flatnonzero(model.classes_ == BENIGN)[0])
    return model.predict_proba(bigger)[:, column] - model.predict_proba(X)[:, column] > TOLERANCE


@right
def directional_series(model, X, feature, factor):
    def benign(frame):
        return pd.Series(_benign(model, frame), index=frame.index)
    return benign(X.assign(**{feature: X[feature] * factor})).sub(benign(X)).gt(TOLERANCE)


@right
def directional_row_loop(model, X, feature, factor):
    changed = X.copy()
    changed[feature] = changed[feature] * factor
    pairs = zip(_benign(model, X), _benign(model, changed), strict=True)
    return np.array([after > before + TOLERANCE for before, after in pairs])


# === Lab 2, exercise 6: size_slices =======================================================
def _labels(small):
    return np.where(small, "small", "large")


@wrong
def slices_cut_is_small(X, cut):
    return _labels(X["mean_radius"] <= cut)


@wrong
def slices_on_worst_radius(X, cut):
    return _labels(X["worst_radius"] < cut)


@wrong
def slices_add_a_column(X, cut):
    X["size"] = _labels(X["mean_radius"] < cut)
    return X["size"].to_numpy()


@wrong
def slices_return_the_frame(X, cut):
    return X.assign(size=_labels(X["mean_radius"] < cut))


@wrong
def slices_as_booleans(X, cut):
    return (X["mean_radius"] < cut).to_numpy()


@wrong
def slices_at_the_median(X, cut):
    return _labels(X["mean_radius"] < X["mean_radius"].median())


@wrong
def slices_capitalised(X, cut):
    return np.where(X["mean_radius"] < cut, "Small", "Large")


@wrong
def slices_pd_cut_closed_right(X, cut):
    return pd.cut(X["mean_radius"], [-np.inf, cut, np.inf], labels=["small", "large"])


@wrong
def slices_swapped(X, cut):
    return _labels(X["mean_radius"] >= cut)


@wrong
def slices_read_notebook_X(X, cut):
    return _labels(NOTEBOOK["X"]["mean_radius"] < cut)


@right
def slices_pd_cut_closed_left(X, cut):
    return pd.cut(X["mean_radius"], [-np.inf, cut, np.inf], labels=["small", "large"],
                  right=False)


@right
def slices_series_map(X, cut):
    return X["mean_radius"].lt(cut).map({True: "small", False: "large"})


@right
def slices_list(X, cut):
    return ["large" if radius >= cut else "small" for radius in X["mean_radius"]]


# === Lab 2, exercise 7: point_estimate_fail_rate ==========================================
def _under(n_rows, min_accuracy, compare=np.less):
    correct = np.arange(n_rows + 1)
    return correct[compare(correct / n_rows, min_accuracy)]


@wrong
def rate_cdf_at_floor(n_rows, true_accuracy, min_accuracy):
    return float(stats.binom.cdf(math.floor(min_accuracy * n_rows), n_rows, true_accuracy))


@wrong
def rate_pass_probability(n_rows, true_accuracy, min_accuracy):
    passing = _under(n_rows, min_accuracy, np.greater_equal)
    return float(stats.binom.pmf(passing, n_rows, true_accuracy).sum())


@wrong
def rate_one_count_only(n_rows, true_accuracy, min_accuracy):
    return float(stats.binom.pmf(math.ceil(min_accuracy * n_rows) - 1, n_rows, true_accuracy))


@wrong
def rate_normal_approximation(n_rows, true_accuracy, min_accuracy):
    spread = math.sqrt(true_accuracy * (1 - true_accuracy) / n_rows)
    return float(stats.norm.cdf((min_accuracy - true_accuracy) / spread))


@wrong
def rate_simulated(n_rows, true_accuracy, min_accuracy):
    draws = np.random.default_rng(0).binomial(n_rows, true_accuracy, 100_000)
    return float(np.mean(draws / n_rows < min_accuracy))


@wrong
def rate_bar_as_probability(n_rows, true_accuracy, min_accuracy):
    return float(stats.binom.pmf(_under(n_rows, min_accuracy), n_rows, min_accuracy).sum())


@wrong
def rate_at_bar_fails(n_rows, true_accuracy, min_accuracy):
    under = _under(n_rows, min_accuracy, np.less_equal)
    return float(stats.binom.pmf(under, n_rows, true_accuracy).sum())


@wrong
def rate_in_percent(n_rows, true_accuracy, min_accuracy):
    return 100 * float(stats.binom.pmf(_under(n_rows, min_accuracy), n_rows,
                                       true_accuracy).sum())


@wrong
def rate_int_truncation(n_rows, true_accuracy, min_accuracy):
    return float(stats.binom.cdf(int(min_accuracy * n_rows) - 1, n_rows, true_accuracy))


@wrong
def rate_rows_times_bar(n_rows, true_accuracy, min_accuracy):
    return float(stats.binom.cdf(math.ceil(min_accuracy * n_rows) - 1, n_rows, true_accuracy))


@right
def rate_math_comb(n_rows, true_accuracy, min_accuracy):
    return sum(math.comb(n_rows, k) * true_accuracy ** k * (1 - true_accuracy) ** (n_rows - k)
               for k in range(n_rows + 1) if k / n_rows < min_accuracy)


@right
def rate_cdf_of_largest_failing_count(n_rows, true_accuracy, min_accuracy):
    under = _under(n_rows, min_accuracy)
    return float(stats.binom.cdf(under.max(), n_rows, true_accuracy)) if under.size else 0.0


@right
def rate_one_minus_sf(n_rows, true_accuracy, min_accuracy):
    first_pass = next(k for k in range(n_rows + 1) if k / n_rows >= min_accuracy)
    return 1.0 - float(stats.binom.sf(first_pass - 1, n_rows, true_accuracy))


# === Running them through the checks, as the notebook does ===============================
@pytest.fixture(scope="module")
def fixtures():
    found = lab_fixtures(seed=0, n_estimators=20)
    NOTEBOOK["X"] = split_xy(found["test_df"], TARGET)[0]
    return found


(test_outsider_wrong_answer_to_a_new_lab2_step_gets_not_yet,
 test_outsider_right_answer_to_a_new_lab2_step_passes,
 test_every_new_lab2_step_has_eight_wrong_and_three_right_answers) = outsider_tests(
    WRONG, RIGHT, EXERCISE_OF, fixture="fixtures")
