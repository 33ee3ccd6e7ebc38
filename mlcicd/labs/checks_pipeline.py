"""Self-checks of lab 5 (end to end with monitoring): windowed drift alarms, the monitor's rule."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from mlcicd.deploy.monitor_rules import PromotionRule
from mlcicd.drift import detect_drift, drift_stream, reference_data
from mlcicd.labs.checking import CheckResult, answer_of, checker, fail, ok, refuse_library
from mlcicd.sequential import NonInferiorityRule

__all__ = ["check_first_drifted_window", "check_monitor_decision"]


def _first_alarm(reference: pd.DataFrame, stream: pd.DataFrame, window: int,
                 alpha: float) -> int | None:
    for start in range(0, len(stream) - window + 1, window):
        if detect_drift(reference, stream.iloc[start:start + window], alpha=alpha).drifted:
            return start
    return None


@checker
def check_first_drifted_window(
    first_drifted_window: Callable[[pd.DataFrame, pd.DataFrame, int, float], int | None],
) -> CheckResult:
    """Pass when the learner finds the same first drifted window as the reference loop."""
    refuse_library(first_drifted_window, {"Monitor": None}, "the windowed alarm")
    reference, _ = reference_data(n=600, seed=21)
    cases = [
        ("drift at row 500", drift_stream(1000, 500, level=1.0, seed=22)[0], 100, 0.05),
        ("no drift at all", drift_stream(600, 600, level=1.0, seed=23)[0], 200, 0.05),
        ("gradual drift from row 300", drift_stream(1200, 300, mode="gradual", width=600,
                                                    level=1.0, seed=24)[0], 150, 0.05),
        ("drift in the last 70 rows only (an incomplete window: drop it)",
         drift_stream(670, 600, level=1.0, seed=25)[0], 100, 0.05),
        ("drift at row 250, windows of 100 (the alarm is at the window's start row)",
         drift_stream(800, 250, level=1.0, seed=26)[0], 100, 0.05),
    ]
    cases += _alpha_cases(reference)
    for story, stream, window, alpha in cases:
        stream = stream.reset_index(drop=True)
        wanted = _first_alarm(reference, stream, window, alpha)
        answer = answer_of(first_drifted_window, reference, stream.copy(), window, alpha)
        if answer != wanted:
            return fail(f"{story}, windows of {window} rows, alpha {alpha}: expected "
                        f"{wanted!r}, got {answer!r} (non-overlapping windows from row 0, the "
                        "start row of the first one detect_drift flags at that alpha, None "
                        "when none is)")
    return ok(f"right on {len(cases)} streams: you find the first drifted window at the "
              "given alpha, and stay quiet when nothing drifts.")


def _alpha_cases(reference: pd.DataFrame) -> list[tuple[str, pd.DataFrame, int, float]]:
    """Mild drift that one significance level flags and another does not (ignore alpha: fail)."""
    cases = []
    for seed in range(40, 80):
        stream = drift_stream(400, 0, level=0.12, seed=seed)[0].reset_index(drop=True)
        loose, strict = (_first_alarm(reference, stream, 200, a) for a in (0.2, 0.001))
        if loose != strict:
            cases += [(f"mild drift (seed {seed})", stream, 200, 0.2),
                      (f"mild drift (seed {seed})", stream, 200, 0.001)]
            if len(cases) == 4:
                break
    return cases


#: (drifted, accuracy, candidate passes the gate, estimate, lower, upper, margin, story);
#: the production minimum is 0.9 in every case.
_CASES: tuple[tuple[bool, float, bool, float, float, float, float, str], ...] = (
    (False, 0.95, True, 0.05, 0.02, 0.08, 0.05, "no drift and accurate enough: no retrain"),
    (False, 0.90, True, 0.05, 0.02, 0.08, 0.05, "exactly the minimum accuracy is enough"),
    (True, 0.95, True, 0.04, 0.01, 0.07, 0.05,
     "drift alone triggers a retrain; a candidate shown better is promoted"),
    (True, 0.95, True, 0.0, -0.03, 0.03, 0.05,
     "production is fine: a tie is not a promotion (the lower bound must be above 0)"),
    (True, 0.95, True, 0.02, 0.0, 0.04, 0.05,
     "production is fine: a lower bound of exactly 0 does not show the candidate better"),
    (False, 0.85, True, 0.0, -0.03, 0.03, 0.05,
     "production is below its minimum: a candidate not worse by 2 x margin is promoted"),
    (True, 0.80, False, 0.10, 0.05, 0.15, 0.05,
     "a candidate that fails the quality gate stays out, however good the evidence"),
    (False, 0.85, True, -0.12, -0.2, -0.04, 0.05,
     "production below its minimum, candidate worse for sure: rejected"),
    (False, 0.85, True, -0.03, -0.08, 0.01, 0.02,
     "margin 0.02: a lower bound of -0.08 is not within -0.04"),
    (False, 0.85, True, -0.03, -0.08, 0.01, 0.05,
     "margin 0.05: a lower bound of -0.08 is within -0.10"),
    (False, 0.85, True, 0.01, -0.15, 0.17, 0.05,
     "production below its minimum, evidence too thin either way: rejected (the hold-out "
     "is scored once: no waiting)"),
)
_MINIMUM = 0.9


def _expected_outcome(drifted: bool, accuracy: float, gate: bool, estimate: float,
                      lower: float, upper: float, margin: float) -> str:
    """The monitor's rule, from the library's own pieces (PromotionRule's logic)."""
    production_ok = accuracy >= _MINIMUM
    if not drifted and production_ok:
        return "no retrain"
    if not gate:
        return "rejected"
    if production_ok:
        return "promoted" if lower > 0 else "rejected"
    verdict = NonInferiorityRule(margin).verdict(estimate, lower, upper)
    return "promoted" if verdict == "promote" else "rejected"


@checker
def check_monitor_decision(monitor_decision: Callable[..., str]) -> CheckResult:
    """Pass when ``monitor_decision`` reproduces the monitoring cycle's outcome (11 cases)."""
    refuse_library(monitor_decision, {"PromotionRule": PromotionRule, "Monitor": None,
                                      "NonInferiorityRule": NonInferiorityRule},
                   "the monitor's rule")
    for drifted, accuracy, gate, estimate, lower, upper, margin, story in _CASES:
        wanted = _expected_outcome(drifted, accuracy, gate, estimate, lower, upper, margin)
        answer = answer_of(monitor_decision, drifted, accuracy, _MINIMUM, gate, estimate,
                           lower, upper, margin)
        if answer != wanted:
            return fail(f"drift {drifted}, accuracy {accuracy} (minimum {_MINIMUM}), gate "
                        f"{'passed' if gate else 'failed'}, difference {estimate:+.2f} in "
                        f"[{lower:+.2f}, {upper:+.2f}], margin {margin}: expected {wanted!r}, "
                        f"got {answer!r} ({story})")
    return ok(f"right on all {len(_CASES)} cases: you retrain on drift or low accuracy, and "
              "promote only a gated candidate with the evidence its situation needs.")
