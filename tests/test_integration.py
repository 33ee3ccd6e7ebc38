"""Integration: the whole pipeline (imputer, scaler, model) on messy data, end to end.

The data has missing values and wild outliers injected on purpose; the pipeline must
still answer for every row, with no NaN, the same way every time for the same seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcicd.artifacts import load_model, save_model
from mlcicd.cli import main
from mlcicd.datasets import TARGET, export_dataset, load_breast_cancer_frame, split_frame
from mlcicd.training import MODELS, TrainConfig, model_features, train
from mlcicd.validation import Schema, validate

ROOT = Path(__file__).resolve().parents[1]
SCALED_MODELS = {"logistic_regression"}

MISSING_RATE = 0.1
OUTLIER_RATE = 0.02


def make_messy(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A copy of ``df`` with missing values and outliers (x1000) in the feature columns."""
    rng = np.random.default_rng(seed)
    messy = df.copy()
    features = [c for c in df.columns if c != TARGET]
    values = messy[features].to_numpy(dtype=float, copy=True)
    outliers = rng.random(values.shape) < OUTLIER_RATE
    values[outliers] *= 1000.0
    values[rng.random(values.shape) < MISSING_RATE] = np.nan
    messy[features] = values
    return messy


@pytest.fixture(scope="module")
def data():
    train_df, test_df = split_frame(load_breast_cancer_frame(), test_size=0.3, seed=1)
    return make_messy(train_df, seed=1), make_messy(test_df, seed=2)


def _config(model: str, seed: int = 0) -> TrainConfig:
    params = {} if model == "logistic_regression" else {"n_estimators": 50}
    return TrainConfig(model=model, params=params, cv_folds=3, seed=seed)


@pytest.fixture(scope="module", params=sorted(MODELS))
def trained(request, data):
    train_df, test_df = data
    return train(_config(request.param), train_df, test_df)


def test_injected_problems_are_really_there(data):
    train_df, _ = data
    features = train_df.drop(columns=[TARGET])
    assert features.isna().to_numpy().mean() == pytest.approx(MISSING_RATE, abs=0.02)
    clean_max = load_breast_cancer_frame().drop(columns=[TARGET]).to_numpy().max()
    assert np.nanmax(features.to_numpy()) > 10 * clean_max


def test_every_row_gets_a_prediction_and_no_nan(trained, data):
    _, test_df = data
    X = model_features(trained.pipeline, test_df)
    predictions = trained.pipeline.predict(X)
    probabilities = trained.pipeline.predict_proba(X)
    assert predictions.shape == (len(test_df),)
    assert not np.isnan(probabilities).any()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_messy_data_gives_a_useful_model_or_is_refused_by_the_contract(trained, data):
    if trained.config.model not in SCALED_MODELS:
        # Trees only compare thresholds, so x1000 outliers do not move them.
        assert trained.metrics["accuracy"] > 0.85
        return
    # Measured limitation: the mean and std of StandardScaler are dragged by x1000
    # outliers and a linear model trained on them falls far below the bar. The committed
    # baseline is such a model, so the pipeline's data contract (config/schema.yaml,
    # checked before training) must refuse exactly this data.
    assert trained.metrics["accuracy"] < 0.85
    contract = validate(data[0], Schema.from_yaml(ROOT / "config" / "schema.yaml"))
    out_of_range = {f.column for f in contract.failures if f.check == "range"}
    assert len(out_of_range) >= 20


def test_same_seed_gives_the_same_predictions(trained, data):
    train_df, test_df = data
    again = train(_config(trained.config.model), train_df, test_df)
    X = model_features(trained.pipeline, test_df)
    np.testing.assert_array_equal(again.pipeline.predict(X), trained.pipeline.predict(X))
    np.testing.assert_array_equal(
        again.pipeline.predict_proba(X), trained.pipeline.predict_proba(X)
    )
    assert again.metrics["cv_mean"] == trained.metrics["cv_mean"]


def test_train_then_infer_on_new_data(trained, data):
    # New rows: other missing values, columns in another order, an extra id column.
    _, test_df = data
    fresh = make_messy(load_breast_cancer_frame().sample(50, random_state=3), seed=9)
    fresh = fresh.drop(columns=[TARGET]).iloc[:, ::-1].assign(patient_id=range(50))
    predictions = trained.pipeline.predict(model_features(trained.pipeline, fresh))
    assert predictions.shape == (50,)
    assert set(np.unique(predictions)) <= set(trained.classes) == {0, 1}


def test_saved_and_loaded_model_answers_the_same(trained, data, tmp_path):
    _, test_df = data
    save_model(trained.pipeline, tmp_path, config=trained.config, metrics=trained.metrics)
    loaded = load_model(tmp_path)
    X = model_features(trained.pipeline, test_df)
    np.testing.assert_array_equal(loaded.model.predict(X), trained.pipeline.predict(X))
    assert loaded.metadata["config"] == trained.config.to_dict()


def test_command_line_pipeline_from_csv_to_metrics(tmp_path, capsys):
    train_csv, test_csv = export_dataset("breast-cancer", tmp_path / "data", seed=0)
    config = tmp_path / "train.yaml"
    config.write_text("model: random_forest\nparams:\n  n_estimators: 50\ncv_folds: 3\n")
    model_dir = tmp_path / "model"
    argv = ["train", "--config", str(config), "--train", str(train_csv), "--test",
            str(test_csv), "--out", str(model_dir)]
    assert main(argv) == 0
    metrics_file = tmp_path / "eval.json"
    argv = ["evaluate", "--model", str(model_dir), "--data", str(test_csv), "--out",
            str(metrics_file)]
    assert main(argv) == 0
    capsys.readouterr()
    evaluated = json.loads(metrics_file.read_text())
    trained = json.loads((model_dir / "metrics.json").read_text())
    assert evaluated["accuracy"] == pytest.approx(trained["accuracy"])
    assert evaluated["accuracy"] > 0.9
