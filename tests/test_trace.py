"""A traced prediction shows what the pipeline really computed for one row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.ensemble import RandomForestClassifier

from mlcicd.datasets import TARGET, load_breast_cancer_frame
from mlcicd.errors import InputError
from mlcicd.trace import trace_prediction
from mlcicd.training import TrainConfig, build_pipeline, split_xy


@pytest.fixture(scope="module")
def fitted():
    X, y = split_xy(load_breast_cancer_frame(), TARGET)
    return build_pipeline(TrainConfig(model="logistic_regression")).fit(X, y), X


def test_a_missing_value_is_shown_filled_with_the_training_median(fitted):
    pipe, X = fitted
    row = X.iloc[[3]].copy()
    row["worst_area"] = np.nan
    trace = trace_prediction(pipe, row)
    assert np.isnan(trace.steps.loc["worst_area", "input"])
    assert trace.steps.loc["worst_area", "imputer"] == pytest.approx(X["worst_area"].median())
    assert trace.finite


def test_contributions_add_up_to_the_probability_the_model_serves(fitted):
    pipe, X = fitted
    row = X.iloc[[10]]
    trace = trace_prediction(pipe, row)
    served = pipe.predict_proba(row)[0, 1]
    assert expit(trace.score) == pytest.approx(served, rel=1e-9)
    assert trace.probabilities[1] == pytest.approx(served, rel=1e-9)
    assert trace.predicted == pipe.predict(row)[0]


def test_a_unit_error_stands_out_after_scaling(fitted):
    pipe, X = fitted
    row = X.iloc[[0]].copy()
    row["mean_area"] *= 100  # centimetres squared sent as millimetres squared
    scaled = trace_prediction(pipe, row).steps["scaler"].abs()
    assert scaled.idxmax() == "mean_area"
    assert scaled.max() > 50


def test_a_tree_model_is_traced_without_contributions():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    forest = build_pipeline(TrainConfig(model="random_forest", params={"n_estimators": 5}))
    trace = trace_prediction(forest.fit(X, [0, 0, 1, 1]), X.iloc[[3]])
    assert trace.score is None and "contribution" not in trace.steps
    assert isinstance(forest.named_steps["model"], RandomForestClassifier)


@pytest.mark.parametrize("row, message", [
    ("two rows", "exactly one row"),
    ("no column", "missing feature columns"),
])
def test_bad_rows_are_refused_with_one_line(fitted, row, message):
    pipe, X = fitted
    bad = X.iloc[:2] if row == "two rows" else X.iloc[[0]].drop(columns="mean_area")
    with pytest.raises(InputError, match=message):
        trace_prediction(pipe, bad)
