"""Self-checks of lab 1 (data drift): simulate covariate drift, compute PSI, correct p-values,
read the no-drift PSI at small samples, and date an alarm under a label delay.

Each check tries the learner's function on several inputs and on every argument the
exercise names (several shifts, several bin counts, several significance levels), so an
answer that ignores an argument or is off by a little cannot pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.drift import (
    PopulationStabilityIndex,
    adjust_pvalues,
    covariate_drift,
    detect_drift,
    labelling_rule,
    make_drifted,
    reference_data,
)
from mlcicd.drift.estimate import first_alarms, monitoring_timeline
from mlcicd.drift.psi import psi_bins
from mlcicd.drift.psi_null import no_drift_psi, quiet_size
from mlcicd.labs.checking import CheckResult, answer_of, checker, close, fail, ok, refuse_library

__all__ = ["check_bonferroni", "check_covariate_shift", "check_first_alarm_batch", "check_psi",
           "check_quiet_size"]

_SHIFTS = (1.5, -0.7, 0.0, 3.25)


@checker
def check_covariate_shift(covariate_shift: Callable[[pd.DataFrame, float], Any]) -> CheckResult:
    """Pass when ``x1`` moves by ``shift`` (several shifts) and the labels follow the old rule."""
    refuse_library(covariate_shift, {"make_drifted": make_drifted,
                                     "covariate_drift": covariate_drift},
                   "the shift")
    for index, shift in enumerate(_SHIFTS):
        X, _ = reference_data(n=200 + 50 * index, seed=11 + index)
        before = X.copy()
        answer = answer_of(covariate_shift, X, shift)
        if not isinstance(answer, tuple) or len(answer) != 2:
            return fail("return a pair: (the shifted features, their labels)")
        shifted, labels = answer
        if not X.equals(before):
            return fail("`covariate_shift` changed the frame it was given: work on a copy.")
        if not isinstance(shifted, pd.DataFrame) or list(shifted.columns) != list(X.columns):
            return fail("the shifted features should be a DataFrame with the same columns")
        if shifted.shape != X.shape:
            return fail(f"given {X.shape[0]} rows you returned {shifted.shape[0]}: shift the "
                        "points you were given, do not draw new ones")
        moved = shifted.to_numpy(dtype=float) - X.to_numpy(dtype=float)
        if not (np.allclose(moved[:, 0], shift) and np.allclose(moved[:, 1], 0.0)):
            means = ", ".join(f"{c} {v:+.2f}" for c, v in zip(X.columns, moved.mean(axis=0),
                                                              strict=True))
            return fail(f"with shift = {shift:+.2f}, x1 should move by exactly that and x2 "
                        f"stay; they moved by {means} (use the `shift` argument)")
        expected = labelling_rule(shifted)
        labels = np.asarray(labels)
        if labels.shape != expected.shape:
            return fail(f"expected {expected.size} labels, got {labels.size}")
        if not np.array_equal(labels, expected):
            wrong = int(np.sum(labels != expected))
            return fail(
                f"with shift = {shift:+.2f}, {wrong} labels differ from the labelling rule "
                "applied to the *shifted* points: in covariate drift the inputs move but the "
                "rule does not (use labelling_rule on the moved points)."
            )
    return ok(f"the inputs moved by each of {len(_SHIFTS)} shifts, the rule stayed: that is "
              "covariate drift.")


def _psi_cases() -> list[tuple[str, np.ndarray, np.ndarray, int]]:
    rng = np.random.default_rng(5)
    reference = rng.normal(size=2000)
    levels = rng.choice(4, size=1500, p=[0.1, 0.2, 0.3, 0.4]).astype(float)
    return [
        ("identical samples", reference, reference.copy(), 10),
        ("a fresh sample of the same distribution", reference, rng.normal(size=2000), 10),
        ("a mean shift of 0.5", reference, rng.normal(0.5, 1.0, size=2000), 10),
        ("a doubled spread, 5 bins", reference, rng.normal(0.0, 2.0, size=2000), 5),
        ("a mean shift of 0.3, 20 bins", reference, rng.normal(0.3, 1.0, size=3000), 20),
        ("a shift far out of range (empty bins)", reference, rng.normal(6.0, 1.0, size=500), 10),
        ("a 4-level feature (values on the bin edges), 5 bins", levels,
         rng.choice(4, size=800, p=[0.4, 0.3, 0.2, 0.1]).astype(float), 5),
        ("a small shift, 3 bins", reference, rng.normal(0.2, 1.0, size=1000), 3),
    ]


def _psi_hint(reference: np.ndarray, current: np.ndarray, bins: int, value: float) -> str:
    """Name the likely mistake by comparing with the usual wrong variants."""
    edges = psi_bins(reference, bins)

    def shares(values: np.ndarray, floor: float, side: str = "right") -> np.ndarray:
        counts = np.bincount(np.searchsorted(edges, values, side=side),  # type: ignore[call-overload]
                             minlength=edges.size + 1) / values.size
        return np.maximum(counts, floor)

    ref, cur = shares(reference, 1e-4), shares(current, 1e-4)
    left = shares(current, 1e-4, "left"), shares(reference, 1e-4, "left")
    variants = {
        "a value equal to an edge belongs to the bin above: np.searchsorted(..., side='right')":
            [float(np.sum((left[0] - left[1]) * np.log(left[0] / left[1])))],
        "use the natural logarithm (np.log), not log10 or log2":
            [float(np.sum((cur - ref) * np.log10(cur / ref))),
             float(np.sum((cur - ref) * np.log2(cur / ref)))],
        "use the `bins` argument, not a fixed 10 bins":
            [PopulationStabilityIndex(bins=10).test(reference, current).statistic],
        "give an empty bin a share of exactly 1e-4 (not 1e-3, 1e-6 or 0.5 / n)":
            [float(np.sum((c - r) * np.log(c / r)))
             for c, r in ((shares(current, f), shares(reference, f)) for f in (1e-3, 1e-6))],
        "cut the bins at the reference's quantiles, not at equal widths":
            [_equal_width_psi(reference, current, bins)],
        "sum (current - reference) * ln(current / reference), every term":
            [float(np.sum(np.abs(cur - ref))), float(np.sum(cur * np.log(cur / ref)))],
    }
    for hint, candidates in variants.items():
        if any(np.isfinite(c) and close(value, c, rel=1e-3, abs_tol=1e-6) for c in candidates):
            return hint
    return ("cut `bins` bins at the reference's quantiles, take each sample's share per bin "
            "(1e-4 for an empty one) and sum (current - reference) * ln(current / reference)")


def _equal_width_psi(reference: np.ndarray, current: np.ndarray, bins: int) -> float:
    edges = np.linspace(reference.min(), reference.max(), bins + 1)[1:-1]
    ref = np.maximum(np.bincount(np.searchsorted(edges, reference, side="right"),
                                 minlength=bins) / reference.size, 1e-4)
    cur = np.maximum(np.bincount(np.searchsorted(edges, current, side="right"),
                                 minlength=bins) / current.size, 1e-4)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@checker
def check_psi(psi: Callable[[np.ndarray, np.ndarray, int], float]) -> CheckResult:
    """Pass when ``psi`` matches the library's PSI on eight cases and three bin counts."""
    refuse_library(psi, {"PopulationStabilityIndex": PopulationStabilityIndex,
                         "psi_bins": psi_bins, "detect_drift": detect_drift}, "the PSI")
    for story, reference, current, bins in _psi_cases():
        wanted = PopulationStabilityIndex(bins=bins).test(reference, current).statistic
        value = answer_of(psi, reference.copy(), current.copy(), bins)
        try:
            value = float(value)
        except (TypeError, ValueError):
            return fail(f"`psi` should return a number, got {type(value).__name__}")
        if not np.isfinite(value):
            return fail(f"for {story} your PSI is {value}: give empty bins a tiny share "
                        "(1e-4) so the logarithm stays finite")
        if not close(value, wanted, rel=1e-3, abs_tol=1e-6):
            hint = _psi_hint(reference, current, bins, value)
            return fail(f"for {story} (bins={bins}) expected {wanted:.4f}, got {value:.4f}: "
                        f"{hint}")
    return ok("your PSI matches the library on all eight cases, with 3, 5, 10 and 20 bins.")


