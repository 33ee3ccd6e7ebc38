"""Baseline vs candidate on the same test rows: the pull-request model check.

:func:`compare_models` scores both models on one test set and returns a
:class:`ComparisonReport`: every metric side by side with its change, a paired
bootstrap interval for the accuracy difference, an exact McNemar test on the paired
predictions, the models' sizes and prediction times, and a verdict. Its
:meth:`~ComparisonReport.to_markdown` is the comment a pull-request workflow posts;
the hidden marker :data:`MARKER` on its first line lets the workflow find and update
its own comment instead of adding a new one on every push.

This module computes (the data and the verdict); :mod:`mlcicd.compare_render` presents
(the comment, JSON, the plot), and the report's methods call it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcicd import compare_render
from mlcicd.artifacts import LoadedModel, load_model
from mlcicd.compare_render import MARKER, pp
from mlcicd.errors import InputError
from mlcicd.gate import GATED_METRICS, GateThresholds, as_thresholds
from mlcicd.metrics import METRIC_NAMES, classification_metrics
from mlcicd.params import Real, check
from mlcicd.stats import BootstrapResult, McNemarResult, bootstrap_diff_ci, mcnemar_test
from mlcicd.training import model_features, predict_checked, require_known_labels, split_xy

__all__ = ["MARKER", "ComparisonReport", "compare_models"]


# A drop of exactly the tolerance passes; float noise must not fail it.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ComparisonReport:
    """Result of :func:`compare_models`. Metric values are fractions in [0, 1].

    Attributes
    ----------
    baseline_metrics, candidate_metrics : dict
        Output of :func:`mlcicd.metrics.classification_metrics` for each model.
    max_regression : float
        Largest drop allowed for any metric (0.01 = one percentage point).
    n_rows : int
        Number of test rows.
    accuracy_ci : BootstrapResult
        Paired bootstrap interval of candidate minus baseline accuracy.
    mcnemar : McNemarResult
        Exact McNemar test, model A = baseline, model B = candidate.
    seed : int
        Seed of the bootstrap.
    baseline_size_bytes, candidate_size_bytes : int or None
        Size of each model file (or of the model serialised with skops).
    baseline_ms_per_1000, candidate_ms_per_1000 : float or None
        Best-of-repeats prediction time per 1,000 rows, in milliseconds (volatile).
    baseline_label, candidate_label : str
        How the models are named in the report (e.g. their folders).
    regression_metrics : tuple of str
        The metrics the verdict checks against ``max_regression`` (the gate's
        ``regression_metrics``); the others are shown for information only.
    """

    baseline_metrics: dict[str, float]
    candidate_metrics: dict[str, float]
    max_regression: float
    n_rows: int
    accuracy_ci: BootstrapResult
    mcnemar: McNemarResult
    seed: int = 0
    baseline_size_bytes: int | None = None
    candidate_size_bytes: int | None = None
    baseline_ms_per_1000: float | None = None
    candidate_ms_per_1000: float | None = None
    baseline_label: str = "baseline"
    candidate_label: str = "candidate"
    regression_metrics: tuple[str, ...] = GATED_METRICS

    @property
    def metric_names(self) -> list[str]:
        """Metrics both models have, in display order."""
        order = [*METRIC_NAMES, "roc_auc"]
        extra = sorted(set(self.baseline_metrics) - set(order))
        return [
            name
            for name in order + extra
            if name in self.baseline_metrics and name in self.candidate_metrics
        ]

    @property
    def changes(self) -> dict[str, float]:
        """Candidate minus baseline, per metric."""
        return {
            name: self.candidate_metrics[name] - self.baseline_metrics[name]
            for name in self.metric_names
        }

    @property
    def checked(self) -> list[str]:
        """The metrics the verdict rests on: ``regression_metrics`` both models have."""
        return [name for name in self.metric_names if name in self.regression_metrics]

    @property
    def failures(self) -> list[str]:
        """Checked metrics that drop by more than ``max_regression``."""
        return [
            name
            for name in self.checked
            if self.changes[name] < -self.max_regression - _TOLERANCE
        ]

    @property
    def passed(self) -> bool:
        """True unless some metric drops by more than ``max_regression``."""
        return not self.failures

    @property
    def verdict(self) -> str:
        """One line saying whether the candidate passes, and if not, why."""
        allowed = pp(self.max_regression, signed=False)
        if self.passed:
            return f"Candidate passes: no metric regresses by more than {allowed}."
        drops = ", ".join(
            f"{name} {pp(self.changes[name])}" for name in self.failures
        )
        return f"Candidate fails: {drops} (allowed drop: {allowed})."

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: baseline, candidate, change, whether checked and passed."""
        failures, checked = set(self.failures), set(self.checked)
        rows = [
            {
                "metric": name,
                "baseline": self.baseline_metrics[name],
                "candidate": self.candidate_metrics[name],
                "change": change,
                "checked": name in checked,
                "passed": name not in failures,
            }
            for name, change in self.changes.items()
        ]
        return pd.DataFrame(rows).set_index("metric")

    def to_markdown(self, include_timing: bool = True) -> str:
        """The pull-request comment (see :func:`mlcicd.compare_render.to_markdown`).

        ``include_timing=False`` leaves out prediction times, which differ from run to
        run, so that a notebook's output stays the same on every execution.
        """
        return compare_render.to_markdown(self, include_timing)

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-ready values; :meth:`from_dict` reads it back."""
        return compare_render.to_dict(self)

    def to_json(self) -> str:
        """:meth:`to_dict` as indented, key-sorted JSON text."""
        return compare_render.to_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComparisonReport:
        """Rebuild a report from :meth:`to_dict` output (derived keys are ignored)."""
        values = {k: v for k, v in data.items() if k not in {"passed", "failures", "changes"}}
        values["accuracy_ci"] = BootstrapResult(**values["accuracy_ci"])
        values["mcnemar"] = McNemarResult(**values["mcnemar"])
        if "regression_metrics" in values:
            values["regression_metrics"] = tuple(values["regression_metrics"])
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> ComparisonReport:
        """Rebuild a report from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of each metric's change (see :func:`mlcicd.compare_render.plot`)."""
        return compare_render.plot(self, ax)



