"""Every argument check goes through mlcicd.params: one rule, one message form.

Two guards. The first reads the library's source and fails on a hand-written number
check (``isinstance(n, bool) or not isinstance(n, int)``) outside ``params.py``: such a
copy drifts (one accepts numpy ints, one NaN, one ``True``) and words its message its own
way. The second calls the public functions whose checks moved to ``params`` with the
values a user gets wrong (a flag, a string, NaN, a negative) and asserts the one form
``"<caller>: <argument> must be <what>, got <value>"`` on a single line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

import mlcicd
from mlcicd.behaviour import slice_gate
from mlcicd.boundaries import information_for, rho_for
from mlcicd.deploy.ab_stats import (
    cohens_h,
    peeking_error_rates,
    required_sample_size,
    simulate_ab,
    two_proportion_ztest,
)
from mlcicd.deploy.canary_analysis import CanaryPlan
from mlcicd.deploy.log import EventLog, RunningSummary
from mlcicd.deploy.monitor import Monitor
from mlcicd.deploy.monitor_rules import window_alpha
from mlcicd.deploy.server_state import ServerLimits
from mlcicd.drift.detect import detect_drift
from mlcicd.drift.estimate import ConfidenceBasedEstimator
from mlcicd.errors import InputError
from mlcicd.gate import apply_gate
from mlcicd.labs.frontend import lab_command
from mlcicd.oc import simulate_canary
from mlcicd.registry import rollback
from mlcicd.skew import compare_answers
from mlcicd.training import TrainConfig
from mlcicd.validation.infer import infer_schema
from mlcicd.validation.schema import ColumnSchema, Schema

PACKAGE = Path(mlcicd.__file__).parent

#: Files that test a value's type by hand and rightly so: the lab graders judge a
#: learner's answer and reply with a hint ("return a whole number of users"); they do
#: not refuse a bad argument.
GRADERS = "labs/checks_*.py"

_NUMERIC = {"int", "float", "Integral", "Real", "Number", "integer", "floating", "number"}


def _type_names(node: ast.expr) -> set[str]:
    """The names in an isinstance type argument (``int | np.integer`` -> int, integer)."""
    return {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node)
            if isinstance(n, ast.Name | ast.Attribute)}


def _isinstance_types(expression: ast.expr) -> list[set[str]]:
    return [_type_names(call.args[1]) for call in ast.walk(expression)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "isinstance" and len(call.args) == 2]


def hand_written_number_checks(source: str) -> list[tuple[str, int]]:
    """(enclosing function, line) of each boolean test that refuses bools from numbers.

    >>> hand_written_number_checks("def f(n):\\n    return isinstance(n, bool) or "
    ...                            "not isinstance(n, int)\\n")
    [('f', 2)]
    >>> hand_written_number_checks("def f(v):\\n    return isinstance(v, bool | str)\\n")
    []
    """
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.BoolOp):
                continue
            kinds = _isinstance_types(node)
            flags = any("bool" in names for names in kinds)
            numbers = any(names & _NUMERIC and "bool" not in names for names in kinds)
            if flags and numbers:
                found.append((function.name, node.lineno))
    return sorted(set(found), key=lambda place: place[1])


def _library_checks() -> dict[tuple[str, str], int]:
    places = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == "params.py" or path.relative_to(PACKAGE).match(GRADERS):
            continue
        for function, line in hand_written_number_checks(path.read_text(encoding="utf-8")):
            places[(relative, function)] = line
    return places


def test_no_hand_written_number_check_is_left_outside_params():
    stray = sorted(f"mlcicd/{file}:{line} ({function})"
                   for (file, function), line in _library_checks().items())
    assert not stray, ("use mlcicd.params (check, Integer, Real, is_integer, is_number) "
                       f"instead of: {stray}")


def test_the_source_scan_finds_a_hand_written_check(tmp_path):
    # The guard above is only worth something if the scan sees the usual copy.
    source = ("def size(n):\n    if isinstance(n, bool) or not isinstance(n, int | np.integer):"
              "\n        raise ValueError(n)\n")
    assert hand_written_number_checks(source) == [("size", 2)]


BAD = [True, "3", float("nan"), -1]
FRAME = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})

CALLS = [
    ("rollback", "to", lambda v, tmp: rollback(tmp, to=v)),
    ("simulate_canary", "p_stable", lambda v, tmp: simulate_canary(CanaryPlan(), v, 0.0, 5, 0)),
    ("simulate_canary", "label_share",
     lambda v, tmp: simulate_canary(CanaryPlan(), 0.9, 0.0, 5, 0, label_share=v)),
    ("simulate_canary", "live_rows",
     lambda v, tmp: simulate_canary(CanaryPlan(), 0.9, 0.0, 5, 0, live_rows=v)),
    ("config", "seed", lambda v, tmp: TrainConfig(seed=v)),
    ("config", "cv_folds", lambda v, tmp: TrainConfig(cv_folds=v)),
    ("config", "test_size", lambda v, tmp: TrainConfig(test_size=v)),
    ("config", "n_estimators", lambda v, tmp: TrainConfig(params={"n_estimators": v})),
    ("CanaryPlan", "max_error_rate", lambda v, tmp: CanaryPlan(max_error_rate=v)),
    ("CanaryPlan", "max_latency_ms", lambda v, tmp: CanaryPlan(max_latency_ms=v)),
    ("CanaryPlan", "max_accuracy_drop", lambda v, tmp: CanaryPlan(max_accuracy_drop=v)),
    ("Monitor", "min_accuracy",
     lambda v, tmp: Monitor(tmp, reference=FRAME, train_data=FRAME, min_accuracy=v)),
    ("Monitor", "holdout_share",
     lambda v, tmp: Monitor(tmp, reference=FRAME, train_data=FRAME, holdout_share=v)),
    ("infer_schema", "margin", lambda v, tmp: infer_schema(FRAME, margin=v)),
    ("lab_command", "port", lambda v, tmp: lab_command(tmp, port=v)),
    ("schema column 'x'", "'std_max'", lambda v, tmp: ColumnSchema("x", std_max=v)),
    ("schema", "'min_rows'", lambda v, tmp: Schema(min_rows=v)),
    ("metrics", "'accuracy'", lambda v, tmp: apply_gate({"accuracy": v}, {"min_accuracy": 0.5})),
    ("two_proportion_ztest", "n_a", lambda v, tmp: two_proportion_ztest(1, v, 1, 10)),
    ("cohens_h", "p_a", lambda v, tmp: cohens_h(v, 0.1)),
    ("required_sample_size", "ratio", lambda v, tmp: required_sample_size(0.1, 0.2, ratio=v)),
    ("simulate_ab", "n_users", lambda v, tmp: simulate_ab(v, 0.1, 0.2)),
    ("peeking_error_rates", "rate", lambda v, tmp: peeking_error_rates(rate=v)),
    ("RunningSummary", "latency_window", lambda v, tmp: RunningSummary(latency_window=v)),
    ("EventLog", "max_events", lambda v, tmp: EventLog(max_events=v)),
    ("window_alpha", "alpha", lambda v, tmp: window_alpha(v, 1)),
    ("ServerLimits", "predict_timeout_s", lambda v, tmp: ServerLimits(predict_timeout_s=v)),
    ("rho_for", "information", lambda v, tmp: rho_for(v)),
    ("information_for", "half_width", lambda v, tmp: information_for(v)),
    ("compare_answers", "max_mismatch_rate",
     lambda v, tmp: compare_answers([1], [1], max_mismatch_rate=v)),
    ("ConfidenceBasedEstimator", "alpha", lambda v, tmp: ConfidenceBasedEstimator(alpha=v)),
    ("detect_drift", "alpha", lambda v, tmp: detect_drift(FRAME, FRAME, alpha=v)),
    ("slice_gate", "min_accuracy",
     lambda v, tmp: slice_gate([0, 1], [0, 1], ["a", "b"], min_accuracy=v)),
]


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize(("caller", "argument", "call"), CALLS,
                         ids=[f"{c}-{a}" for c, a, _ in CALLS])
def test_a_flag_text_nan_or_negative_is_refused_in_the_one_form(tmp_path, caller, argument,
                                                                 call, bad):
    with pytest.raises(InputError) as error:
        call(bad, tmp_path)
    form = rf"{re.escape(caller)}: {re.escape(argument)} must be [^\n]+, got [^\n]+"
    assert re.fullmatch(form, str(error.value)), str(error.value)
