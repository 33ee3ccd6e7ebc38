"""Preprocessing pieces: a derived feature and the steps every training pipeline starts with.

Median imputation and standard scaling are scikit-learn's own ``SimpleImputer`` and
``StandardScaler``; :func:`preprocessing_steps` puts them in the order our pipelines use.
The body-mass index is the small derived feature the testing chapter unit-tests against
values computed by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

from mlcicd.errors import InputError

__all__ = ["add_bmi", "BodyMassIndex", "preprocessing_steps"]


def add_bmi(
    df: pd.DataFrame,
    *,
    height_cm: str = "height_cm",
    weight_kg: str = "weight_kg",
    out: str = "bmi",
) -> pd.DataFrame:
    """Return a copy of ``df`` with the body-mass index, weight / height² (kg/m²), added.

    Missing heights or weights give a missing BMI (a later imputer fills it); a height
    or weight that is zero or negative is an :class:`~mlcicd.errors.InputError`.

    Examples
    --------
    >>> people = pd.DataFrame({"height_cm": [180, 160, None], "weight_kg": [81, 64, 70]})
    >>> add_bmi(people)["bmi"].tolist()
    [25.0, 25.0, nan]
    """
    missing = [c for c in (height_cm, weight_kg) if c not in df.columns]
    if missing:
        raise InputError(f"add_bmi: missing column(s) {', '.join(map(repr, missing))}")
    height = pd.to_numeric(df[height_cm], errors="coerce").astype(float)
    weight = pd.to_numeric(df[weight_kg], errors="coerce").astype(float)
    for name, values in ((height_cm, height), (weight_kg, weight)):
        if (values <= 0).any():
            raise InputError(f"add_bmi: column {name!r} has values <= 0")
    result = df.copy()
    result[out] = weight / (height / 100.0) ** 2
    return result


class BodyMassIndex(TransformerMixin, BaseEstimator):
    """Scikit-learn transformer that appends a ``bmi`` column to a DataFrame.

    Parameters
    ----------
    height_cm, weight_kg : str
        Names of the height (centimetres) and weight (kilograms) columns.
    out : str
        Name of the new column.

    Examples
    --------
    >>> frame = pd.DataFrame({"height_cm": [200.0], "weight_kg": [100.0]})
    >>> BodyMassIndex().fit_transform(frame)["bmi"].item()
    25.0
    """

    def __init__(
        self, height_cm: str = "height_cm", weight_kg: str = "weight_kg", out: str = "bmi"
    ) -> None:
        self.height_cm = height_cm
        self.weight_kg = weight_kg
        self.out = out

    def fit(self, X: pd.DataFrame, y: Any = None) -> BodyMassIndex:
        if not isinstance(X, pd.DataFrame):
            raise InputError("BodyMassIndex needs a pandas DataFrame with named columns")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return add_bmi(X, height_cm=self.height_cm, weight_kg=self.weight_kg, out=self.out)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([*names, self.out], dtype=object)


def preprocessing_steps(*, scale: bool) -> list[tuple[str, Any]]:
    """The steps in front of every model: median imputation, then scaling when asked.

    Trees do not need scaled inputs; linear models do.

    >>> [name for name, _ in preprocessing_steps(scale=True)]
    ['imputer', 'scaler']
    """
    steps: list[tuple[str, Any]] = [("imputer", SimpleImputer(strategy="median"))]
    if scale:
        steps.append(("scaler", StandardScaler()))
    return steps
