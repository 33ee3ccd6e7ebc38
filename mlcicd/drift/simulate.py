"""Simulated drift: a two-feature problem whose inputs, rule or label balance move.

The reference world (drift level 0): two features ``x1, x2`` drawn independently from a
standard normal distribution, and a fixed labelling rule, ``target = 1`` when
``x2 > x1`` (half the points on each side). A drift level in [0, 1] then moves one
thing at a time:

``"covariate"``
    The inputs move, the rule does not: both means shift by ``2.5 * level`` along the
    class boundary and both spreads grow by a factor ``1 + 0.5 * level``. Small levels
    stay where the model has seen data and hurt little; large levels push most points
    into a region never seen in training, where a tree model can only guess.
``"concept"``
    The inputs stay, the rule moves: the class boundary turns by ``level * 90`` degrees
    about the origin, so a share ``level / 2`` of the points change label.
``"prior"``
    The label balance moves: the share of label 1 goes from 0.5 to ``0.5 + 0.4 * level``
    while each class keeps its own input distribution (label shift).

:func:`drift_stream` strings the same worlds along time (abrupt or gradual drift after a
given row) and :func:`accuracy_under_drift` scores a model at several drift levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.errors import InputError
from mlcicd.params import Choice, Integer, Real, check

__all__ = [
    "FEATURES",
    "KINDS",
    "DESCRIPTIONS",
    "labelling_rule",
    "make_drifted",
    "reference_data",
    "covariate_drift",
    "concept_drift",
    "prior_shift",
    "drift_stream",
    "stream_levels",
    "accuracy_under_drift",
    "plot_accuracy_under_drift",
]

FEATURES = ("x1", "x2")
TARGET = "target"
KINDS = ("covariate", "concept", "prior")
MODES = ("abrupt", "gradual")
DESCRIPTIONS = {
    "covariate": "feature means shift by 2.5*level along the boundary, spreads grow by "
    "1+0.5*level; the labelling rule is unchanged",
    "concept": "features unchanged; the class boundary turns by level*90 degrees",
    "prior": "share of label 1 goes from 0.5 to 0.5+0.4*level; each class keeps its inputs",
}
MEAN_SHIFT, SPREAD_GROWTH, MAX_TURN, MAX_PRIOR_GAIN = 2.5, 0.5, np.pi / 2, 0.4


def labelling_rule(X: Any, level: float | np.ndarray = 0.0) -> np.ndarray:
    """The label of each point: 1 above the class boundary, 0 below.

    At ``level`` 0 the boundary is the line ``x2 = x1``; a concept-drift level turns it
    by ``level * 90`` degrees.

    >>> labelling_rule(pd.DataFrame({"x1": [0.0, 1.0], "x2": [1.0, 0.0]}))
    array([1, 0])
    """
    values = np.asarray(X[list(FEATURES)] if isinstance(X, pd.DataFrame) else X, dtype=float)
    angle = MAX_TURN * np.asarray(level, dtype=float)
    normal_x1 = -np.cos(angle) - np.sin(angle)
    normal_x2 = np.cos(angle) - np.sin(angle)
    return (values[:, 0] * normal_x1 + values[:, 1] * normal_x2 > 0).astype(int)


def make_drifted(
    kind: str = "covariate", level: float = 0.0, n: int = 1000, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series]:
    """``n`` labelled points of the world drifted by ``level`` in the given ``kind``.

    Returns the features (columns ``x1``, ``x2``) and the labels (``target``, 0 or 1).
    See the module documentation for what each kind moves.

    >>> X, y = make_drifted("covariate", level=1.0, n=2000, seed=0)
    >>> round(float(X["x1"].mean()), 1), round(float(X["x1"].std()), 1)
    (2.5, 1.5)
    """
    check("make_drifted", "kind", kind, Choice(KINDS))
    level = check("make_drifted", "level", level, _LEVEL)
    n = check("make_drifted", "n", n, _SIZE)
    return _generate(kind, np.full(n, float(level)), np.random.default_rng(seed))


def reference_data(n: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """The undrifted world (level 0), to train the model on."""
    return make_drifted("covariate", 0.0, n, seed)


def covariate_drift(level: float, n: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Inputs move, rule unchanged; see :func:`make_drifted`."""
    return make_drifted("covariate", level, n, seed)