#: (p-values, alpha, expected, what the case is about)
_P_CASES: tuple[tuple[dict[str, float], float, list[str], str], ...] = (
    ({"a": 0.001, "b": 0.2, "c": 0.03, "d": 0.5}, 0.05, ["a"],
     "c (p = 0.03) is below 0.05 but not below 0.05 / 4"),
    ({"a": 0.04}, 0.05, ["a"], "one feature needs no correction"),
    ({f"f{i}": 0.011 for i in range(5)}, 0.05, [],
     "five p-values of 0.011 are each above 0.05 / 5"),
    ({"a": 0.009, "b": 0.9}, 0.05, ["a"], "0.009 is below 0.05 / 2"),
    ({"a": 0.001, "b": 0.02, "c": 0.9}, 0.05, ["a"],
     "b: 0.02 x 3 = 0.06 is not below 0.05 (Holm or Benjamini-Hochberg would flag it, "
     "Bonferroni does not)"),
    ({"a": 0.0101, "b": 0.5, "c": 0.5, "d": 0.5, "e": 0.5}, 0.05, [],
     "0.0101 x 5 is above 0.05 (a Sidak threshold would flag it)"),
    ({"a": 0.05 / 4, "b": 0.3, "c": 0.3, "d": 0.3}, 0.05, [],
     "p x 4 equal to alpha exactly is not below it"),
    ({"a": 0.015, "b": 0.04, "c": 0.2}, 0.10, ["a"], "with alpha = 0.10: 0.015 x 3 < 0.10"),
    ({"a": 0.006, "b": 0.002}, 0.01, ["b"], "with alpha = 0.01: 0.006 x 2 is not below it"),
    ({}, 0.05, [], "no feature at all: nothing to flag"),
)


