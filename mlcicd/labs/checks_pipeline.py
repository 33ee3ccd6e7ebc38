"""Self-checks of lab 5 (end to end with monitoring): windowed drift alarms, the monitor's rule."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from mlcicd.drift import detect_drift, drift_stream, reference_data
from mlcicd.labs.checking import CheckResult, answer_of, checker, fail, ok, refuse_library

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


#: (drifted, accuracy, min_accuracy, candidate_passes_gate, candidate_acc, production_acc,
#:  expected, what it shows)
_CASES = (
    (False, 0.95, 0.9, True, 0.97, 0.95, "no retrain", "no drift and accurate enough"),
    (True, 0.95, 0.9, True, 0.97, 0.95, "promoted", "drift alone triggers a retrain"),
    (False, 0.85, 0.9, True, 0.93, 0.86, "promoted", "low accuracy alone triggers a retrain"),
    (True, 0.80, 0.9, False, 0.95, 0.80, "rejected", "a candidate failing the gate stays out"),
    (True, 0.80, 0.9, True, 0.78, 0.80, "rejected",
     "a candidate less accurate than production on the hold-out stays out"),
    (False, 0.90, 0.9, True, 0.99, 0.90, "no retrain", "exactly the minimum accuracy is enough"),
)


@checker
def check_monitor_decision(monitor_decision: Callable[..., str]) -> CheckResult:
    """Pass when ``monitor_decision`` reproduces the monitoring cycle's outcome."""
    for drifted, acc, minimum, gate, cand, prod, expected, story in _CASES:
        answer = answer_of(monitor_decision, drifted, acc, minimum, gate, cand, prod)
        if answer != expected:
            return fail(f"{story}: expected {expected!r}, got {answer!r}")
    return ok("your rule retrains on drift or low accuracy and promotes only a better, "
              "gated model.")
