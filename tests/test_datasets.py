"""Built-in data sets: breast cancer split and export, and the (dirty) people data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlcicd.datasets import (
    CITIES,
    TARGET,
    export_dataset,
    load_breast_cancer_frame,
    make_dirty_frame,
    make_people_frame,
    people_schema,
    split_frame,
)
from mlcicd.errors import InputError
from mlcicd.validation import Schema, infer_schema, validate


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    return load_breast_cancer_frame()


def test_breast_cancer_has_snake_case_features_and_an_integer_target(cancer):
    assert cancer.shape == (569, 31)
    assert "mean_radius" in cancer.columns and "worst_fractal_dimension" in cancer.columns
    assert all(name == name.lower() and " " not in name for name in cancer.columns)
    assert cancer.columns[-1] == TARGET
    assert pd.api.types.is_integer_dtype(cancer[TARGET])
    assert set(cancer[TARGET]) == {0, 1}
    assert not cancer.isna().any().any()


def test_split_is_stratified_reproducible_and_loses_no_row(cancer):
    train, test = split_frame(cancer, test_size=0.25, seed=0)
    assert (len(train), len(test)) == (426, 143)
    assert abs(train[TARGET].mean() - test[TARGET].mean()) < 0.01
    again_train, _ = split_frame(cancer, test_size=0.25, seed=0)
    pd.testing.assert_frame_equal(train, again_train)
    other_train, _ = split_frame(cancer, test_size=0.25, seed=1)
    assert not train.equals(other_train)
    rows = pd.concat([train, test]).sort_values(list(cancer.columns)).reset_index(drop=True)
    pd.testing.assert_frame_equal(rows, cancer.sort_values(list(cancer.columns))
                                  .reset_index(drop=True))


def test_schema_inferred_from_the_training_split_accepts_the_test_split(cancer):
    train, test = split_frame(cancer, seed=0)
    schema = infer_schema(train, target=TARGET)
    assert validate(test, schema).ok
    in_millimetres = test.assign(mean_radius=test["mean_radius"] * 10)
    failures = validate(in_millimetres, schema).failures
    assert {(f.check, f.column) for f in failures} >= {("range", "mean_radius"),
                                                      ("mean", "mean_radius")}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "label"}, "target column 'label' not found"),
        ({"test_size": 0}, "test_size must be a number in (0, 1)"),
        ({"test_size": 1.5}, "test_size must be a number in (0, 1)"),
        ({"seed": "zero"}, "seed must be an integer"),
    ],
)
def test_split_rejects_bad_arguments_with_a_clear_error(cancer, kwargs, message):
    with pytest.raises(InputError) as caught:
        split_frame(cancer, **kwargs)
    assert message in str(caught.value)


def test_split_refuses_a_class_too_small_to_stratify():
    df = pd.DataFrame({"x": range(10), TARGET: [0] * 9 + [1]})
    with pytest.raises(InputError, match="cannot split"):
        split_frame(df)


def test_export_writes_train_and_test_csv(tmp_path):
    train_path, test_path = export_dataset("breast-cancer", tmp_path / "data", seed=0)
    assert (train_path.name, test_path.name) == ("train.csv", "test.csv")
    train, test = pd.read_csv(train_path), pd.read_csv(test_path)
    expected_train, expected_test = split_frame(load_breast_cancer_frame(), seed=0)
    pd.testing.assert_frame_equal(train, expected_train)
    pd.testing.assert_frame_equal(test, expected_test)
    assert not list((tmp_path / "data").glob(".*tmp"))


def test_export_of_an_unknown_data_set_suggests_the_known_one(tmp_path):
    with pytest.raises(InputError, match="did you mean 'breast-cancer'"):
        export_dataset("breast_cancer", tmp_path)
    assert not list(tmp_path.iterdir())


def test_export_does_not_touch_files_when_the_split_is_impossible(tmp_path):
    (tmp_path / "train.csv").write_text("old\n")
    with pytest.raises(InputError):
        export_dataset("breast-cancer", tmp_path, test_size=2)
    assert (tmp_path / "train.csv").read_text() == "old\n"


# -- people ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_people_pass_the_people_schema(seed):
    people = make_people_frame(seed=seed, n=200)
    assert set(people["city"]) <= set(CITIES)
    assert validate(people, people_schema()).ok


def test_people_data_depends_only_on_the_seed():
    pd.testing.assert_frame_equal(make_dirty_frame(seed=3), make_dirty_frame(seed=3))
    assert not make_people_frame(seed=3).equals(make_people_frame(seed=4))


def test_dirty_people_carry_the_documented_problems():
    dirty = make_dirty_frame(seed=0, n=100)
    assert len(dirty) == 100
    assert dirty["age"].isna().sum() == 2
    assert set(dirty["age"].dropna()) >= {150, 134, -3}
    assert dirty["income"].isna().sum() == 8
    assert (dirty["income"] < 0).sum() == 2
    assert (dirty["score"] > 1).sum() == 2
    assert (dirty["height_cm"] < 3).sum() == 2
    assert (dirty["weight_kg"] == "unknown").sum() == 1
    assert (dirty["city"] == "paris").sum() == 1
    assert dirty.duplicated().sum() == 3


def test_dirty_people_survive_a_csv_round_trip_with_every_problem_found(tmp_path):
    path = tmp_path / "people.csv"
    make_dirty_frame(seed=0).to_csv(path, index=False)
    from_csv = validate(pd.read_csv(path), people_schema())
    in_memory = validate(make_dirty_frame(seed=0), people_schema())
    assert [(f.check, f.column) for f in from_csv.failures] == [
        (f.check, f.column) for f in in_memory.failures]


def test_people_schema_round_trips_through_yaml():
    schema = people_schema()
    assert Schema.from_yaml_text(schema.to_yaml()) == schema


def test_committed_people_schema_file_is_the_library_schema():
    # tests/data/people_schema.yaml is what the book shows; it must not drift from the code.
    path = Path(__file__).parent / "data" / "people_schema.yaml"
    assert Schema.from_yaml(path) == people_schema()
    assert path.read_text() == people_schema().to_yaml()


def test_too_few_rows_for_every_problem_is_an_input_error():
    with pytest.raises(InputError, match="n must be an integer >= 40"):
        make_dirty_frame(n=10)
