"""Self-checks of release decisions: lab 3 (regressions, intervals, the gate) and lab 4's
choice of a canary margin from operating-characteristic curves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import yaml

from mlcicd.compare import compare_models
from mlcicd.errors import InputError
from mlcicd.gate import GateThresholds, apply_gate
from mlcicd.labs.checking import (
    CheckResult,
    answer_of,
    checker,
    close,
    fail,
    ok,
    refuse_library,
)
from mlcicd.oc import largest_safe_margin
from mlcicd.stats import BootstrapResult

__all__ = ["check_gate_yaml", "check_interval_reading", "check_pick_margin",
           "check_regressed_metrics"]

_BASE = {"accuracy": 0.95, "precision": 0.94, "recall": 0.96, "f1": 0.95}

#: (baseline, candidate, max_regression, expected, what the case is about)
_REGRESSION_CASES: tuple[tuple[dict[str, float], dict[str, float], float, list[str], str], ...] = (
    (_BASE, {**_BASE, "accuracy": 0.93}, 0.01, ["accuracy"], "accuracy drops by 2 points"),
    (_BASE, {**_BASE, "recall": 0.99, "f1": 0.97}, 0.01, [], "the candidate is better"),
    (_BASE, {**_BASE, "precision": 0.90, "f1": 0.92}, 0.01, ["precision", "f1"],
     "precision and f1 drop"),
    (_BASE, {**_BASE, "accuracy": 0.94}, 0.01, [],
     "accuracy drops by exactly the allowed 1 point (0.95 - 0.94 is 0.010000000000000009 in "
     "floating point: compare with a small tolerance such as 1e-9)"),
    (_BASE, {**_BASE, "recall": 0.93}, 0.05, [], "a 3-point drop with 5 points allowed"),
    (_BASE, {**_BASE, "recall": 0.93, "accuracy": 0.89}, 0.05, ["accuracy"],
     "with 5 points allowed, only the 6-point drop counts (use `max_regression`)"),
    (_BASE, dict(_BASE), 0.0, [], "identical metrics with no drop allowed"),
    (_BASE, {**_BASE, "f1": 0.9499}, 0.0, ["f1"],
     "with max_regression 0, any drop counts, even 0.0001"),
    ({"accuracy": 0.80, "roc_auc": 0.90}, {"accuracy": 0.81, "roc_auc": 0.86}, 0.02,
     ["roc_auc"], "other metric names: loop over the baseline's keys"),
    (_BASE, {"accuracy": 0.99, "precision": 0.99, "recall": 0.99, "f1": 0.99}, 0.01, [],
     "the candidate is better on everything (a drop is baseline minus candidate, not the "
     "absolute difference)"),
)


@checker
def check_regressed_metrics(
    regressed_metrics: Callable[[dict[str, float], dict[str, float], float], list[str]],
) -> CheckResult:
    """Pass when ``regressed_metrics`` names exactly the metrics that drop too far."""
    refuse_library(regressed_metrics, {"compare_models": compare_models,
                                       "apply_gate": apply_gate}, "the regression rule")
    for baseline, candidate, allowed, expected, story in _REGRESSION_CASES:
        answer = answer_of(regressed_metrics, dict(baseline), dict(candidate), allowed)
        if not isinstance(answer, list | tuple | set):
            return fail(f"return a list of metric names, got {type(answer).__name__}")
        if sorted(answer) != sorted(expected):
            return fail(f"when {story}, expected {expected}, got {sorted(answer)}")
    n = len(_REGRESSION_CASES)
    return ok(f"right on all {n} cases, including a drop of exactly the limit and a better "
              "candidate.")


_INTERVALS = (
    ((0.004, 0.031), "better", "the whole interval is above zero"),
    ((-0.042, -0.008), "worse", "the whole interval is below zero"),
    ((-0.021, 0.035), "no evidence", "the interval contains zero"),
    ((0.0, 0.028), "no evidence", "the interval starts exactly at zero"),
    ((-0.05, 0.0), "no evidence", "the interval ends exactly at zero"),
    ((0.001, 0.4), "better", "a wide interval, all above zero"),
    ((-0.3, -0.0001), "worse", "just below zero"),
    ((-0.01, 0.09), "no evidence", "the estimate is well above zero, but the interval is not"),
)


@checker
def check_interval_reading(read_interval: Callable[[BootstrapResult], str]) -> CheckResult:
    """Pass when ``read_interval`` says better / worse / no evidence from an interval."""
    for (low, high), expected, story in _INTERVALS:
        estimate = low + 0.8 * (high - low)  # read the bounds, not the estimate
        interval = BootstrapResult(estimate=estimate, low=low, high=high, confidence=0.95)
        answer = answer_of(read_interval, interval)
        if answer != expected:
            return fail(f"for [{low:+.3f}, {high:+.3f}] ({story}) expected {expected!r}, "
                        f"got {answer!r}")
    return ok("you read a paired bootstrap interval like a statistician.")


_GATE_RULES = {"min_accuracy": 0.90, "min_recall": 0.90, "max_regression": 0.01}


@checker
def check_gate_yaml(gate_yaml: Callable[[], str]) -> CheckResult:
    """Pass when the YAML text is a valid gate with exactly the team's three rules."""
    text = answer_of(gate_yaml)
    if not isinstance(text, str):
        return fail(f"`gate_yaml` should return YAML text, got {type(text).__name__}")
    try:
        data: Any = yaml.safe_load(text)
        thresholds = GateThresholds.from_dict(data or {})
    except (yaml.YAMLError, InputError, TypeError, AttributeError) as exc:
        return fail(f"the gate does not load: {exc}")
    values = thresholds.to_dict()
    for key, wanted in _GATE_RULES.items():
        if values.get(key) is None:
            return fail(f"the gate has no {key} rule (the team wants {wanted}).")
        if abs(values[key] - wanted) > 1e-12:
            return fail(f"{key} is {values[key]}, the team wants {wanted} "
                        "(fractions, not percentages).")
    extra = [k for k, v in values.items() if v is not None and k not in _GATE_RULES]
    if extra:
        return fail(f"the team did not ask for {', '.join(extra)}: leave it out.")
    if isinstance(data, dict) and set(data) - set(values):
        return fail(f"unknown keys {sorted(set(data) - set(values))}: the gate ignores them")
    return ok("the gate loads and holds exactly the team's three rules.")


