"""Self-checks of lab 1 (data drift): simulate covariate drift, compute PSI, correct p-values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.drift import PopulationStabilityIndex, labelling_rule, reference_data
from mlcicd.labs.checking import CheckResult, answer_of, checker, fail, ok

__all__ = ["check_bonferroni", "check_covariate_shift", "check_psi"]


@checker
def check_covariate_shift(covariate_shift: Callable[[pd.DataFrame, float], Any]) -> CheckResult:
    """Pass when ``x1`` moves by ``shift`` and the labels still follow the old rule."""
    X, _ = reference_data(n=300, seed=11)
    before = X.copy()
    answer = answer_of(covariate_shift, X, 1.5)
    if not isinstance(answer, tuple) or len(answer) != 2:
        return fail("return a pair: (the shifted features, their labels)")
    shifted, labels = answer
    if not X.equals(before):
        return fail("`covariate_shift` changed the frame it was given: work on a copy.")
    if not isinstance(shifted, pd.DataFrame) or list(shifted.columns) != list(X.columns):
        return fail("the shifted features should be a DataFrame with the same columns")
    if shifted.shape != X.shape:
        return fail(f"expected {X.shape[0]} rows, got {shifted.shape[0]}")
    moved = shifted.to_numpy() - X.to_numpy()
    if not (np.allclose(moved[:, 0], 1.5) and np.allclose(moved[:, 1], 0.0)):
        means = ", ".join(f"{c} {v:+.2f}" for c, v in zip(X.columns, moved.mean(axis=0),
                                                          strict=True))
        return fail(f"x1 should move by the shift (+1.50) and x2 stay; they moved by {means}")
    expected = labelling_rule(shifted)
    labels = np.asarray(labels)
    if labels.shape != expected.shape:
        return fail(f"expected {expected.size} labels, got {labels.size}")
    if not np.array_equal(labels, expected):
        wrong = int(np.sum(labels != expected))
        return fail(
            f"{wrong} labels differ from the labelling rule applied to the *shifted* points: "
            "in covariate drift the inputs move but the rule does not (use labelling_rule)."
        )
    return ok("the inputs moved, the rule stayed: that is covariate drift.")


def _psi_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(5)
    reference = rng.normal(size=2000)
    return [
        ("identical samples", reference, reference.copy()),
        ("a fresh sample of the same distribution", reference, rng.normal(size=2000)),
        ("a mean shift of 0.5", reference, rng.normal(0.5, 1.0, size=2000)),
        ("a doubled spread", reference, rng.normal(0.0, 2.0, size=2000)),
        ("a shift far out of range (empty bins)", reference, rng.normal(6.0, 1.0, size=500)),
    ]


@checker
def check_psi(psi: Callable[[np.ndarray, np.ndarray, int], float]) -> CheckResult:
    """Pass when ``psi`` agrees with the library's PSI (10 quantile bins) on five cases."""
    library = PopulationStabilityIndex(bins=10)
    for story, reference, current in _psi_cases():
        wanted = library.test(reference, current).statistic
        value = answer_of(psi, reference, current, 10)
        try:
            value = float(value)
        except (TypeError, ValueError):
            return fail(f"`psi` should return a number, got {type(value).__name__}")
        if not np.isfinite(value):
            return fail(f"for {story} your PSI is {value}: give empty bins a tiny share "
                        "(e.g. 1e-4) so the logarithm stays finite")
        if abs(value - wanted) > max(0.02, 0.1 * wanted):
            return fail(f"for {story} expected about {wanted:.3f}, got {value:.3f}: cut the "
                        "bins at the reference's quantiles and use the share of each sample "
                        "per bin")
    return ok("your PSI matches the library on all five cases.")


_P_CASES = (
    ({"a": 0.001, "b": 0.2, "c": 0.03, "d": 0.5}, 0.05, ["a"],
     "c (p = 0.03) is below 0.05 but not below 0.05 / 4"),
    ({"a": 0.04}, 0.05, ["a"], "one feature needs no correction"),
    ({f"f{i}": 0.011 for i in range(5)}, 0.05, [],
     "five p-values of 0.011 are each above 0.05 / 5"),
    ({"a": 0.009, "b": 0.9}, 0.05, ["a"], "0.009 is below 0.05 / 2"),
)


@checker
def check_bonferroni(drifted: Callable[[dict[str, float], float], list[str]]) -> CheckResult:
    """Pass when ``drifted`` flags exactly the features significant after Bonferroni."""
    for pvalues, alpha, expected, story in _P_CASES:
        answer = answer_of(drifted, dict(pvalues), alpha)
        if not isinstance(answer, list | tuple | set):
            return fail(f"return a list of feature names, got {type(answer).__name__}")
        if sorted(answer) != sorted(expected):
            return fail(f"with p-values {pvalues} expected {expected}, got {sorted(answer)} "
                        f"({story})")
    return ok("you flag a feature only when its p-value survives the number of tests.")
