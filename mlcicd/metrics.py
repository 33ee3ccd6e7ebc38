"""Classification metrics, computed one way everywhere.

Training, comparison, the quality gate, the deployment strategies and the monitor all
call :func:`classification_metrics`, so a number named ``f1`` means the same thing in
every report of the project.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

__all__ = ["METRIC_NAMES", "classification_metrics", "prediction_balance"]

#: Metrics every report carries, in display order. ``roc_auc`` is added when scores exist.
METRIC_NAMES = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
)


def classification_metrics(
    y_true: Any,
    y_pred: Any,
    y_score: Any | None = None,
) -> dict[str, float]:
    """Accuracy, precision, recall and F1 (binary and weighted), plus ROC AUC when scored.

    For two classes the plain ``precision``, ``recall`` and ``f1`` are those of the
    positive (larger) label; for more classes they are macro averages. ``y_score`` is
    the probability of the positive class (binary) or the full probability matrix.
    Undefined ratios (no predicted positives) count as 0 rather than warning.

    >>> m = classification_metrics([0, 1, 1, 0], [0, 1, 0, 0], [0.1, 0.9, 0.4, 0.2])
    >>> round(m["accuracy"], 2), round(m["recall"], 2), m["roc_auc"]
    (0.75, 0.5, 1.0)
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    labels = np.unique(np.concatenate([y_true, y_pred]))
    binary = len(labels) <= 2
    average = "binary" if binary else "macro"
    pos_label = labels.max() if binary and len(labels) else 1
    kwargs: dict[str, Any] = {"average": average, "zero_division": 0}
    if binary:
        kwargs["pos_label"] = pos_label
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision_score(y_true, y_pred, **kwargs)),
        "recall": float(recall_score(y_true, y_pred, **kwargs)),
        "f1": float(f1_score(y_true, y_pred, **kwargs)),
        "precision_weighted": float(
            precision_score(y_true, y_pred, average="weighted", zero_division=0)
        ),
        "recall_weighted": float(
            recall_score(y_true, y_pred, average="weighted", zero_division=0)
        ),
        "f1_weighted": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
    }
    if y_score is not None and len(np.unique(y_true)) > 1:
        score = np.asarray(y_score, dtype=float)
        if score.ndim == 2 and score.shape[1] == 2:
            score = score[:, 1]
        multi = {"multi_class": "ovr"} if score.ndim == 2 else {}
        metrics["roc_auc"] = float(roc_auc_score(y_true, score, **multi))
    return metrics


def prediction_balance(y_pred: Any) -> dict[str, float]:
    """Share of each predicted class, keyed by the class as text (JSON-friendly).

    A model that predicts one class for everything is degenerate even when its
    accuracy looks fine on an imbalanced test set; this is how we see it.

    >>> prediction_balance([0, 1, 1, 1])
    {'0': 0.25, '1': 0.75}
    """
    values, counts = np.unique(np.asarray(y_pred), return_counts=True)
    total = counts.sum()
    return {
        str(v.item() if hasattr(v, "item") else v): float(c / total)
        for v, c in zip(values, counts, strict=True)
    }