def _oc(points: dict[float, tuple[float, float, float]]) -> pd.DataFrame:
    """An oc_curve-shaped frame from {difference: (promote_low, promote_rate, promote_high)}."""
    rows = [{"difference": d, "promote_rate": rate, "promote_low": low, "promote_high": high,
             "abort_rate": 1 - rate, "inconclusive_rate": 0.0}
            for d, (low, rate, high) in points.items()]
    return pd.DataFrame(rows)


_SAFE = _oc({0.05: (0.96, 0.99, 1.0), 0.0: (0.93, 0.97, 0.99), -0.025: (0.2, 0.3, 0.4),
             -0.05: (0.0, 0.0, 0.036)})
_HALF = _oc({0.05: (0.96, 1.0, 1.0), 0.0: (0.96, 1.0, 1.0), -0.025: (0.8, 0.9, 0.95),
             -0.05: (0.4, 0.5, 0.6)})
_NEAR_MISS = _oc({0.05: (0.96, 1.0, 1.0), 0.0: (0.96, 1.0, 1.0), -0.05: (0.02, 0.06, 0.14)})
_AT_LIMIT = _oc({0.0: (0.96, 1.0, 1.0), -0.05: (0.01, 0.04, 0.10)})
_FLOATY = _oc({0.0: (0.96, 1.0, 1.0), 0.01 - 0.03: (0.0, 0.01, 0.05)})
#: Steep beyond -0.025 (its last row is safe, the row at -0.025 is not), and noisy (its row
#: at -0.05 reads higher than the one at -0.025, as 100 simulated releases can).
_STEEP = _oc({0.0: (0.96, 1.0, 1.0), -0.025: (0.1, 0.2, 0.3), -0.05: (0.0, 0.0, 0.036)})
_NOISY = _oc({0.0: (0.96, 1.0, 1.0), -0.025: (0.02, 0.05, 0.09), -0.05: (0.03, 0.06, 0.12)})
#: (curves by margin, worse_by, max_risk, expected margin, what the case shows); the check
#: takes the expected margin from the library (tests/test_labs_checks.py compares the two).
_MARGIN_CASES: tuple[tuple[dict[float, pd.DataFrame], float, float, float | None, str], ...] = (
    ({0.025: _SAFE, 0.05: _HALF}, 0.05, 0.10, 0.025,
     "margin 0.05 promotes a 0.05-worse candidate half the time; margin 0.025 rarely"),
    ({0.05: _HALF, 0.025: _SAFE}, 0.05, 0.10, 0.025, "the same curves in the other order"),
    ({0.02: _SAFE, 0.04: _SAFE, 0.08: _HALF}, 0.05, 0.10, 0.04,
     "two margins are safe: the larger one promotes equal candidates sooner"),
    ({0.08: _HALF, 0.04: _SAFE, 0.02: _SAFE}, 0.05, 0.10, 0.04,
     "two safe margins, listed largest first"),
    ({0.05: _HALF, 0.1: _HALF}, 0.05, 0.10, None, "no margin is safe: return None"),
    ({0.03: _NEAR_MISS, 0.01: _SAFE}, 0.05, 0.10, 0.01,
     "an estimate of 0.06 whose upper bound is 0.14: not shown to be under 0.10"),
    ({0.03: _AT_LIMIT, 0.01: _SAFE}, 0.05, 0.10, 0.03,
     "an upper bound of exactly 0.10 is at most 0.10"),
    ({0.02: _SAFE, 0.05: _HALF}, 0.025, 0.50, 0.02,
     "worse_by 0.025 and a risk of 0.50: read the row at -0.025"),
    ({0.01: _FLOATY, 0.03: _HALF}, 0.02, 0.10, 0.01,
     "the curve's difference is -0.019999999999999997, not exactly -0.02: take the closest row"),
    ({0.04: _STEEP, 0.02: _NOISY}, 0.025, 0.10, 0.02,
     "worse_by 0.025: read the row at -0.025, not the curve's last row nor the worst of the "
     "rows beyond it"),
)


@checker
def check_pick_margin(pick_margin: Callable[[dict[float, pd.DataFrame], float, float],
                                            float | None]) -> CheckResult:
    """Pass when ``pick_margin`` picks the library's margin on every case."""
    refuse_library(pick_margin, {"largest_safe_margin": largest_safe_margin},
                   "the margin choice")
    for curves, worse_by, max_risk, _, story in _MARGIN_CASES:
        expected = largest_safe_margin(curves, worse_by, max_risk)
        answer = answer_of(pick_margin, {m: c.copy() for m, c in curves.items()}, worse_by,
                           max_risk)
        right = (answer is None) if expected is None else (
            isinstance(answer, int | float) and not isinstance(answer, bool)
            and close(float(answer), expected))
        if not right:
            return fail(f"when {story} (margins {sorted(curves)}, worse_by {worse_by}, "
                        f"max_risk {max_risk}): expected {expected}, got {answer!r}. A margin "
                        "is safe when promote_high on the row nearest -worse_by is at most "
                        "max_risk; return the largest safe margin, or None")
    return ok(f"right on all {len(_MARGIN_CASES)} cases: the upper bound, the row at "
              "-worse_by, the largest safe margin, None when none is safe.")
