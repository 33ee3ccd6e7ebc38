"""Plausible wrong and lazy answers to lab 2 (testing ML); every one must get NOT YET."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from _corpus import wrong
from scipy import stats

from mlcicd.behaviour import directional_test
from mlcicd.datasets import CITIES, TARGET, make_dirty_frame, make_people_frame, people_schema
from mlcicd.labs.checks_behaviour import BENIGN, TOLERANCE
from mlcicd.metrics import prediction_balance
from mlcicd.training import evaluate, split_xy
from mlcicd.validation import ColumnSchema, Schema, infer_schema

LAB = "02_testing_ml"
MIN_ACCURACY = 0.9


def _columns(**changes):
    columns = {
        "person_id": ColumnSchema("person_id", dtype="integer", nullable=False, min=1,
                                  unique=True),
        "age": ColumnSchema("age", dtype="integer", nullable=False, min=0, max=120),
        "income": ColumnSchema("income", dtype="float", max_missing_rate=0.05, min=0),
        "score": ColumnSchema("score", dtype="float", nullable=False, min=0, max=1),
        "height_cm": ColumnSchema("height_cm", dtype="float", nullable=False, min=100, max=230),
        "weight_kg": ColumnSchema("weight_kg", dtype="float", nullable=False, min=30, max=250),
        "city": ColumnSchema("city", dtype="category", nullable=False, allowed=CITIES),
        "member": ColumnSchema("member", dtype="bool", nullable=False),
    }
    columns.update(changes)
    return tuple(columns.values())


# --- Exercise 1: the schema ----------------------------------------------------------------
@wrong(LAB, "schema", "no bounds on age")
def schema_no_age_bounds():
    return Schema(_columns(age=ColumnSchema("age", dtype="integer", nullable=False)),
                  max_duplicate_rows=0)


@wrong(LAB, "schema", "an income maximum that rejects clean data")
def schema_too_strict():
    return Schema(_columns(income=ColumnSchema("income", dtype="float", max_missing_rate=0.05,
                                               min=0, max=1000)), max_duplicate_rows=0)


@wrong(LAB, "schema", "returns the library's reference schema")
def schema_from_library():
    return people_schema()


@wrong(LAB, "schema", "person_id not unique")
def schema_ids_repeat():
    return Schema(_columns(person_id=ColumnSchema("person_id", dtype="integer", min=1)),
                  max_duplicate_rows=0)


@wrong(LAB, "schema", "allows duplicate rows")
def schema_duplicates():
    return Schema(_columns())


@wrong(LAB, "schema", "any city")
def schema_any_city():
    return Schema(_columns(city=ColumnSchema("city", dtype="category", nullable=False)),
                  max_duplicate_rows=0)


@wrong(LAB, "schema", "infers the schema from clean data")
def schema_inferred():
    return infer_schema(make_people_frame(seed=0, n=200))


@wrong(LAB, "schema", "no lower bound on heights (metres pass)")
def schema_heights():
    return Schema(_columns(height_cm=ColumnSchema("height_cm", dtype="float", nullable=False,
                                                  max=230)), max_duplicate_rows=0)


# --- Exercise 2: the repair ----------------------------------------------------------------
def _good_repair(df):
    out = df.drop_duplicates().copy()
    out["weight_kg"] = pd.to_numeric(out["weight_kg"], errors="coerce")
    in_metres = out["height_cm"] < 3
    out.loc[in_metres, "height_cm"] = out.loc[in_metres, "height_cm"] * 100
    out["city"] = out["city"].str.title()
    out["income"] = out["income"].fillna(out["income"].median())
    keep = (out["age"].between(0, 120) & out["income"].ge(0) & out["score"].between(0, 1)
            & out["weight_kg"].notna())
    return out[keep].reset_index(drop=True)


@wrong(LAB, "repair", "repairs the frame in place")
def repair_in_place(df):
    repaired = _good_repair(df)
    df["city"] = df["city"].str.title()
    return repaired


@wrong(LAB, "repair", "drops every row with any problem")
def repair_drop_all(df):
    out = df.drop_duplicates().dropna()
    out = out[pd.to_numeric(out["weight_kg"], errors="coerce").notna()]
    out = out.assign(weight_kg=pd.to_numeric(out["weight_kg"]))
    out = out[out["age"].between(0, 120) & out["income"].ge(0) & out["score"].between(0, 1)
              & out["height_cm"].ge(100) & out["city"].isin(CITIES)]
    return out.reset_index(drop=True)


@wrong(LAB, "repair", "ignores its input and returns fresh clean data")
def repair_fresh(df):
    return make_people_frame(seed=0, n=len(df) - 3)


@wrong(LAB, "repair", "keeps the duplicate rows")
def repair_no_dedupe(df):
    out = _good_repair(df.assign(person_id=df["person_id"]))
    return pd.concat([out, out.iloc[:2]], ignore_index=True)


@wrong(LAB, "repair", "makes up missing ages (median)")
def repair_fill_ages(df):
    out = df.copy()
    out["age"] = out["age"].fillna(out["age"].median())
    return _good_repair(out)


@wrong(LAB, "repair", "drops the heights in metres instead of fixing them")
def repair_drop_metres(df):
    return _good_repair(df[df["height_cm"] >= 3])


@wrong(LAB, "repair", "repairs a fixed draw whatever the input")
def repair_fixed_draw(df):
    return _good_repair(make_dirty_frame(0, 200))


@wrong(LAB, "repair", "clips impossible scores instead of dropping their rows")
def repair_clip_scores(df):
    out = df.copy()
    out["score"] = out["score"].clip(0, 1)
    return _good_repair(out)


# --- Exercise 3: performance tests ---------------------------------------------------------
def test_predictions_are_not_degenerate(model, test_df):
    X, _ = split_xy(test_df, TARGET)
    shares = prediction_balance(model.predict(X))
    assert min(shares.get("0", 0.0), shares.get("1", 0.0)) >= 0.10


def _pair(accuracy_test, balance_test=test_predictions_are_not_degenerate):
    accuracy_test.__name__ = "test_accuracy_is_at_least_the_minimum"
    balance_test.__name__ = "test_predictions_are_not_degenerate"
    return [accuracy_test, balance_test]


def _accuracy_without_assert(model, test_df):
    evaluate(model, test_df, TARGET)


def _accuracy_hard_coded(model, test_df):
    assert evaluate(model, test_df, TARGET)["accuracy"] >= 0.9


def _accuracy_strict(model, test_df):
    assert evaluate(model, test_df, TARGET)["accuracy"] > MIN_ACCURACY


def _accuracy_lenient(model, test_df):
    assert evaluate(model, test_df, TARGET)["accuracy"] >= MIN_ACCURACY - 0.05


def _accuracy_ok(model, test_df):
    assert evaluate(model, test_df, TARGET)["accuracy"] >= MIN_ACCURACY


def _balance_class_one_only(model, test_df):
    X, _ = split_xy(test_df, TARGET)
    assert prediction_balance(model.predict(X)).get("1", 0.0) >= 0.10


def _balance_five_percent(model, test_df):
    X, _ = split_xy(test_df, TARGET)
    shares = prediction_balance(model.predict(X))
    assert min(shares.get("0", 0.0), shares.get("1", 0.0)) >= 0.05


def _balance_two_classes(model, test_df):
    X, _ = split_xy(test_df, TARGET)
    assert len(set(model.predict(X))) == 2


def test_accuracy(model, test_df):
    assert evaluate(model, test_df, TARGET)["accuracy"] >= MIN_ACCURACY


wrong(LAB, "performance_tests", "accuracy test without an assertion")(
    _pair(_accuracy_without_assert))
wrong(LAB, "performance_tests", "a hard-coded 0.9 instead of MIN_ACCURACY")(
    _pair(_accuracy_hard_coded))
wrong(LAB, "performance_tests", "> instead of >= (the minimum itself fails)")(
    _pair(_accuracy_strict))
wrong(LAB, "performance_tests", "a lenient threshold (MIN_ACCURACY - 0.05)")(
    _pair(_accuracy_lenient))
wrong(LAB, "performance_tests", "balance test looks at class 1 only")(
    _pair(_accuracy_ok, _balance_class_one_only))
wrong(LAB, "performance_tests", "balance threshold of 5 % instead of 10 %")(
    _pair(_accuracy_ok, _balance_five_percent))
wrong(LAB, "performance_tests", "balance test only asks for two classes")(
    _pair(_accuracy_ok, _balance_two_classes))
wrong(LAB, "performance_tests", "the tests are not named as the exercise says")(
    [test_accuracy, test_predictions_are_not_degenerate])


# --- Exercise 4: integration tests ---------------------------------------------------------
def test_training_is_reproducible(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    first = make_pipeline(7).fit(X, y).predict(X_test)
    second = make_pipeline(7).fit(X, y).predict(X_test)
    assert (first == second).all()


def _integration(gaps_test, reproducible_test=test_training_is_reproducible):
    gaps_test.__name__ = "test_pipeline_trains_on_data_with_gaps"
    reproducible_test.__name__ = "test_training_is_reproducible"
    return [gaps_test, reproducible_test]


def _gaps_without_assert(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    make_pipeline(0).fit(X, y).predict(X_test)


def _gaps_on_clean_data(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(test_df, TARGET)
    predictions = make_pipeline(0).fit(X, y).predict(X)
    assert len(predictions) == len(test_df)
    assert not pd.isna(predictions).any()
    assert set(predictions) <= set(y.unique())


def _gaps_no_class_check(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    predictions = make_pipeline(0).fit(X, y).predict(X_test)
    assert len(predictions) == len(test_df)
    assert not pd.isna(predictions).any()


def _gaps_no_length_check(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    predictions = make_pipeline(0).fit(X, y).predict(X_test)
    assert not pd.isna(predictions).any()
    assert set(predictions) <= set(y.unique())


def _gaps_ok(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    predictions = make_pipeline(0).fit(X, y).predict(X_test)
    assert len(predictions) == len(test_df)
    assert not pd.isna(predictions).any()
    assert set(predictions) <= set(y.unique())


def _reproducible_same_fit(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    pipeline = make_pipeline(7).fit(X, y)
    assert (pipeline.predict(X_test) == pipeline.predict(X_test)).all()


def _reproducible_lengths(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    first = make_pipeline(7).fit(X, y).predict(X_test)
    second = make_pipeline(7).fit(X, y).predict(X_test)
    assert len(first) == len(second)


wrong(LAB, "integration_tests", "training test without an assertion")(
    _integration(_gaps_without_assert))
wrong(LAB, "integration_tests", "trains on the clean data, not the data with gaps")(
    _integration(_gaps_on_clean_data))
wrong(LAB, "integration_tests", "does not check the predicted classes")(
    _integration(_gaps_no_class_check))
wrong(LAB, "integration_tests", "does not check one prediction per row")(
    _integration(_gaps_no_length_check))
wrong(LAB, "integration_tests", "reproducibility: predicts twice with one fitted pipeline")(
    _integration(_gaps_ok, _reproducible_same_fit))
wrong(LAB, "integration_tests", "reproducibility: compares lengths only")(
    _integration(_gaps_ok, _reproducible_lengths))


# --- Exercise 5: the directional check ----------------------------------------------------
def _benign(model, X):
    return model.predict_proba(X)[:, list(model.classes_).index(BENIGN)]


@wrong(LAB, "directional", "wrong sign: flags rows that look less benign")
def directional_wrong_sign(model, X, feature, factor):
    after = _benign(model, X.assign(**{feature: X[feature] * factor}))
    return after - _benign(model, X) < -TOLERANCE


@wrong(LAB, "directional", "perturbs worst_radius whatever the feature asked")
def directional_fixed_column(model, X, feature, factor):
    after = _benign(model, X.assign(worst_radius=X["worst_radius"] * factor))
    return after - _benign(model, X) > TOLERANCE


@wrong(LAB, "directional", "compares predicted labels, not probabilities")
def directional_labels(model, X, feature, factor):
    before = model.predict(X)
    after = model.predict(X.assign(**{feature: X[feature] * factor}))
    return (after == BENIGN) & (before != BENIGN)


@wrong(LAB, "directional", "mutates the input frame in place")
def directional_in_place(model, X, feature, factor):
    before = _benign(model, X)
    X[feature] = X[feature] * factor
    return _benign(model, X) - before > TOLERANCE


@wrong(LAB, "directional", "adds the factor instead of multiplying")
def directional_adds(model, X, feature, factor):
    after = _benign(model, X.assign(**{feature: X[feature] + factor}))
    return after - _benign(model, X) > TOLERANCE


@wrong(LAB, "directional", "ignores the factor (always 10 % more)")
def directional_fixed_factor(model, X, feature, factor):
    after = _benign(model, X.assign(**{feature: X[feature] * 1.1}))
    return after - _benign(model, X) > TOLERANCE


@wrong(LAB, "directional", "an unchanged probability counts as a failure")
def directional_ties_fail(model, X, feature, factor):
    after = _benign(model, X.assign(**{feature: X[feature] * factor}))
    return after - _benign(model, X) >= -TOLERANCE


@wrong(LAB, "directional", "reads the malignant column of predict_proba")
def directional_malignant_column(model, X, feature, factor):
    before = model.predict_proba(X)[:, 0]
    after = model.predict_proba(X.assign(**{feature: X[feature] * factor}))[:, 0]
    return after - before > TOLERANCE


@wrong(LAB, "directional", "calls the library's directional_test")
def directional_library(model, X, feature, factor):
    result = directional_test(model, X, lambda d: d.assign(**{feature: d[feature] * factor}),
                              name="mine", expect="decrease", positive_class=BENIGN)
    return X.index.isin(result.failures.index)


@wrong(LAB, "directional", "returns the number of failing rows, not one bool per row")
def directional_count(model, X, feature, factor):
    after = _benign(model, X.assign(**{feature: X[feature] * factor}))
    return int((after - _benign(model, X) > TOLERANCE).sum())


@wrong(LAB, "directional", "hard-coded: nothing ever fails")
def directional_constant(model, X, feature, factor):
    return np.zeros(len(X), dtype=bool)


# --- Exercise 6: the slices ---------------------------------------------------------------
@wrong(LAB, "size_slices", "the cut itself counts as small (<= instead of <)")
def slices_boundary(X, cut):
    return np.where(X["mean_radius"] <= cut, "small", "large")


@wrong(LAB, "size_slices", "slices on worst_radius")
def slices_wrong_column(X, cut):
    return np.where(X["worst_radius"] < cut, "small", "large")


@wrong(LAB, "size_slices", "ignores the cut (always 15)")
def slices_fixed_cut(X, cut):
    return np.where(X["mean_radius"] < 15, "small", "large")


@wrong(LAB, "size_slices", "adds a column to X")
def slices_new_column(X, cut):
    X["size"] = np.where(X["mean_radius"] < cut, "small", "large")
    return X["size"].to_numpy()


@wrong(LAB, "size_slices", "labels swapped")
def slices_swapped(X, cut):
    return np.where(X["mean_radius"] < cut, "large", "small")


@wrong(LAB, "size_slices", "returns booleans, not labels")
def slices_booleans(X, cut):
    return (X["mean_radius"] < cut).to_numpy()


# --- Exercise 7: the point estimate's false-fail rate --------------------------------------
@wrong(LAB, "point_estimate_fail_rate", "a slice exactly at the bar fails too (<=)")
def rate_at_bar_fails(n_rows, true_accuracy, min_accuracy):
    return float(stats.binom.cdf(math.floor(min_accuracy * n_rows), n_rows, true_accuracy))


@wrong(LAB, "point_estimate_fail_rate", "the probability of passing (1 - rate)")
def rate_complement(n_rows, true_accuracy, min_accuracy):
    needed = math.ceil(min_accuracy * n_rows)
    return float(stats.binom.sf(needed - 1, n_rows, true_accuracy))


@wrong(LAB, "point_estimate_fail_rate", "true accuracy and bar swapped")
def rate_swapped(n_rows, true_accuracy, min_accuracy):
    needed = math.ceil(true_accuracy * n_rows)
    return float(stats.binom.cdf(needed - 1, n_rows, min_accuracy))


@wrong(LAB, "point_estimate_fail_rate", "normal approximation")
def rate_normal(n_rows, true_accuracy, min_accuracy):
    spread = math.sqrt(true_accuracy * (1 - true_accuracy) / n_rows)
    return float(stats.norm.cdf((min_accuracy - true_accuracy) / spread))


@wrong(LAB, "point_estimate_fail_rate", "simulated with 2,000 seeded draws")
def rate_simulated(n_rows, true_accuracy, min_accuracy):
    draws = np.random.default_rng(0).binomial(n_rows, true_accuracy, 2000)
    return float(np.mean(draws / n_rows < min_accuracy))


@wrong(LAB, "point_estimate_fail_rate", "floor instead of ceil for the needed count")
def rate_floor(n_rows, true_accuracy, min_accuracy):
    needed = math.floor(min_accuracy * n_rows)
    return float(stats.binom.cdf(needed - 1, n_rows, true_accuracy))


@wrong(LAB, "point_estimate_fail_rate", "hard-coded value for 20 rows, 0.95, 0.9")
def rate_constant(n_rows, true_accuracy, min_accuracy):
    return 0.0754
