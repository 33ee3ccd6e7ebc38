"""Model performance tests on the breast-cancer data: the bar a model must clear to ship.

Thresholds are absolute minimums; the baseline is the stored metrics of the model in
production, and a candidate may not fall more than ``TOLERANCE`` below it. On 143 test
rows one misclassified patient moves accuracy by 0.7 points, so a tolerance smaller
than that would fail on noise (the McNemar test below asks the sharper question).
"""

from __future__ import annotations

import pytest

from mlcicd.artifacts import load_model, save_model
from mlcicd.datasets import TARGET, load_breast_cancer_frame, split_frame
from mlcicd.gate import apply_gate
from mlcicd.stats import mcnemar_test
from mlcicd.training import MODELS, TrainConfig, evaluate, train

MIN_SCORES = {"accuracy": 0.90, "precision": 0.90, "recall": 0.90, "f1": 0.90}

#: Metrics of the model in production (random forest, 50 trees, seed 0, same split).
BASELINE = {"accuracy": 0.944, "precision": 0.955, "recall": 0.955, "f1": 0.955}
TOLERANCE = 0.02

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
def baseline_model(split):
    """The production model, rebuilt from its recorded config."""
    return train(TrainConfig(params={"n_estimators": 50}, seed=0), *split)


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
def test_no_regression_against_the_baseline(trained, metric):
    floor = BASELINE[metric] - TOLERANCE
    assert trained.metrics[metric] >= floor, (
        f"{trained.config.model}: {metric} {trained.metrics[metric]:.3f} regressed below "
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
    baseline = baseline_model.pipeline
    X, y = test_df.drop(columns=[TARGET]), test_df[TARGET]
    result = mcnemar_test(y, baseline.predict(X), trained.pipeline.predict(X))
    candidate_worse = result.a_only_correct > result.b_only_correct
    assert not (candidate_worse and result.pvalue < 0.05), result


def test_stored_artifact_passes_the_quality_gate(baseline_model, split, tmp_path):
    train_df, test_df = split
    result = baseline_model
    save_model(result.pipeline, tmp_path, metrics=result.metrics, data=train_df)
    loaded = load_model(tmp_path)
    assert evaluate(loaded.model, test_df, TARGET)["accuracy"] == result.metrics["accuracy"]
    thresholds = {**{f"min_{k}": v for k, v in MIN_SCORES.items()}, "max_regression": TOLERANCE}
    gate = apply_gate(tmp_path / "metrics.json", thresholds, baseline_metrics=BASELINE)
    assert gate.passed, gate.to_markdown()
