"""Follow one prediction through a fitted pipeline, step by step.

When a user reports a strange answer, the first question is *which* model gave it (the
registry's lineage, :mod:`mlcicd.registry`); the second is *how* it got there. A
scikit-learn pipeline hides its intermediate values: :func:`trace_prediction` shows them
for one row, the value of every feature after every transforming step (so a missing value
that the imputer filled, or a unit error that the scaler turned into 40 standard
deviations, is visible), and, for a linear final model, how much each feature pushed the
answer. The trace recomputes the model's own score from those pieces and refuses to
return one that does not add up, so it cannot quietly explain a different computation
than the one that served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.errors import InputError, MlcicdError

__all__ = ["PredictionTrace", "trace_prediction"]


@dataclass(frozen=True)
class PredictionTrace:
    """One row's way through a pipeline.

    Attributes
    ----------
    steps : pandas.DataFrame
        One row per feature: its ``input`` value, its value after each transforming
        step (one column per step name) and, for a linear final model,
        ``contribution`` (weight times the last value: its push on the log-odds).
    intercept : float or None
        The linear model's intercept (None for other models).
    score : float or None
        ``intercept`` plus the contributions, equal to the model's
        ``decision_function`` (None for other models).
    probabilities : dict
        The model's probability of each class for this row.
    predicted : Any
        The class the pipeline predicts.
    """

    steps: pd.DataFrame
    intercept: float | None
    score: float | None
    probabilities: dict[Any, float]
    predicted: Any

    @property
    def finite(self) -> bool:
        """True when no intermediate value or probability is NaN or infinite."""
        numbers = self.steps.drop(columns="input").to_numpy(dtype=float)
        return bool(np.isfinite(numbers).all()
                    and np.isfinite(list(self.probabilities.values())).all())


def trace_prediction(pipeline: Any, row: Any) -> PredictionTrace:
    """Every intermediate value of one prediction of a fitted ``Pipeline``.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A fitted pipeline whose transforming steps keep one column per feature
        (imputers, scalers), as :func:`mlcicd.training.build_pipeline` builds.
    row : pandas.DataFrame or pandas.Series
        One row of features, with the columns the pipeline was trained on.

    Examples
    --------
    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import Pipeline
    >>> X = pd.DataFrame({"size": [1.0, 2.0, 8.0, 9.0], "age": [30.0, 50.0, 40.0, 60.0]})
    >>> pipe = Pipeline([("imputer", SimpleImputer(strategy="median")),
    ...                  ("model", LogisticRegression())]).fit(X, [0, 0, 1, 1])
    >>> trace = trace_prediction(pipe, pd.DataFrame({"size": [7.0], "age": [np.nan]}))
    >>> trace.steps[["input", "imputer"]]
           input  imputer
    feature
    size     7.0      7.0
    age      NaN     45.0
    >>> trace.predicted, trace.finite
    (np.int64(1), True)
    """
    steps = getattr(pipeline, "steps", None)
    if not steps:
        raise InputError("pipeline: expected a fitted scikit-learn Pipeline")
    frame = row.to_frame().T if isinstance(row, pd.Series) else row
    if not isinstance(frame, pd.DataFrame) or len(frame) != 1:
        raise InputError("row: expected exactly one row of features")
    expected = list(getattr(pipeline, "feature_names_in_", frame.columns))
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise InputError(f"row: missing feature columns {missing[:3]}")
    frame = frame[expected].astype(float)

    table = pd.DataFrame({"input": frame.iloc[0].to_numpy()},
                         index=pd.Index(expected, name="feature"))
    values = frame
    for name, transformer in steps[:-1]:
        values = transformer.transform(values)
        flat = np.asarray(values, dtype=float).ravel()
        if flat.size != len(expected):
            raise InputError(f"step {name!r} changes the number of columns; "
                             "only column-wise steps can be traced")
        table[name] = flat
    model = steps[-1][1]
    proba = model.predict_proba(values)[0]
    intercept = score = None
    coef = getattr(model, "coef_", None)
    if coef is not None and np.shape(coef)[0] == 1:
        table["contribution"] = np.asarray(coef[0]) * table.iloc[:, -1].to_numpy()
        intercept = float(np.ravel(model.intercept_)[0])
        score = intercept + float(table["contribution"].sum())
        served = float(np.ravel(model.decision_function(values))[0])
        if not np.isclose(score, served, rtol=1e-9, atol=1e-9):
            raise MlcicdError(f"trace does not add up: {score} against the model's {served}")
    return PredictionTrace(
        steps=table, intercept=intercept, score=score,
        probabilities={c: float(p) for c, p in zip(model.classes_, proba, strict=True)},
        predicted=pipeline.predict(frame)[0],
    )
