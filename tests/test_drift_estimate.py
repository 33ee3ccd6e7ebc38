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


@pytest.fixture(scope="module")
def forest_world():
    from sklearn.ensemble import RandomForestClassifier

    X, y = reference_data(n=3000, seed=1)
    model = RandomForestClassifier(n_estimators=50, min_samples_leaf=5, random_state=0)
    model.fit(X, y)
    X_ref, y_ref = reference_data(n=2000, seed=2)
    reference = model.predict_proba(X_ref)
    return model, ConfidenceBasedEstimator().fit(reference, y_ref, classes=model.classes_), \
        reference


@pytest.mark.parametrize("kind, label_free_sees_it", [("covariate", True), ("concept", False)])
def test_label_free_signals_beat_delayed_labels_only_when_inputs_move(
    forest_world, kind, label_free_sees_it
):
    from mlcicd.drift.estimate import first_alarms, monitoring_timeline
    from mlcicd.drift.simulate import drift_stream

    model, estimator, reference = forest_world
    X, y = drift_stream(30 * 200, 5 * 200, kind=kind, mode="abrupt",
                        level=1.0 if kind == "covariate" else 0.6, seed=3)
    timeline = monitoring_timeline(model, estimator, reference, X, y, rows_per_day=200,
                                   label_delay=10, min_accuracy=0.9)
    assert timeline.loc[:4, "prediction_alarm"].sum() <= 1
    first = first_alarms(timeline)
    assert 15 <= first["labels"] <= 17  # drift on day 5, labels 10 days late
    if label_free_sees_it:
        assert first["prediction drift"] <= 6
    else:
        assert np.isnan(first["estimated accuracy"])
        assert not first["prediction drift"] <= 15


def test_timeline_arguments_are_checked(forest_world):
    from mlcicd.drift.estimate import monitoring_timeline

    model, estimator, reference = forest_world
    X, y = reference_data(n=100, seed=0)
    with pytest.raises(InputError, match="rows_per_day"):
        monitoring_timeline(model, estimator, reference, X, y, rows_per_day=0,
                            label_delay=1, min_accuracy=0.9)
    with pytest.raises(InputError, match="label_delay"):
        monitoring_timeline(model, estimator, reference, X, y, rows_per_day=10,
                            label_delay=-1, min_accuracy=0.9)
