"""Monitoring before labels: the accuracy estimate and prediction drift do what they say,
and fail where the module says they fail (concept drift)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression

from mlcicd.drift.estimate import ConfidenceBasedEstimator, as_probabilities, prediction_drift
from mlcicd.drift.simulate import make_drifted, reference_data
from mlcicd.errors import InputError

TRIALS = 300


def _calibrated_batch(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    confidence = rng.uniform(0.55, 1.0, n)
    right = rng.random(n) < confidence
    return np.column_stack([1 - confidence, confidence]), np.where(right, 1, 0)


def test_interval_covers_the_batch_accuracy_of_a_calibrated_model():
    rng = np.random.default_rng(11)
    estimator = ConfidenceBasedEstimator(alpha=0.05).fit(*_calibrated_batch(rng, 5000))
    covered = 0
    for _ in range(TRIALS):
        proba, labels = _calibrated_batch(rng, 400)
        accuracy = float(np.mean(proba.argmax(axis=1) == labels))
        result = estimator.estimate(proba)
        covered += result.low <= accuracy <= result.high
    # Nominal coverage 95 %: the observed rate must not be credibly below 90 %.
    assert binomtest(covered, TRIALS).proportion_ci(0.95).low >= 0.90


@pytest.fixture(scope="module")
def linear_world():
    X, y = reference_data(n=3000, seed=1)
    model = LogisticRegression().fit(X, y)
    X_ref, y_ref = reference_data(n=2000, seed=2)
    estimator = ConfidenceBasedEstimator().fit(model.predict_proba(X_ref), y_ref,
                                               classes=model.classes_)
    return model, estimator


def test_estimate_is_blind_to_concept_drift(linear_world):
    model, estimator = linear_world
    X, y = make_drifted("concept", 0.8, n=2000, seed=5)
    real = float(np.mean(model.predict(X) == y))
    estimated = estimator.estimate(model.predict_proba(X)).estimate
    assert real < 0.75
    assert estimated == pytest.approx(estimator.reference_accuracy_, abs=0.02)
    assert not prediction_drift(model.predict_proba(X[:1000]),
                                model.predict_proba(X[1000:])).drifted()


def test_estimate_follows_a_prior_shift_it_can_see(linear_world):
    model, estimator = linear_world
    X, y = make_drifted("prior", 1.0, n=2000, seed=6)
    real = float(np.mean(model.predict(X) == y))
    result = estimator.estimate(model.predict_proba(X))
    assert abs(result.estimate - real) < 0.02


def test_prediction_drift_false_alarm_rate_is_at_most_alpha():
    rng = np.random.default_rng(3)
    alarms = sum(
        prediction_drift(rng.uniform(0, 1, 300), rng.uniform(0, 1, 300)).drifted(0.05)
        for _ in range(TRIALS)
    )
    assert binomtest(alarms, TRIALS).proportion_ci(0.95).low <= 0.05


def test_prediction_drift_sees_a_model_that_says_yes_more_often():
    rng = np.random.default_rng(4)
    detected = sum(
        prediction_drift(rng.uniform(0, 1, 300),
                         np.clip(rng.uniform(0, 1, 300) + 0.15, 0, 1)).drifted(0.05)
        for _ in range(TRIALS)
    )
    assert binomtest(detected, TRIALS).proportion_ci(0.95).low >= 0.8


def test_shares_name_each_class():
    result = prediction_drift([[0.9, 0.1], [0.2, 0.8]], [[0.3, 0.7]], classes=["no", "yes"])
    assert result.reference_shares == {"no": 0.5, "yes": 0.5}
    assert result.current_shares == {"no": 0.0, "yes": 1.0}
    assert list(result.to_frame().columns) == ["statistic", "pvalue"]


@pytest.mark.parametrize("bad, message", [
    ([[0.5, 0.7]], "sum to 1"),
    ([[1.5, -0.5]], r"\[0, 1\]"),
    ([[float("nan"), 1.0]], "finite"),
    ([], "shape"),
    ("abc", "numbers"),
])
def test_bad_probabilities_are_named(bad, message):
    with pytest.raises(InputError, match=message):
        as_probabilities(bad)


def test_labels_must_match_rows_and_classes():
    estimator = ConfidenceBasedEstimator()
    with pytest.raises(InputError, match="one per row"):
        estimator.fit([[0.2, 0.8]], [1, 0])
    with pytest.raises(InputError, match="not among the classes"):
        estimator.fit([[0.2, 0.8]], ["cat"])
    with pytest.raises(InputError, match="not fitted"):
        estimator.estimate([[0.2, 0.8]])
    with pytest.raises(InputError, match="alpha"):
        ConfidenceBasedEstimator(alpha=0.7)
