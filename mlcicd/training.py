"""Training: a validated configuration, a pipeline, cross-validation and test metrics.

:class:`TrainConfig` says which model to train with which hyper-parameters, how many
cross-validation folds to run and how to split; it is checked when it is made, so a
typo in a YAML file fails at once with a message naming the key. :func:`train` fits
the pipeline of :func:`build_pipeline`, reports the cross-validated accuracy (mean and
spread) and the test metrics of :func:`mlcicd.metrics.classification_metrics`.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline

from mlcicd.errors import InputError
from mlcicd.io import (
    python_scalar,
    read_yaml,
    require_columns,
    require_finite_numeric,
    short_repr,
)
from mlcicd.metrics import classification_metrics, prediction_balance
from mlcicd.params import SEED, Integer, Real, check
from mlcicd.preprocessing import preprocessing_steps

__all__ = [
    "MODELS",
    "TrainConfig",
    "TrainResult",
    "build_pipeline",
    "train",
    "evaluate",
    "split_xy",
    "model_features",
    "predict_checked",
    "require_known_labels",
    "PARAM_LIMITS",
    "MAX_CV_FOLDS",
]

#: Model name -> estimator class. Only these names are accepted in a config.
MODELS: dict[str, Callable[..., BaseEstimator]] = {
    "random_forest": RandomForestClassifier,
    "gradient_boosting": GradientBoostingClassifier,
    "logistic_regression": LogisticRegression,
}

#: Models whose inputs are standard-scaled first.
_SCALED = frozenset({"logistic_regression"})

_DEFAULT_PARAMS: dict[str, dict[str, Any]] = {"logistic_regression": {"max_iter": 1000}}

#: Largest value of the hyper-parameters that set how much work one fit does. A config
#: beyond them is refused up front: ``n_estimators: 1000000000`` would otherwise run
#: until killed. Generous for this project's data (hundreds of rows, tens of columns).
PARAM_LIMITS: dict[str, int] = {
    "n_estimators": 10_000,
    "max_iter": 100_000,
    "max_depth": 1_000,
    "max_leaf_nodes": 1_000_000,
}
#: Most cross-validation folds (each one is a full fit).
MAX_CV_FOLDS = 100
#: Seeds are what numpy and scikit-learn accept everywhere: [0, 2**32).
SEED_LIMIT = 2**32


@dataclass(frozen=True)
class TrainConfig:
    """What to train and how. Checked on creation; bad values raise :class:`InputError`.

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    params : dict
        Hyper-parameters of the model (names from its ``get_params()``); ``random_state``
        is set from ``seed``. Those of :data:`PARAM_LIMITS` must be whole numbers from 1
        to their limit.
    cv_folds : int
        Stratified cross-validation folds, from 2 to :data:`MAX_CV_FOLDS`.
    test_size : float
        Share of the data held out for testing when no test set is given, in (0, 1).
    seed : int
        Seeds the split, the folds and the model; in [0, 2**32).
    target : str
        Name of the label column.

    Examples
    --------
    >>> TrainConfig.from_dict({"model": "random_forest", "params": {"n_estimators": 50}}).params
    {'n_estimators': 50}
    >>> TrainConfig(model="svm")
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: config: unknown model 'svm'; valid models: gradient_boosting, ...
    """

    model: str = "random_forest"
    params: dict[str, Any] = field(default_factory=dict)
    cv_folds: int = 5
    test_size: float = 0.25
    seed: int = 0
    target: str = "target"

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or self.model not in MODELS:
            raise InputError(
                f"config: unknown model {short_repr(self.model)}; "
                f"valid models: {', '.join(sorted(MODELS))}"
            )
        if not isinstance(self.params, Mapping):
            raise InputError("config: 'params' must be a mapping of hyper-parameter names")
        object.__setattr__(self, "params", dict(self.params))
        valid = MODELS[self.model]().get_params()
        for name in self.params:
            if name == "random_state":
                raise InputError("config: set the model's random_state with 'seed', not params")
            if name not in valid:
                raise InputError(
                    f"config: unknown hyper-parameter {short_repr(name)} for model "
                    f"{self.model!r}; valid: {', '.join(sorted(valid))}"
                )
            _check_param_limit(name, self.params[name])
        check("config", "cv_folds", self.cv_folds, Integer(2, MAX_CV_FOLDS))
        check("config", "test_size", self.test_size, Real(0, 1, closed="neither"))
        check("config", "seed", self.seed, SEED)
        if not isinstance(self.target, str) or not self.target:
            raise InputError(
                f"config: target must be a column name, got {short_repr(self.target)}"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TrainConfig:
        """Build a config from a mapping; an unknown key is an :class:`InputError`."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InputError(f"config: expected a mapping of settings, got {type(data).__name__}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = [str(k) for k in data if k not in known]
        if unknown:
            raise InputError(
                f"config: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"valid keys: {', '.join(known)}"
            )
        return cls(**{str(k): v for k, v in data.items()})

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> TrainConfig:
        """Read a config from a YAML file (an empty file gives the defaults)."""
        source = Path(path)
        data = read_yaml(source)
        try:
            return cls.from_dict(data)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data (what :meth:`from_dict` reads back)."""
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """A fitted pipeline and how well it did.

    Attributes
    ----------
    pipeline : Pipeline
        The model fitted on the training data.
    config : TrainConfig
        The configuration it was trained with.
    metrics : dict
        Test metrics of :func:`~mlcicd.metrics.classification_metrics` plus ``cv_mean``,
        ``cv_std`` (accuracy over the folds) and ``fit_seconds``.
    prediction_balance : dict
        Share of each predicted class on the test set.
    feature_names, classes : list
        Input columns, in order, and the class labels.
    cv_scores : list
        Accuracy of each cross-validation fold.
    n_train, n_test : int
        Rows used for fitting and for testing.
    """

    pipeline: Pipeline
    config: TrainConfig
    metrics: dict[str, float]
    prediction_balance: dict[str, float]
    feature_names: list[str]
    classes: list[Any]
    cv_scores: list[float] = field(default_factory=list)
    n_train: int = 0
    n_test: int = 0


def build_pipeline(config: TrainConfig) -> Pipeline:
    """Median imputer (+ standard scaler for linear models) + the configured model.

    >>> [name for name, _ in build_pipeline(TrainConfig(model="logistic_regression")).steps]
    ['imputer', 'scaler', 'model']
    """
    params = {**_DEFAULT_PARAMS.get(config.model, {}), **config.params}
    model = MODELS[config.model](**params, random_state=config.seed)
    steps = preprocessing_steps(scale=config.model in _SCALED)
    return Pipeline([*steps, ("model", model)])


def split_xy(
    df: pd.DataFrame, target: str, *, source: str = "data"
) -> tuple[pd.DataFrame, pd.Series]:
    """Split a frame into float features and labels, with clear errors on bad input.

    Features may have missing values (the pipeline imputes them) but no text and no
    infinities; labels must all be present. ``source`` (e.g. the file name) starts
    every error message.

    >>> X, y = split_xy(pd.DataFrame({"a": [1, None], "target": [0, 1]}), "target")
    >>> X["a"].tolist(), y.tolist()
    ([1.0, nan], [0, 1])
    """
    require_columns(df, [target], source=source)
    features = df.drop(columns=[target])
    if features.shape[1] == 0:
        raise InputError(f"{source}: no feature columns besides the target {target!r}")
    y = _labels(df, target, source=source)
    return require_finite_numeric(features, source=source), y


def _labels(df: pd.DataFrame, target: str, *, source: str) -> pd.Series:
    y = df[target]
    if y.isna().any():
        raise InputError(
            f"{source}: target column {target!r} has {int(y.isna().sum())} missing labels"
        )
    return y


def model_features(model: Any, df: pd.DataFrame, *, source: str = "data") -> pd.DataFrame:
    """The columns ``model`` was fitted on, from ``df``, in order, as floats.

    Extra columns (the target, ids) are ignored; a missing one is an :class:`InputError`.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return require_finite_numeric(df, source=source)
    names = [str(n) for n in names]
    require_columns(df, names, source=source)
    return require_finite_numeric(df[names], source=source)


