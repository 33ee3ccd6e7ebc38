"""Self-checks of lab 3 (the pull-request model check): regressions, intervals, the gate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from mlcicd.compare import compare_models
from mlcicd.errors import InputError
from mlcicd.gate import GateThresholds, apply_gate
from mlcicd.labs.checking import CheckResult, answer_of, checker, fail, ok, refuse_library
from mlcicd.stats import BootstrapResult

__all__ = ["check_gate_yaml", "check_interval_reading", "check_regressed_metrics"]

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