def compare_models(
    baseline: Any,
    candidate: Any,
    test_df: pd.DataFrame,
    target: str = "target",
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    max_regression: float | None = None,
    thresholds: GateThresholds | Any = None,
    baseline_path: str | os.PathLike[str] | None = None,
    candidate_path: str | os.PathLike[str] | None = None,
    timing_repeats: int = 3,
) -> ComparisonReport:
    """Score a baseline and a candidate on the same test rows and compare them.

    Parameters
    ----------
    baseline, candidate
        Fitted estimators, :class:`~mlcicd.artifacts.LoadedModel` objects, or artifact
        folders (loaded with :func:`~mlcicd.artifacts.load_model`).
    test_df : DataFrame
        Labelled test rows: the features each model expects plus ``target``.
    target : str
        Name of the label column.
    n_resamples, seed
        Paired bootstrap of the accuracy difference.
    max_regression : float, optional
        Largest drop allowed for a checked metric, in [0, 1] (0.01 = one percentage
        point). Default 0.01 over :data:`~mlcicd.gate.GATED_METRICS`, unless
        ``thresholds`` is given.
    thresholds : GateThresholds, mapping or YAML path, optional
        The quality gate (e.g. ``config/gate.yaml``): its ``max_regression`` and
        ``regression_metrics`` are used, so the comparison and the gate apply one policy.
        Give this or ``max_regression``, not both.
    baseline_path, candidate_path
        Model files or artifact folders, for the size and the labels in the report,
        when plain estimators are given.
    timing_repeats : int
        Prediction time is the best of this many runs.

    Returns
    -------
    ComparisonReport

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from mlcicd.datasets import load_breast_cancer_frame, split_frame
    >>> from mlcicd.training import TrainConfig, build_pipeline, split_xy
    >>> train_df, test_df = split_frame(load_breast_cancer_frame(), seed=0)
    >>> X, y = split_xy(train_df, "target")
    >>> baseline = build_pipeline(TrainConfig(model="logistic_regression")).fit(X, y)
    >>> candidate = DummyClassifier().fit(X, y)   # always says "benign"
    >>> report = compare_models(baseline, candidate, test_df, n_resamples=200)
    >>> report.passed, report.failures[:2]
    (False, ['accuracy', 'precision'])
    >>> print(report.to_markdown(include_timing=False).splitlines()[1])
    ## Model check: candidate fails ❌
    """
    max_regression, checked = _regression_policy(max_regression, thresholds)
    if not isinstance(test_df, pd.DataFrame) or test_df.empty:
        raise InputError("test_df must be a non-empty pandas DataFrame")
    X, y = split_xy(test_df, target)
    y = np.asarray(y)
    scored = {}
    for role, model, path in (
        ("baseline", baseline, baseline_path),
        ("candidate", candidate, candidate_path),
    ):
        scored[role] = _score(role, model, path, X, y, max(1, int(timing_repeats)))
    base, cand = scored["baseline"], scored["candidate"]
    return ComparisonReport(
        baseline_metrics=base["metrics"],
        candidate_metrics=cand["metrics"],
        max_regression=float(max_regression),
        n_rows=len(y),
        accuracy_ci=bootstrap_diff_ci(
            y, base["pred"], cand["pred"], "accuracy", n_resamples=n_resamples, seed=seed
        ),
        mcnemar=mcnemar_test(y, base["pred"], cand["pred"]),
        seed=int(seed),
        baseline_size_bytes=base["size"],
        candidate_size_bytes=cand["size"],
        baseline_ms_per_1000=base["ms"],
        candidate_ms_per_1000=cand["ms"],
        baseline_label=base["label"],
        candidate_label=cand["label"],
        regression_metrics=checked,
    )