def train(
    config: TrainConfig,
    train_df: pd.DataFrame,
    test_df: pd.DataFrame | None = None,
) -> TrainResult:
    """Cross-validate, fit and test the configured pipeline.

    When ``test_df`` is None, ``config.test_size`` of ``train_df`` is held out,
    stratified by label and seeded by ``config.seed``.
    """
    if test_df is None:
        X_all, y_all = split_xy(train_df, config.target, source="training data")
        _require_classes(y_all, needed=2, what="training data")
        X, X_test, y, y_test = train_test_split(
            X_all, y_all, test_size=config.test_size, stratify=y_all, random_state=config.seed
        )
    else:
        X, y = split_xy(train_df, config.target, source="training data")
        X_test, y_test = split_xy(test_df, config.target, source="test data")
        missing = [c for c in X.columns if c not in X_test.columns]
        if missing:
            raise InputError(f"test data: missing column(s) {', '.join(map(repr, missing))}")
        X_test = X_test[list(X.columns)]
    _require_classes(y, needed=config.cv_folds, what="training data")
    pipeline = build_pipeline(config)
    started = time.perf_counter()
    try:
        pipeline.fit(X, y)
    except (ValueError, TypeError) as exc:
        # The inputs were checked above, so what is left is a bad hyper-parameter value.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"config: model {config.model!r} cannot be fitted: {reason}") from None
    fit_seconds = time.perf_counter() - started
    folds = StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    cv_scores = cross_val_score(
        build_pipeline(config), X, y, cv=folds, scoring="accuracy", error_score="raise"
    )
    predictions = pipeline.predict(X_test)
    metrics = classification_metrics(y_test, predictions, pipeline.predict_proba(X_test))
    metrics.update(
        cv_mean=float(np.mean(cv_scores)),
        cv_std=float(np.std(cv_scores)),
        fit_seconds=float(fit_seconds),
    )
    return TrainResult(
        pipeline=pipeline,
        config=config,
        metrics=metrics,
        prediction_balance=prediction_balance(predictions),
        feature_names=[str(c) for c in X.columns],
        classes=[c.item() if isinstance(c, np.generic) else c for c in pipeline.classes_],
        cv_scores=[float(s) for s in cv_scores],
        n_train=len(X),
        n_test=len(X_test),
    )


