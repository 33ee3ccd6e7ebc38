"""Paired statistics: McNemar's exact test and the paired bootstrap interval."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, binomtest
from sklearn.metrics import f1_score, precision_score, recall_score

from mlcicd.errors import InputError
from mlcicd.stats import BootstrapResult, McNemarResult, bootstrap_diff_ci, mcnemar_test


def _pairs(both_right: int, a_only: int, b_only: int, both_wrong: int):
    """Labels and two prediction vectors with the given agreement table."""
    y = np.ones(both_right + a_only + b_only + both_wrong, dtype=int)
    a = np.concatenate([[1] * both_right, [1] * a_only, [0] * b_only, [0] * both_wrong])
    b = np.concatenate([[1] * both_right, [0] * a_only, [1] * b_only, [0] * both_wrong])
    return y, a, b


def test_mcnemar_matches_the_hand_computed_binomial_tail():
    y, a, b = _pairs(both_right=30, a_only=1, b_only=9, both_wrong=5)
    result = mcnemar_test(y, a, b)
    assert (result.a_only_correct, result.b_only_correct) == (1, 9)
    assert result.pvalue == pytest.approx(2 * binom.cdf(1, 10, 0.5))
    assert result.pvalue == pytest.approx(0.021484375)
    assert result.statistic == 1
    assert result.significant()


@pytest.mark.parametrize(("a_only", "b_only"), [(3, 4), (0, 6), (12, 2), (7, 7), (1, 0)])
def test_mcnemar_agrees_with_scipy_binomtest(a_only, b_only):
    y, a, b = _pairs(20, a_only, b_only, 3)
    result = mcnemar_test(y, a, b)
    assert result.pvalue == pytest.approx(binomtest(b_only, a_only + b_only, 0.5).pvalue)


def test_mcnemar_is_symmetric_in_the_two_models():
    y, a, b = _pairs(10, 2, 8, 0)
    forward, backward = mcnemar_test(y, a, b), mcnemar_test(y, b, a)
    assert forward.pvalue == backward.pvalue
    assert (forward.a_only_correct, forward.b_only_correct) == (
        backward.b_only_correct,
        backward.a_only_correct,
    )


def test_models_that_never_disagree_give_pvalue_one():
    y, a, b = _pairs(10, 0, 0, 4)
    result = mcnemar_test(y, a, b)
    assert result.pvalue == 1.0
    assert result.discordant == 0
    assert "same rows" in result.interpret()


def test_only_correctness_matters_not_which_wrong_class():
    y = np.array([0, 1, 2, 2])
    a = np.array([1, 1, 0, 2])  # wrong on row 0 and 2
    b = np.array([2, 1, 1, 2])  # wrong on the same rows, with other wrong labels
    assert mcnemar_test(y, a, b).discordant == 0


def test_interpretation_names_the_better_model_only_when_significant():
    y, a, b = _pairs(30, 1, 9, 5)
    text = mcnemar_test(y, a, b).interpret(names=("baseline", "candidate"))
    assert "candidate is very likely better" in text
    y, a, b = _pairs(30, 3, 4, 5)
    text = mcnemar_test(y, a, b).interpret(names=("baseline", "candidate"))
    assert "consistent with chance" in text


def test_results_are_frozen():
    result = mcnemar_test([1, 0], [1, 0], [1, 1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.pvalue = 0.0  # type: ignore[misc]
    assert isinstance(result, McNemarResult)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (([1, 0, 1], [1, 0], [1, 0, 1]), "pred_a"),
        (([1, 0, 1], [1, 0, 1], [1]), "pred_b"),
        (([], [], []), "y_true"),
        (([[1, 0]], [[1, 0]], [[1, 0]]), "y_true"),
    ],
)
def test_mismatched_or_empty_inputs_name_the_argument(args, named):
    with pytest.raises(InputError, match=named):
        mcnemar_test(*args)
    with pytest.raises(InputError, match=named):
        bootstrap_diff_ci(*args)


def test_bootstrap_interval_is_reproducible_for_a_seed_and_changes_with_it():
    y, a, b = _pairs(60, 5, 12, 3)
    first = bootstrap_diff_ci(y, a, b, n_resamples=1000, seed=7)
    assert first == bootstrap_diff_ci(y, a, b, n_resamples=1000, seed=7)
    assert first != bootstrap_diff_ci(y, a, b, n_resamples=1000, seed=8)


def test_bootstrap_estimate_is_the_observed_difference_and_lies_in_the_interval():
    y, a, b = _pairs(60, 5, 12, 3)
    result = bootstrap_diff_ci(y, a, b, n_resamples=2000, seed=0)
    assert isinstance(result, BootstrapResult)
    assert result.estimate == pytest.approx((12 - 5) / 80)
    assert result.low <= result.estimate <= result.high
    assert result.confidence == 0.95
    assert result.metric == "accuracy"


def test_identical_models_give_a_degenerate_interval_at_zero():
    y, a, _ = _pairs(20, 5, 0, 5)
    result = bootstrap_diff_ci(y, a, a.copy(), n_resamples=200)
    assert (result.estimate, result.low, result.high) == (0.0, 0.0, 0.0)
    assert result.contains_zero


def test_a_clearly_better_model_has_an_interval_above_zero():
    y, a, b = _pairs(100, 2, 30, 0)
    result = bootstrap_diff_ci(y, a, b, n_resamples=2000, seed=0)
    assert result.low > 0
    assert not result.contains_zero


def test_bootstrap_agrees_with_scipy_paired_percentile_bootstrap():
    from scipy.stats import bootstrap

    y, a, b = _pairs(50, 6, 14, 10)
    ours = bootstrap_diff_ci(y, a, b, n_resamples=4000, seed=1)

    def diff(yt, pa, pb, axis=-1):
        return np.mean(pb == yt, axis=axis) - np.mean(pa == yt, axis=axis)

    theirs = bootstrap(
        (y, a, b), diff, paired=True, n_resamples=4000, method="percentile",
        rng=np.random.default_rng(1),
    ).confidence_interval
    # Different random draws: the two intervals agree to Monte Carlo precision.
    assert ours.low == pytest.approx(theirs.low, abs=0.02)
    assert ours.high == pytest.approx(theirs.high, abs=0.02)


def test_wider_confidence_gives_a_wider_interval():
    y, a, b = _pairs(60, 5, 12, 3)
    narrow = bootstrap_diff_ci(y, a, b, confidence=0.8, seed=0)
    wide = bootstrap_diff_ci(y, a, b, confidence=0.99, seed=0)
    assert wide.low <= narrow.low and narrow.high <= wide.high


@pytest.mark.parametrize(
    ("metric", "reference"),
    [("precision", precision_score), ("recall", recall_score), ("f1", f1_score)],
)
def test_other_metrics_use_the_same_definition_as_sklearn(metric, reference):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 120)
    a = np.where(rng.random(120) < 0.8, y, 1 - y)
    b = np.where(rng.random(120) < 0.9, y, 1 - y)
    result = bootstrap_diff_ci(y, a, b, metric=metric, n_resamples=300)
    expected = reference(y, b) - reference(y, a)
    assert result.estimate == pytest.approx(expected)
    assert result.low <= result.high
    assert result.metric == metric


def test_a_callable_metric_is_accepted():
    y, a, b = _pairs(30, 2, 6, 2)

    def error_rate(yt, yp):
        return float(np.mean(yt != yp))

    result = bootstrap_diff_ci(y, a, b, metric=error_rate, n_resamples=100)
    assert result.estimate == pytest.approx(-4 / 40)
    assert result.metric == "error_rate"


def test_multiclass_f1_is_the_macro_average():
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    a = np.array([0, 1, 1, 0, 1, 2, 0, 2, 2, 2])
    b = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 1])
    result = bootstrap_diff_ci(y, a, b, metric="f1", n_resamples=50)
    expected = f1_score(y, b, average="macro") - f1_score(y, a, average="macro")
    assert result.estimate == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"metric": "auc"}, "metric"),
        ({"n_resamples": 0}, "n_resamples"),
        ({"n_resamples": 2.5}, "n_resamples"),
        ({"confidence": 1.0}, "confidence"),
        ({"confidence": 0}, "confidence"),
    ],
)
def test_bad_bootstrap_parameters_name_the_parameter(kwargs, named):
    with pytest.raises(InputError, match=named):
        bootstrap_diff_ci([1, 0], [1, 0], [1, 1], **kwargs)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 1)),
             min_size=1, max_size=60),
    st.integers(0, 2**32 - 1),
)
def test_any_paired_predictions_give_a_valid_pvalue_and_interval(rows, seed):
    y, a, b = (np.array(column) for column in zip(*rows, strict=True))
    test = mcnemar_test(y, a, b)
    assert 0.0 < test.pvalue <= 1.0
    assert test.a_only_correct + test.b_only_correct <= len(y)
    ci = bootstrap_diff_ci(y, a, b, n_resamples=50, seed=seed)
    assert -1.0 <= ci.low <= ci.high <= 1.0
    assert -1.0 <= ci.estimate <= 1.0