@checker
def check_bonferroni(drifted: Callable[[dict[str, float], float], list[str]]) -> CheckResult:
    """Pass when ``drifted`` flags exactly the features significant after Bonferroni."""
    refuse_library(drifted, {"adjust_pvalues": adjust_pvalues, "detect_drift": detect_drift,
                             "multipletests": None}, "the correction")
    for pvalues, alpha, expected, story in _P_CASES:
        answer = answer_of(drifted, dict(pvalues), alpha)
        if not isinstance(answer, list | tuple | set):
            return fail(f"return a list of feature names, got {type(answer).__name__}")
        if sorted(map(str, answer)) != sorted(expected):
            shown = {k: round(v, 5) for k, v in pvalues.items()}
            return fail(f"with p-values {shown} and alpha {alpha} expected {expected}, got "
                        f"{sorted(map(str, answer))} ({story})")
    return ok(f"right on all {len(_P_CASES)} cases: you flag a feature only when its p-value "
              "survives the number of tests.")


#: (no-drift PSI by size, threshold, what the case is about); the answer is quiet_size's.
_QUIET_CASES: tuple[tuple[dict[int, list[float]], float, str], ...] = (
    ({50: [0.4, 0.3, 0.2], 200: [0.12, 0.05, 0.08], 800: [0.01, 0.02, 0.03]}, 0.1,
     "a clear case"),
    ({200: [0.12, 0.05, 0.08], 800: [0.01, 0.02, 0.03], 50: [0.4, 0.3, 0.2]}, 0.1,
     "the same table with its sizes in another order: sort them"),
    ({50: [0.01, 0.02, 0.01, 0.5], 200: [0.01, 0.02, 0.03, 0.01], 800: [0.01, 0.02, 0.01]},
     0.1, "at 50 the mean PSI is above 0.1 but only 1 value in 4 alarms: count the alarms, "
     "do not compare the mean"),
    ({50: [0.3, 0.2, 0.02, 0.01], 200: [0.01, 0.02, 0.03, 0.01]}, 0.1,
     "at 50, 2 alarms in 4 is half, which is not fewer than half"),
    ({50: [0.1, 0.1, 0.05], 200: [0.1, 0.02, 0.05], 800: [0.01, 0.02, 0.03]}, 0.1,
     "a PSI exactly at the threshold is an alarm (>=)"),
    ({50: [0.01, 0.02, 0.03], 100: [0.3, 0.4, 0.05], 400: [0.02, 0.03, 0.04],
      1600: [0.01, 0.01, 0.01]}, 0.1,
     "50 is quiet by luck but 100 above it is not: quiet means quiet from there on"),
    ({50: [0.3, 0.12, 0.02, 0.01], 200: [0.01, 0.02, 0.03, 0.01]}, 0.1,
     "at 50 the median PSI (0.07) is under 0.1 but 2 values in 4 alarm: count the alarms, "
     "do not compare the median"),
    ({50: [0.4, 0.3, 0.2], 200: [0.2, 0.15, 0.08], 800: [0.01, 0.02, 0.03]}, 0.25,
     "with the 0.25 threshold"),
    ({50: [0.4, 0.3, 0.2], 200: [0.2, 0.15, 0.08]}, 0.1,
     "no size is quiet: return None"),
    ({25: [0.01, 0.02], 50: [0.01, 0.2]}, 0.1, "every size is quiet: the smallest one"),
    ({100: [0.2, 0.2, 0.2, 0.01, 0.01], 400: [0.01] * 5}, 0.5,
     "with a threshold of 0.5 even 100 points are quiet"),
)


