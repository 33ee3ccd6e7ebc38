"""Model performance tests on the breast-cancer data: the bar a model must clear to ship.

One policy, read from the files the pipeline uses: the minimum scores and the largest
allowed drop below production come from ``config/gate.yaml``; production is the committed
model in ``baseline/``, with its recorded metrics; the candidate is ``config/train.yaml``,
the configuration a pull request changes. On 143 test rows one misclassified patient moves
accuracy by 0.7 points, so the tolerance is close to the noise: the McNemar test below asks
the sharper question "is the candidate really worse?".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcicd.artifacts import load_model, save_model
from mlcicd.datasets import TARGET, load_breast_cancer_frame, split_frame
from mlcicd.gate import GATED_METRICS, GateThresholds, apply_gate
from mlcicd.io import read_json
from mlcicd.stats import mcnemar_test
from mlcicd.training import MODELS, TrainConfig, evaluate, train

ROOT = Path(__file__).resolve().parents[1]
GATE = GateThresholds.from_yaml(ROOT / "config" / "gate.yaml")
MIN_SCORES = {m: getattr(GATE, f"min_{m}") for m in GATED_METRICS}
TOLERANCE = GATE.max_regression
#: Metrics of the model in production: the committed artifact, on the same test split.
BASELINE = {m: read_json(ROOT / "baseline" / "metrics.json")[m] for m in GATED_METRICS}

#: No class may get less than this share of the predictions (true shares: 37 % / 63 %).
MIN_CLASS_SHARE = 0.2

FAST_PARAMS = {
    "random_forest": {"n_estimators": 50},
    "gradient_boosting": {"n_estimators": 50},
    "logistic_regression": {},
}


@pytest.fixture(scope="module")
def split():
    return split_frame(load_breast_cancer_frame(), test_size=0.25, seed=0)


@pytest.fixture(scope="module")
def baseline_model():
    """The production model: the committed artifact, hash-checked on load."""
    return load_model(ROOT / "baseline").model


@pytest.fixture(scope="module")
def candidate(split):
    """The model the configuration under review trains."""
    return train(TrainConfig.from_yaml(ROOT / "config" / "train.yaml"), *split)


@pytest.fixture(scope="module", params=sorted(MODELS))
def trained(request, split):
    train_df, test_df = split
    config = TrainConfig(model=request.param, params=FAST_PARAMS[request.param], seed=0)
    return train(config, train_df, test_df)


@pytest.mark.parametrize("metric", sorted(MIN_SCORES))
def test_metric_clears_its_minimum(trained, metric):
    assert trained.metrics[metric] >= MIN_SCORES[metric], (
        f"{trained.config.model}: {metric} {trained.metrics[metric]:.3f} "
        f"< {MIN_SCORES[metric]}"
    )


@pytest.mark.parametrize("metric", sorted(BASELINE))
def test_candidate_does_not_regress_against_the_baseline(candidate, metric):
    floor = BASELINE[metric] - TOLERANCE
    assert candidate.metrics[metric] >= floor, (
        f"{metric} {candidate.metrics[metric]:.3f} regressed below "
        f"baseline {BASELINE[metric]:.3f} - {TOLERANCE}"
    )


def test_predicted_classes_are_not_degenerate(trained):
    balance = trained.prediction_balance
    assert set(balance) == {"0", "1"}, f"only {sorted(balance)} predicted"
    assert min(balance.values()) >= MIN_CLASS_SHARE


def test_cross_validation_agrees_with_the_test_set(trained):
    # A large gap means the test split is unusual or the model is unstable.
    assert trained.metrics["cv_std"] < 0.05
    assert abs(trained.metrics["cv_mean"] - trained.metrics["accuracy"]) < 0.05


def test_candidate_is_not_significantly_worse_than_the_baseline_model(
    trained, baseline_model, split
):
    _, test_df = split
    baseline = baseline_model
    X, y = test_df.drop(columns=[TARGET]), test_df[TARGET]
    result = mcnemar_test(y, baseline.predict(X), trained.pipeline.predict(X))
    candidate_worse = result.a_only_correct > result.b_only_correct
    assert not (candidate_worse and result.pvalue < 0.05), result


def test_committed_baseline_still_scores_its_recorded_metrics(baseline_model, split):
    _, test_df = split
    scores = evaluate(baseline_model, test_df, TARGET)
    assert {m: scores[m] for m in BASELINE} == pytest.approx(BASELINE)


def test_stored_candidate_passes_the_quality_gate(candidate, split, tmp_path):
    train_df, test_df = split
    save_model(candidate.pipeline, tmp_path, metrics=candidate.metrics, data=train_df)
    loaded = load_model(tmp_path)
    assert evaluate(loaded.model, test_df, TARGET)["accuracy"] == candidate.metrics["accuracy"]
    gate = apply_gate(tmp_path / "metrics.json", GATE, baseline_metrics=BASELINE)
    assert gate.passed, gate.to_markdown()
