"""Behavioural tests of a trained model, per-slice quality with a gate, and calibration.

An aggregate accuracy hides *how* a model is right. The checks here ask sharper questions,
in the spirit of CheckList (Ribeiro et al., 2020):

* **minimum functionality** (:func:`minimum_functionality_test`): cases so clear that any
  acceptable model must get them right;
* **invariance** (:func:`invariance_test`): a change that must not change the answer
  (a unit conversion that the pipeline undoes, noise far below measurement precision);
* **directional expectation** (:func:`directional_test`): a change that may only move the
  predicted probability one way (a larger tumour must not look *more* benign);
* **slices** (:func:`slice_gate`): quality measured per group of rows, with a confidence
  interval, so one group's failure is not averaged away by the others;
* **calibration** (:func:`calibration_report`): does "90 % sure" mean right 9 times in 10?
* **feature value** (:func:`feature_value`): does each input still earn its place?

The first three run on fixed, reviewed cases, so they are deterministic specifications, not
estimates. The slice gate and calibration judge samples and therefore state their error
rates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.boundaries import clopper_pearson
from mlcicd.errors import InputError
from mlcicd.params import Choice, Integer, Real, check

__all__ = [
    "BehaviourResult",
    "CalibrationReport",
    "SliceReport",
    "calibration_report",
    "directional_test",
    "feature_value",
    "invariance_test",
    "minimum_functionality_test",
    "slice_gate",
]


@dataclass(frozen=True)
class BehaviourResult:
    """Outcome of one behavioural test: how many cases broke the expectation."""

    name: str
    n_cases: int
    n_failed: int
    max_failure_rate: float
    failures: pd.DataFrame = field(repr=False)

    @property
    def failure_rate(self) -> float:
        return self.n_failed / self.n_cases

    @property
    def passed(self) -> bool:
        return self.failure_rate <= self.max_failure_rate

    def summary(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (f"{self.name}: {verdict}, {self.n_failed} of {self.n_cases} cases broke the "
                f"expectation (allowed {self.max_failure_rate:.0%})")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cases": self.n_cases, "failed": self.n_failed,
                "failure_rate": self.failure_rate, "passed": self.passed}


def _frame(X: Any, argument: str) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame) or X.empty:
        raise InputError(f"{argument}: expected a non-empty DataFrame of cases")
    return X


def _rate(value: float, caller: str) -> float:
    return check(caller, "max_failure_rate", value, Real(0, 1))


def _perturbed(X: pd.DataFrame, perturb: Callable[[pd.DataFrame], pd.DataFrame]
               ) -> pd.DataFrame:
    changed = perturb(X.copy())
    if not isinstance(changed, pd.DataFrame) or changed.shape != X.shape:
        raise InputError(f"perturb must return a DataFrame of shape {X.shape}")
    return changed


def minimum_functionality_test(model: Any, X: Any, expected: Any, *, name: str,
                               max_failure_rate: float = 0.0) -> BehaviourResult:
    """Cases with an obvious answer: the model must give it.

    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X = pd.DataFrame({"size": [1.0, 2.0, 9.0, 10.0]})
    >>> model = DecisionTreeClassifier().fit(X, [0, 0, 1, 1])
    >>> minimum_functionality_test(model, pd.DataFrame({"size": [0.5, 11.0]}), [0, 1],
    ...                            name="extremes").summary()
    'extremes: passed, 0 of 2 cases broke the expectation (allowed 0%)'
    """
    cases = _frame(X, "X")
    truth = np.asarray(expected)
    if truth.shape != (len(cases),):
        raise InputError(f"expected: one answer per case ({len(cases)}), got shape "
                         f"{truth.shape}")
    predicted = np.asarray(model.predict(cases))
    wrong = predicted != truth
    failures = cases[wrong].assign(expected=truth[wrong], predicted=predicted[wrong])
    return BehaviourResult(name, len(cases), int(wrong.sum()),
                           _rate(max_failure_rate, "minimum_functionality_test"),
                           failures)


def invariance_test(model: Any, X: Any, perturb: Callable[[pd.DataFrame], pd.DataFrame], *,
                    name: str, max_failure_rate: float = 0.0) -> BehaviourResult:
    """A change that must not change the predicted class.

    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X = pd.DataFrame({"size": [1.0, 2.0, 9.0, 10.0], "id": [4.0, 3.0, 2.0, 1.0]})
    >>> model = DecisionTreeClassifier(random_state=0).fit(X[["size"]].assign(id=0.0),
    ...                                                     [0, 0, 1, 1])
    >>> invariance_test(model, X, lambda d: d.assign(id=d["id"] * 100),
    ...                 name="id is ignored").passed
    True
    """
    cases = _frame(X, "X")
    before = np.asarray(model.predict(cases))
    changed = _perturbed(cases, perturb)
    after = np.asarray(model.predict(changed))
    flipped = before != after
    failures = cases[flipped].assign(before=before[flipped], after=after[flipped])
    return BehaviourResult(name, len(cases), int(flipped.sum()),
                           _rate(max_failure_rate, "invariance_test"),
                           failures)


def directional_test(model: Any, X: Any, perturb: Callable[[pd.DataFrame], pd.DataFrame], *,
                     name: str, expect: str, positive_class: Any = 1, tolerance: float = 1e-9,
                     max_failure_rate: float = 0.0) -> BehaviourResult:
    """A change that may move the probability of ``positive_class`` only one way.

    ``expect`` is ``"increase"`` or ``"decrease"``; a row fails when its probability moves
    the other way by more than ``tolerance`` (staying equal is allowed: a tree may not
    react to a small change).

    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"size": [1.0, 2.0, 9.0, 10.0]})
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> directional_test(model, X, lambda d: d.assign(size=d["size"] + 1),
    ...                  name="bigger is riskier", expect="increase").passed
    True
    """
    check("directional_test", "expect", expect, Choice(("increase", "decrease")))
    classes = list(getattr(model, "classes_", []))
    if positive_class not in classes:
        raise InputError(f"positive_class {positive_class!r} is not one of the model's "
                         f"classes {classes}")
    cases = _frame(X, "X")
    column = classes.index(positive_class)
    before = model.predict_proba(cases)[:, column]
    after = model.predict_proba(_perturbed(cases, perturb))[:, column]
    moved = after - before
    wrong = moved < -tolerance if expect == "increase" else moved > tolerance
    failures = cases[wrong].assign(before=before[wrong], after=after[wrong])
    return BehaviourResult(name, len(cases), int(wrong.sum()),
                           _rate(max_failure_rate, "directional_test"),
                           failures)


@dataclass(frozen=True)
class SliceReport:
    """Accuracy per slice with one-sided Clopper-Pearson bounds, and the gate's verdict.

    ``status`` per slice: ``"fail"`` when the upper bound is under ``min_accuracy``
    (evidence the slice is worse), ``"pass"`` when the lower bound clears it,
    ``"uncertain"`` otherwise, ``"too few rows"`` under ``min_rows``.
    """

    table: pd.DataFrame
    min_accuracy: float
    alpha: float

    @property
    def failed_slices(self) -> list[str]:
        return [str(s) for s in self.table.index[self.table["status"] == "fail"]]

    @property
    def passed(self) -> bool:
        return not self.failed_slices

    @property
    def judged(self) -> int:
        """Slices with enough rows to be tested: the Bonferroni divisor of ``alpha``."""
        return int((self.table["status"] != "too few rows").sum())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def risks(self) -> str:
        """What the gate risks, in one sentence."""
        return (f"A model whose every slice is at least {self.min_accuracy:.0%} accurate is "
                f"failed in at most {self.alpha:.0%} of evaluations (Bonferroni over the "
                f"{self.judged} slice{'' if self.judged == 1 else 's'} with enough rows to judge); "
                "a slice that is worse passes unnoticed when it "
                "has too few rows to show it, so read the 'uncertain' rows.")


def slice_gate(y_true: Any, y_pred: Any, slices: Any, *, min_accuracy: float,
               alpha: float = 0.05, min_rows: int = 20) -> SliceReport:
    """Per-slice accuracy, and a gate that fails only on evidence.

    Each slice is tested at level ``alpha / k`` for ``k`` slices judged, so a model whose
    slices all meet ``min_accuracy`` fails the gate with probability at most ``alpha``.

    >>> y = np.array([1] * 100 + [0] * 100)
    >>> pred = np.r_[np.ones(100), np.zeros(60), np.ones(40)]   # slice "b" is 60 % right
    >>> report = slice_gate(y, pred, ["a"] * 100 + ["b"] * 100, min_accuracy=0.9)
    >>> report.failed_slices, report.passed
    (['b'], False)
    """
    truth, predicted = np.asarray(y_true), np.asarray(y_pred)
    groups = pd.Series(np.asarray(slices, dtype=object))
    if not (truth.shape == predicted.shape == (len(groups),)) or len(groups) == 0:
        raise InputError("y_true, y_pred and slices must be non-empty and of one length")
    check("slice_gate", "min_accuracy", min_accuracy, Real(0, 1, closed="neither"))
    check("slice_gate", "alpha", alpha, Real(0, 0.5, closed="neither"))
    check("slice_gate", "min_rows", min_rows, Integer(1))
    correct = pd.Series(truth == predicted).groupby(groups.to_numpy())
    table = pd.DataFrame({"rows": correct.size(), "correct": correct.sum().astype(int)})
    table.index.name = "slice"
    table["accuracy"] = table["correct"] / table["rows"]
    judged = table["rows"] >= min_rows
    per_slice_alpha = alpha / max(int(judged.sum()), 1)
    low, high = clopper_pearson(table["correct"].to_numpy(), table["rows"].to_numpy(),
                                 per_slice_alpha)
    table["lower_bound"], table["upper_bound"] = low, high
    table["status"] = np.select(
        [~judged, table["upper_bound"] < min_accuracy, table["lower_bound"] >= min_accuracy],
        ["too few rows", "fail", "pass"], default="uncertain")
    return SliceReport(table=table, min_accuracy=float(min_accuracy), alpha=float(alpha))


@dataclass(frozen=True)
class CalibrationReport:
    """Reliability table: per bin of predicted probability, how often the class occurred.

    ``ece`` is the expected calibration error (row-weighted mean gap between predicted and
    observed); ``brier`` the mean squared error of the probabilities. ECE is biased upwards
    on small samples, so read it next to the bins' intervals (``low``, ``high``, two-sided
    Clopper-Pearson at ``1 - alpha``): a bin whose interval misses its mean prediction is
    miscalibrated beyond noise.
    """

    table: pd.DataFrame
    ece: float
    brier: float

    @property
    def miscalibrated_bins(self) -> int:
        t = self.table
        return int(((t["mean_predicted"] < t["low"]) | (t["mean_predicted"] > t["high"])).sum())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def plot(self, ax: Any = None, label: str | None = None) -> Any:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 4.5))
        t = self.table
        ax.plot([0, 1], [0, 1], color="gray", linestyle=":", label="perfectly calibrated")
        ax.errorbar(t["mean_predicted"], t["observed"],
                    yerr=[t["observed"] - t["low"], t["high"] - t["observed"]],
                    marker="o", capsize=3, label=label or f"ECE {self.ece:.3f}")
        ax.set_xlabel("mean predicted probability")
        ax.set_ylabel("observed frequency")
        ax.legend(loc="upper left")
        return ax


def calibration_report(y_true: Any, probability: Any, *, positive_class: Any = 1,
                       bins: int = 10, alpha: float = 0.05) -> CalibrationReport:
    """Bin the predicted probability of ``positive_class`` and compare with what happened.

    Bins are equal-width on [0, 1]; empty bins are left out.

    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0, 1, 20000)
    >>> report = calibration_report(rng.random(20000) < p, p, positive_class=True)
    >>> report.ece < 0.02, report.miscalibrated_bins <= 1
    (True, True)
    """
    truth = np.asarray(y_true) == positive_class
    prob = np.asarray(probability, dtype=np.float64)
    if prob.shape != truth.shape or prob.ndim != 1 or prob.size == 0:
        raise InputError("probability: expected one probability per label")
    if not np.isfinite(prob).all() or prob.min() < 0 or prob.max() > 1:
        raise InputError("probability: values must be finite and in [0, 1]")
    check("calibration_report", "bins", bins, Integer(low=2))
    which = np.minimum((prob * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": which, "p": prob, "y": truth.astype(int)})
    grouped = frame.groupby("bin")
    table = pd.DataFrame({"rows": grouped.size(), "mean_predicted": grouped["p"].mean(),
                          "observed": grouped["y"].mean(), "positives": grouped["y"].sum()})
    low, high = clopper_pearson(table["positives"].to_numpy(), table["rows"].to_numpy(),
                                 alpha / 2)
    table["low"], table["high"] = low, high
    ece = float(np.sum(table["rows"] * (table["observed"] - table["mean_predicted"]).abs())
                / prob.size)
    brier = float(np.mean((prob - truth) ** 2))
    return CalibrationReport(table=table.drop(columns="positives"), ece=ece, brier=brier)


def feature_value(model: Any, X: Any, y: Any, *, n_repeats: int = 20, seed: int = 0
                  ) -> pd.DataFrame:
    """Accuracy lost when each feature is shuffled (permutation importance), per feature.

    A feature whose shuffling costs nothing measurable is not used by the model, or is
    redundant with others: either way it is a cost (collection, storage, a dependency
    that can break) without a benefit, and a candidate for removal after review.
    ``useful`` is True when the mean loss minus two standard deviations over the
    repeats is above zero. Use rows the model did not train on (on training rows a
    model's use of noise looks like value). The spread covers only the shuffling, not
    the choice of rows: this is a screen to read, not a gate.

    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"signal": rng.normal(size=300), "noise": rng.normal(size=300)})
    >>> y = (X["signal"] > 0).astype(int)
    >>> model = LogisticRegression().fit(X[:200], y[:200])     # judged on held-out rows
    >>> table = feature_value(model, X[200:], y[200:], n_repeats=5)
    >>> table["useful"].to_dict()
    {'signal': True, 'noise': False}
    """
    from sklearn.inspection import permutation_importance

    cases = _frame(X, "X")
    check("feature_value", "n_repeats", n_repeats, Integer(low=2))
    result = permutation_importance(model, cases, np.asarray(y), n_repeats=n_repeats,
                                    random_state=seed, scoring="accuracy")
    table = pd.DataFrame({"accuracy_lost": result.importances_mean,
                          "spread": result.importances_std}, index=cases.columns)
    table.index.name = "feature"
    table["useful"] = table["accuracy_lost"] - 2 * table["spread"] > 0
    return table.sort_values("accuracy_lost", ascending=False)