@checker
def check_quiet_size(smallest_quiet_n: Callable[[dict[int, Any], float], Any],
                     null_psi: dict[int, Any] | None = None,
                     threshold: float = 0.1) -> CheckResult:
    """Pass when ``smallest_quiet_n`` finds the size from which the threshold stays quiet.

    ``null_psi`` and ``threshold`` are the lab's own table and rule of thumb; without them
    the check measures a table with the library (:func:`no_drift_psi`).
    """
    refuse_library(smallest_quiet_n, {"quiet_size": quiet_size}, "the smallest quiet size")
    if null_psi is None:
        null_psi = no_drift_psi([25, 50, 100, 200, 400, 800], repeats=20, seed=3)
    cases = [*_QUIET_CASES, (null_psi, threshold,
                             f"the lab's own no-drift PSI table with threshold {threshold:g}")]
    for table, limit, story in cases:
        wanted = quiet_size(table, limit)
        answer = answer_of(smallest_quiet_n, {n: list(v) for n, v in table.items()}, limit)
        if answer is not None and not isinstance(answer, int | np.integer):
            return fail(f"return a sample size (an int) or None, got {answer!r}")
        if answer != wanted:
            shown = {n: [round(float(x), 3) for x in v][:5] for n, v in sorted(table.items())}
            return fail(f"with threshold {limit:g} and no-drift PSI {shown} expected {wanted}, "
                        f"got {answer} ({story})")
    return ok(f"right on all {len(cases)} tables: on small samples the rule of thumb alarms "
              "when nothing moved, and you can say from which size on it stops.")


def _alarm_cases() -> list[tuple[list[bool], int, int, str]]:
    """(alarm per batch, label delay, first batch to consider, what the case is about)."""
    rise = [False] * 6 + [True] * 6
    return [
        (rise, 5, 0, "alarms from batch 6, labels 5 batches late"),
        (rise, 0, 0, "no delay: known the same batch"),
        ([True] + [False] * 9, 0, 0, "an alarm about batch 0, known on batch 0 (0 is an answer)"),
        ([True, True, False, False, False, True, True], 3, 2,
         "alarms before `after` do not count: consider batches from `after` on"),
        ([False, False, True, False, True], 2, 2, "an alarm exactly at `after` counts"),
        ([False] * 8, 4, 0, "no alarm: return None"),
        ([True, True, False, False], 1, 2, "alarms only before `after`: return None"),
        (rise, 14, 3, "a long label delay, known after the end of the timeline"),
        ([False, True, False, True, True, False], 2, 0, "the first alarm, not the last"),
    ]


@checker
def check_first_alarm_batch(first_alarm_batch: Callable[[Any, int, int], Any],
                            timelines: dict[str, pd.DataFrame] | None = None,
                            label_delay: int | None = None,
                            after: int | None = None) -> CheckResult:
    """Pass when ``first_alarm_batch`` dates an alarm the way :func:`first_alarms` does.

    ``timelines``, ``label_delay`` and ``after`` are the lab's own monitoring timelines
    (:func:`monitoring_timeline`): the answer must then match, for every stream, the label
    alarm (late by the delay) and the estimate alarm (delay 0).
    """
    refuse_library(first_alarm_batch, {"first_alarms": first_alarms,
                                       "monitoring_timeline": monitoring_timeline},
                   "the search for the first alarm")
    cases = [(alarms, delay, start, story, "labels") for alarms, delay, start, story
             in _alarm_cases()]
    for kind, timeline in (timelines or {}).items():
        for column, signal, delay in (("label_alarm", "labels", label_delay),
                                      ("estimate_alarm", "estimated accuracy", 0)):
            cases.append((timeline[column].astype(bool).tolist(), int(delay or 0),
                          int(after or 0), f"the lab's {kind} stream, {signal}", signal))
    for alarms, delay, start, story, signal in cases:
        frame = pd.DataFrame({
            "labels_known_on": np.arange(len(alarms)) + delay,
            "label_alarm": alarms, "estimate_alarm": alarms, "prediction_alarm": alarms})
        expected = first_alarms(frame, after=start)[signal]
        wanted = None if np.isnan(expected) else int(expected)
        answer = answer_of(first_alarm_batch, list(alarms), delay, start)
        if answer is not None and not isinstance(answer, int | np.integer):
            return fail(f"return a batch number (an int) or None, got {answer!r}")
        if answer != wanted:
            shown = "".join("X" if a else "." for a in alarms)
            return fail(f"alarms {shown} (X = alarm about that batch), label_delay={delay}, "
                        f"after={start}: expected {wanted}, got {answer} ({story})")
    return ok(f"right on all {len(cases)} timelines: an alarm is known a label delay after "
              "the batch it is about.")