def _regression_policy(max_regression: Any, thresholds: Any) -> tuple[float, tuple[str, ...]]:
    if thresholds is not None:
        if max_regression is not None:
            raise InputError("give max_regression or thresholds (the gate file), not both")
        gate = as_thresholds(thresholds)
        if gate.max_regression is None:
            raise InputError("the quality gate sets no max_regression to compare with")
        return gate.max_regression, gate.checked_metrics
    if max_regression is None:
        max_regression = 0.01
    return check("compare_models", "max_regression", max_regression, Real(0, 1)), GATED_METRICS


def _score(role: str, model: Any, path: Any, X: pd.DataFrame, y: np.ndarray, repeats: int
           ) -> dict[str, Any]:
    if isinstance(model, str | os.PathLike):
        path = Path(model)
        model = load_model(model)
    label, size = role, None
    if isinstance(model, LoadedModel):
        label = str(path if path is not None else model.directory)
        size = model.path.stat().st_size if model.path.is_file() else None
        model = model.model
    elif path is not None:
        label, size = str(path), _size_on_disk(Path(path))
    if not hasattr(model, "predict"):
        raise InputError(f"{role}: expected a fitted estimator, got {type(model).__name__}")
    if size is None:
        size = _serialised_size(model)
    name = role if label == role else f"{role} {label}"
    require_known_labels(model, y, source="test data", name=name)
    features = model_features(model, X, source=f"test data for the {role}")
    pred, proba = predict_checked(model, features, name=name)
    return {
        "pred": pred,
        "metrics": classification_metrics(y, pred, proba),
        "size": size,
        "ms": _ms_per_1000(model, features, repeats),
        "label": label,
    }


def _ms_per_1000(model: Any, X: pd.DataFrame, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(X)
        best = min(best, time.perf_counter() - start)
    return best / len(X) * 1000 * 1000


def _size_on_disk(path: Path) -> int | None:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir() and (path / "metadata.json").is_file():
        # A folder keeps the models of its last deployments: the committed one counts.
        from mlcicd.artifacts import read_metadata

        return int(read_metadata(path)["size_bytes"])
    models = sorted(path.glob("model-*.skops")) if path.is_dir() else []
    return models[0].stat().st_size if len(models) == 1 else None


def _serialised_size(model: Any) -> int | None:
    import skops.io as sio

    try:
        return len(sio.dumps(model))
    except Exception:  # a model skops cannot store simply has no size to show
        return None
