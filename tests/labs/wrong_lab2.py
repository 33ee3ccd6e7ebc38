"""Plausible wrong and lazy answers to lab 2 (testing ML); every one must get NOT YET."""

from __future__ import annotations

import pandas as pd
from _corpus import wrong

from mlcicd.datasets import CITIES, TARGET, make_dirty_frame, make_people_frame, people_schema
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