def concept_drift(level: float, n: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Rule moves, inputs unchanged; see :func:`make_drifted`."""
    return make_drifted("concept", level, n, seed)


def prior_shift(level: float, n: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Label balance moves, each class's inputs unchanged; see :func:`make_drifted`."""
    return make_drifted("prior", level, n, seed)


def drift_stream(
    n: int,
    drift_at: int,
    *,
    kind: str = "covariate",
    mode: str = "abrupt",
    width: int = 1,
    level: float = 1.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """A stream of ``n`` points, undrifted before row ``drift_at`` and drifted after.

    ``mode="abrupt"`` jumps to ``level`` at row ``drift_at``; ``mode="gradual"`` climbs
    linearly from 0 to ``level`` over the next ``width`` rows. The rows are indexed by
    time step ``t``; :func:`stream_levels` gives the drift level of each row.

    >>> X, y = drift_stream(100, 50, kind="covariate", mode="abrupt", seed=0)
    >>> bool(X["x1"].iloc[:50].mean() < 1 < X["x1"].iloc[50:].mean())
    True
    """
    check("drift_stream", "kind", kind, Choice(KINDS))
    levels = stream_levels(n, drift_at, mode=mode, width=width, level=level)
    X, y = _generate(kind, levels, np.random.default_rng(seed))
    X.index.name = y.index.name = "t"
    return X, y


def stream_levels(
    n: int, drift_at: int, *, mode: str = "abrupt", width: int = 1, level: float = 1.0
) -> np.ndarray:
    """The drift level of each row of :func:`drift_stream`.

    >>> stream_levels(6, 2, mode="gradual", width=4)
    array([0.  , 0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    caller = "stream_levels"
    n = check(caller, "n", n, _SIZE)
    level = check(caller, "level", level, _LEVEL)
    drift_at = check(caller, "drift_at", drift_at, Integer(0, n))
    mode = check(caller, "mode", mode, Choice(MODES))
    width = check(caller, "width", width, _SIZE)
    steps = np.arange(n) - drift_at
    if mode == "abrupt":
        return np.where(steps >= 0, float(level), 0.0)
    return float(level) * np.clip((steps + 1) / width, 0.0, 1.0)


def accuracy_under_drift(
    model: Any,
    kind: str | Sequence[str],
    levels: Iterable[float],
    n: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Score a fitted ``model`` on fresh test sets drifted further and further.

    Parameters
    ----------
    model : fitted classifier with ``predict``
        Trained on the undrifted world, e.g. on :func:`reference_data`.
    kind : str or sequence of str
        One or several of :data:`KINDS`.
    levels : iterable of float in [0, 1]
    n : int
        Test points per level. ``seed`` makes the test sets reproducible; every level
        uses the same underlying random draws, so the curve is smooth.

    Returns
    -------
    DataFrame
        One row per kind and level: ``kind``, ``level``, ``accuracy``,
        ``positive_share`` (true labels) and ``predicted_positive_share``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = reference_data(500, seed=0)
    >>> model = LogisticRegression().fit(X, y)
    >>> table = accuracy_under_drift(model, "concept", [0.0, 1.0], n=1000)
    >>> table["accuracy"].round(1).tolist()
    [1.0, 0.5]
    """
    kinds = [kind] if isinstance(kind, str) else list(kind)
    for name in kinds:
        check("accuracy_under_drift", "kind", name, Choice(KINDS))
    levels = [check("accuracy_under_drift", "levels", level, _LEVEL) for level in levels]
    rows = []
    for name in kinds:
        for level in levels:
            X, y = make_drifted(name, level, n, seed)
            predicted = np.asarray(model.predict(X))
            rows.append(
                {
                    "kind": name,
                    "level": level,
                    "accuracy": float(np.mean(predicted == y.to_numpy())),
                    "positive_share": float(y.mean()),
                    "predicted_positive_share": float(np.mean(predicted == 1)),
                }
            )
    return pd.DataFrame(rows)


def plot_accuracy_under_drift(
    table: pd.DataFrame, *, min_accuracy: float | None = None, ax: Any = None
) -> Any:
    """Accuracy against drift level, one line per kind, from :func:`accuracy_under_drift`.

    ``min_accuracy`` draws the minimum acceptable accuracy as a dashed line. Returns the
    matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    required = {"kind", "level", "accuracy"}
    if not isinstance(table, pd.DataFrame) or not required <= set(table.columns):
        raise InputError("table must be the DataFrame returned by accuracy_under_drift")
    fig, ax = plt.subplots(figsize=(6, 3.5)) if ax is None else (ax.figure, ax)
    for kind, rows in table.groupby("kind", sort=False):
        ax.plot(rows["level"], rows["accuracy"], marker="o", label=f"{kind} drift")
    if min_accuracy is not None:
        ax.axhline(min_accuracy, color="black", linestyle="--", linewidth=1,
                   label=f"minimum acceptable ({min_accuracy:.0%})")
    ax.set_xlabel("drift level")
    ax.set_ylabel("accuracy")
    ax.set_ylim(min(0.4, float(table["accuracy"].min()) - 0.05), 1.01)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _generate(
    kind: str, levels: np.ndarray, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.Series]:
    n = levels.size
    points = rng.normal(size=(n, 2))
    uniforms = rng.random(n)
    if kind == "covariate":
        shift = MEAN_SHIFT * levels[:, None]
        points = shift + (1.0 + SPREAD_GROWTH * levels[:, None]) * points
        labels = labelling_rule(points)
    elif kind == "concept":
        labels = labelling_rule(points, levels)
    else:
        wanted = (uniforms < 0.5 + MAX_PRIOR_GAIN * levels).astype(int)
        # Swapping x1 and x2 mirrors a point across the boundary x2 = x1: the standard
        # normal is symmetric about that line, so each class keeps its distribution.
        wrong_side = labelling_rule(points) != wanted
        points[wrong_side] = points[wrong_side][:, ::-1]
        labels = wanted
    X = pd.DataFrame(points, columns=list(FEATURES))
    return X, pd.Series(labels, name=TARGET, index=X.index)


#: A drift level: 0 is the reference world, 1 the fully drifted one.
_LEVEL = Real(0, 1)
_SIZE = Integer(low=1)
