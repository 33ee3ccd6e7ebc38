"""Training: config validation, the pipeline's shape, metrics and clear input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from mlcicd.errors import InputError
from mlcicd.metrics import METRIC_NAMES
from mlcicd.training import (
    MODELS,
    TrainConfig,
    build_pipeline,
    evaluate,
    split_xy,
    train,
)


@pytest.fixture(scope="module")
def frame():
    X, y = make_classification(n_samples=200, n_features=5, n_informative=3, random_state=0)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    df["target"] = y
    return df


@pytest.fixture(scope="module")
def result(frame):
    return train(TrainConfig(params={"n_estimators": 30}, cv_folds=3), frame)


# --- configuration -----------------------------------------------------------------


def test_defaults_match_the_contract():
    config = TrainConfig()
    assert (config.model, config.params, config.cv_folds) == ("random_forest", {}, 5)
    assert (config.test_size, config.seed, config.target) == (0.25, 0, "target")
    assert sorted(MODELS) == ["gradient_boosting", "logistic_regression", "random_forest"]


def test_unknown_model_lists_the_valid_ones():
    with pytest.raises(InputError, match="unknown model 'svm'.*logistic_regression"):
        TrainConfig(model="svm")


def test_unknown_hyper_parameter_names_it_and_the_model():
    with pytest.raises(InputError, match="'n_trees' for model 'random_forest'"):
        TrainConfig.from_dict({"params": {"n_trees": 10}})


def test_hyper_parameter_of_another_model_is_refused():
    with pytest.raises(InputError, match="'C' for model 'gradient_boosting'"):
        TrainConfig(model="gradient_boosting", params={"C": 1.0})


def test_random_state_comes_from_seed_only():
    with pytest.raises(InputError, match="seed"):
        TrainConfig(params={"random_state": 3})


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"cv_folds": 1}, r"cv_folds must be an integer in \[2, 100\]"),
        ({"cv_folds": 2.5}, r"cv_folds must be an integer in \[2, 100\]"),
        ({"cv_folds": True}, r"cv_folds must be an integer in \[2, 100\]"),
        ({"test_size": 1.0}, r"test_size must be a number in \(0, 1\)"),
        ({"test_size": 0}, r"test_size must be a number in \(0, 1\)"),
        ({"test_size": "0.2"}, r"test_size must be a number in \(0, 1\)"),
        ({"seed": "1"}, "seed must be an integer"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"target": ""}, "target must be a column name"),
        ({"params": [1, 2]}, "'params' must be a mapping"),
    ],
)
def test_wrong_types_are_clear_errors(settings, message):
    with pytest.raises(InputError, match=message):
        TrainConfig.from_dict(settings)


def test_unknown_top_level_key_is_named():
    with pytest.raises(InputError, match="unknown key.*'n_folds'"):
        TrainConfig.from_dict({"n_folds": 3})


def test_yaml_round_trip(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(
        "model: logistic_regression\nparams:\n  C: 0.5\ncv_folds: 3\ntest_size: 0.2\nseed: 7\n"
    )
    config = TrainConfig.from_yaml(path)
    assert config == TrainConfig("logistic_regression", {"C": 0.5}, 3, 0.2, 7, "target")
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_empty_yaml_gives_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert TrainConfig.from_yaml(path) == TrainConfig()


def test_bad_yaml_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model: [unclosed\n")
    with pytest.raises(InputError, match="bad.yaml: not valid YAML"):
        TrainConfig.from_yaml(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(InputError, match="bad.yaml: .*expected a mapping"):
        TrainConfig.from_yaml(path)


def test_bad_hyper_parameter_value_is_an_input_error(frame):
    with pytest.raises(InputError, match="n_estimators"):
        train(TrainConfig(params={"n_estimators": "many"}, cv_folds=2), frame)


# --- pipeline ----------------------------------------------------------------------


def test_logistic_regression_is_scaled_and_trees_are_not():
    linear = build_pipeline(TrainConfig(model="logistic_regression", seed=3))
    assert [n for n, _ in linear.steps] == ["imputer", "scaler", "model"]
    assert isinstance(linear.named_steps["scaler"], StandardScaler)
    assert isinstance(linear.named_steps["model"], LogisticRegression)
    forest = build_pipeline(TrainConfig(seed=3, params={"n_estimators": 7}))
    assert [n for n, _ in forest.steps] == ["imputer", "model"]
    assert forest.named_steps["imputer"].strategy == "median"
    assert isinstance(forest.named_steps["model"], RandomForestClassifier)
    assert forest.named_steps["model"].random_state == 3
    assert forest.named_steps["model"].n_estimators == 7


# --- training ----------------------------------------------------------------------


def test_train_reports_test_and_cross_validation_metrics(result):
    assert set(METRIC_NAMES) <= set(result.metrics)
    assert {"roc_auc", "cv_mean", "cv_std", "fit_seconds"} <= set(result.metrics)
    assert len(result.cv_scores) == 3
    assert result.metrics["cv_mean"] == pytest.approx(np.mean(result.cv_scores))
    assert result.metrics["fit_seconds"] > 0
    assert result.metrics["accuracy"] > 0.7
    assert (result.n_train, result.n_test) == (150, 50)
    assert result.feature_names == ["f0", "f1", "f2", "f3", "f4"]
    assert result.classes == [0, 1]
    assert sum(result.prediction_balance.values()) == pytest.approx(1.0)


def test_explicit_test_set_is_used_and_columns_are_realigned(frame):
    train_df, test_df = frame.iloc[:150], frame.iloc[150:]
    shuffled = test_df[["target", *reversed([f"f{i}" for i in range(5)])]]
    res = train(TrainConfig(params={"n_estimators": 20}, cv_folds=2), train_df, shuffled)
    assert (res.n_train, res.n_test) == (150, 50)
    on_test = evaluate(res.pipeline, test_df, "target")
    assert {k: res.metrics[k] for k in on_test} == pytest.approx(on_test)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_trains(frame, model):
    params = {} if model == "logistic_regression" else {"n_estimators": 10}
    res = train(TrainConfig(model=model, params=params, cv_folds=2), frame)
    assert 0.5 < res.metrics["accuracy"] <= 1.0


def test_too_few_rows_per_class_for_the_folds_is_clear(frame):
    tiny = pd.concat([frame[frame.target == 0].head(10), frame[frame.target == 1].head(3)])
    with pytest.raises(InputError, match="fewer than the 5 cross-validation folds"):
        train(TrainConfig(), tiny, tiny)


def test_single_class_is_refused(frame):
    one = frame[frame.target == 1]
    with pytest.raises(InputError, match="at least 2 classes"):
        train(TrainConfig(cv_folds=2), one)


# --- split_xy and evaluate ---------------------------------------------------------


def test_split_xy_missing_target_is_named(frame):
    with pytest.raises(InputError, match="missing column.*'label'"):
        split_xy(frame, "label")


def test_split_xy_names_a_text_column(frame):
    bad = frame.assign(f2=frame.f2.astype(object))
    bad.loc[3, "f2"] = "abc"
    with pytest.raises(InputError, match="column 'f2' has non-numeric value 'abc'"):
        split_xy(bad, "target")


def test_split_xy_refuses_infinity_but_keeps_nan(frame):
    with_nan = frame.assign(f1=frame.f1.where(frame.index != 0))
    X, y = split_xy(with_nan, "target")
    assert np.isnan(X.loc[0, "f1"]) and len(y) == len(frame)
    with pytest.raises(InputError, match="column 'f1' has infinite values"):
        split_xy(frame.assign(f1=np.inf), "target")


def test_split_xy_refuses_missing_labels(frame):
    bad = frame.assign(target=frame.target.astype(float).where(frame.index != 5))
    with pytest.raises(InputError, match="1 missing labels"):
        split_xy(bad, "target")


def test_evaluate_needs_the_model_columns(result, frame):
    with pytest.raises(InputError, match="missing column.*'f3'"):
        evaluate(result.pipeline, frame.drop(columns=["f3"]), "target")


def test_evaluate_ignores_extra_columns(result, frame):
    plain = evaluate(result.pipeline, frame, "target")
    extra = evaluate(result.pipeline, frame.assign(row_id=range(len(frame))), "target")
    assert plain == extra
    assert set(METRIC_NAMES) | {"roc_auc"} == set(plain)