def evaluate(
    model: Any, df: pd.DataFrame, target: str, *, source: str = "data", name: str = "the model"
) -> dict[str, float]:
    """Metrics of a fitted model on labelled data (with ROC AUC when it gives scores).

    The model's own feature columns are taken from ``df``, in the order it was fitted on.
    Labels the model does not know, and a model that raises, are an :class:`InputError`
    naming ``source`` or the model (``name``).
    """
    require_columns(df, [target], source=source)
    y = _labels(df, target, source=source)
    require_known_labels(model, y, source=source, name=name)
    X = model_features(model, df.drop(columns=[target]), source=source)
    predictions, scores = predict_checked(model, X, name=name)
    return classification_metrics(y, predictions, scores)


def predict_checked(model: Any, X: Any, *, name: str = "the model") -> tuple[Any, Any]:
    """Predictions of ``model`` on ``X``, and its class scores when it gives them.

    A model that got here passed every check on load (hash, allow-list), so when it
    raises the model itself is at fault: its error becomes one :class:`InputError`
    naming it, instead of a traceback from deep inside scikit-learn.
    """
    from sklearn.exceptions import NotFittedError

    try:
        predictions = np.asarray(model.predict(X))
        scores = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    except NotFittedError:
        raise InputError(f"{name}: the model is not fitted") from None
    except Exception as exc:  # noqa: BLE001 - any failure of the model is reported as such
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise InputError(f"{name}: the model failed to predict ({type(exc).__name__}: "
                         f"{short_repr(reason)[1:-1]})") from None
    return predictions, scores


def require_known_labels(model: Any, y: Any, *, source: str = "data",
                         name: str = "the model") -> None:
    """Raise an :class:`InputError` when ``y`` holds labels that are not classes of ``model``.

    Labels of another kind (``"yes"``/``"no"`` for a model of 0/1) would otherwise give
    meaningless metrics or an error from deep inside scikit-learn.

    >>> from sklearn.dummy import DummyClassifier
    >>> model = DummyClassifier().fit([[0], [1]], [0, 1])
    >>> require_known_labels(model, [0, 1, 1])
    >>> require_known_labels(model, ["no", "yes"], source="batch.csv")
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: batch.csv: label(s) 'no', 'yes' are not classes of the model \
(it knows 0, 1)
    """
    classes = getattr(model, "classes_", None)
    if classes is None:
        return
    known = {python_scalar(c) for c in classes}
    found = {python_scalar(v) for v in pd.unique(pd.Series(list(y)).dropna())}
    unknown = sorted(found - known, key=str)
    if unknown:
        shown = ", ".join(short_repr(v) for v in unknown[:5]) + (" ..." if len(unknown) > 5
                                                                 else "")
        raise InputError(f"{source}: label(s) {shown} are not classes of {name} (it knows "
                         f"{', '.join(short_repr(c) for c in sorted(known, key=str)[:10])})")


def _check_param_limit(name: str, value: Any) -> None:
    limit = PARAM_LIMITS.get(name)
    if limit is None or value is None:  # max_depth=None means "no limit": sklearn's default
        return
    check("config", name, value, Integer(1, limit))


def _require_classes(y: pd.Series, *, needed: int, what: str) -> None:
    counts = y.value_counts()
    if len(counts) < 2:
        raise InputError(f"{what}: needs at least 2 classes, found {len(counts)}")
    if counts.min() < needed:
        raise InputError(
            f"{what}: class {counts.idxmin()!r} has {counts.min()} rows, "
            f"fewer than the {needed} cross-validation folds"
        )
