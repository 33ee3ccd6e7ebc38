"""Unit tests for preprocessing: median imputation, standard scaling, body-mass index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from mlcicd.errors import InputError
from mlcicd.preprocessing import BodyMassIndex, add_bmi, preprocessing_steps


def test_median_imputation_fills_missing_values_with_the_column_median():
    frame = pd.DataFrame({"age": [20.0, np.nan, 40.0, 100.0], "income": [1.0, 2.0, np.nan, 3.0]})
    imputer = dict(preprocessing_steps(scale=False))["imputer"]
    filled = imputer.fit_transform(frame)
    assert not np.isnan(filled).any()
    assert filled[1, 0] == 40.0  # median of 20, 40, 100: the outlier does not pull it
    assert filled[2, 1] == 2.0
    np.testing.assert_array_equal(filled[[0, 2, 3], 0], [20.0, 40.0, 100.0])


def test_imputer_uses_training_medians_on_new_data():
    imputer = SimpleImputer(strategy="median").fit(pd.DataFrame({"x": [1.0, 2.0, 9.0]}))
    assert imputer.transform(pd.DataFrame({"x": [np.nan]}))[0, 0] == 2.0


def test_standard_scaling_gives_mean_zero_and_unit_std():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(50, 10, 200), "b": rng.exponential(3, 200)})
    scaled = Pipeline(preprocessing_steps(scale=True)).fit_transform(frame)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, rtol=1e-12)


def test_scaling_happens_after_imputation_so_no_nan_survives():
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0, 5.0]})
    scaled = Pipeline(preprocessing_steps(scale=True)).fit_transform(frame)
    assert not np.isnan(scaled).any()


def test_trees_get_no_scaler():
    assert [name for name, _ in preprocessing_steps(scale=False)] == ["imputer"]


@pytest.mark.parametrize(
    "height_cm, weight_kg, expected",
    [(180, 81, 25.0), (160, 64, 25.0), (200, 100, 25.0), (175, 70, 22.857), (150, 45, 20.0)],
)
def test_bmi_matches_values_computed_by_hand(height_cm, weight_kg, expected):
    frame = pd.DataFrame({"height_cm": [height_cm], "weight_kg": [weight_kg]})
    assert add_bmi(frame)["bmi"].item() == pytest.approx(expected, abs=1e-3)


def test_bmi_keeps_the_other_columns_and_does_not_change_the_input():
    frame = pd.DataFrame({"height_cm": [180.0], "weight_kg": [81.0], "age": [30]})
    result = add_bmi(frame)
    assert list(result.columns) == ["height_cm", "weight_kg", "age", "bmi"]
    assert "bmi" not in frame.columns


def test_bmi_of_a_missing_height_is_missing():
    frame = pd.DataFrame({"height_cm": [np.nan], "weight_kg": [70.0]})
    assert np.isnan(add_bmi(frame)["bmi"].item())


def test_bmi_with_custom_column_names():
    frame = pd.DataFrame({"h": [180.0], "w": [81.0]})
    assert add_bmi(frame, height_cm="h", weight_kg="w", out="body_mass")["body_mass"].item() == (
        pytest.approx(25.0)
    )


def test_bmi_refuses_zero_height():
    with pytest.raises(InputError, match="'height_cm' has values <= 0"):
        add_bmi(pd.DataFrame({"height_cm": [0.0], "weight_kg": [70.0]}))


def test_bmi_names_the_missing_column():
    with pytest.raises(InputError, match="missing column.*'weight_kg'"):
        add_bmi(pd.DataFrame({"height_cm": [180.0]}))


def test_bmi_transformer_works_inside_a_pipeline():
    frame = pd.DataFrame({"height_cm": [180.0, np.nan], "weight_kg": [81.0, 64.0]})
    pipe = Pipeline([("bmi", BodyMassIndex()), ("imputer", SimpleImputer(strategy="median"))])
    out = pipe.fit_transform(frame)
    assert out.shape == (2, 3)
    assert out[0, 2] == pytest.approx(25.0)
    assert out[1, 0] == 180.0  # the missing height is imputed after the BMI was computed
    assert list(pipe[:1].get_feature_names_out()) == ["height_cm", "weight_kg", "bmi"]
