"""Self-checks of lab 4 (deployment strategies): canary guardrail, sticky groups, sample size,
and the training-serving skew comparison."""

from __future__ import annotations

import ast
import inspect
import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mlcicd.deploy import (
    CanaryPlan,
    assign_groups,
    required_sample_size,
    stable_bucket,
    stable_buckets,
)
from mlcicd.deploy.canary_analysis import judge
from mlcicd.labs.checking import CheckResult, answer_of, checker, fail, ok, refuse_library
from mlcicd.sequential import NonInferiorityRule
from mlcicd.skew import check_skew, compare_answers

__all__ = ["check_assign_group", "check_canary_decision", "check_served_mismatches",
           "check_users_needed"]

#: (labelled pairs, estimate, lower bound, upper bound, margin, what the case shows)
_CANARY_CASES: tuple[tuple[int, float, float, float, float, str], ...] = (
    (20, -0.30, -0.45, -0.15, 0.05, "20 pairs are fewer than min_labels (30): wait, however "
     "bad the bounds look"),
    (30, -0.12, -0.20, -0.04, 0.05, "the upper bound is below 0: worse for sure"),
    (30, -0.01, -0.06, 0.04, 0.05, "the lower bound is above -2 x margin: not much worse"),
    (400, -0.03, -0.08, -0.002, 0.05, "both hold: side with the estimate, -0.03 >= -margin"),
    (400, -0.07, -0.095, -0.045, 0.05, "both hold: side with the estimate, -0.07 < -margin"),
    (60, -0.02, -0.15, 0.11, 0.05, "neither bound is decisive yet"),
    (200, 0.08, 0.03, 0.13, 0.05, "a canary *better* than stable is promoted"),
    (200, 0.02, -0.03, 0.07, 0.02, "margin 0.02: the lower bound -0.03 is above -0.04"),
    (200, -0.01, -0.05, 0.03, 0.02, "margin 0.02: the lower bound -0.05 is below -0.04"),
    (200, -0.04, -0.15, 0.0, 0.10, "an upper bound of exactly 0 is not below 0"),
    (200, -0.02, -0.10, 0.05, 0.05, "a lower bound of exactly -2 x margin is not above it"),
    (500, -0.06, -0.11, -0.01, 0.10,
     "margin 0.10: both hold and the estimate -0.06 is above -0.10"),
    (400, -0.05, -0.09, -0.01, 0.05,
     "both hold and the estimate is exactly -margin: that is close enough (>=)"),
)
_MIN_LABELS = 30
#: (labelled pairs, min_labels, what the case shows): the same decisive bounds (upper
#: -0.04 < 0) with other minimums, so an answer that ignores min_labels cannot pass.
_MIN_LABEL_CASES: tuple[tuple[int, int, str], ...] = (
    (40, 50, "40 pairs are fewer than min_labels = 50: wait"),
    (15, 10, "15 pairs are enough when min_labels = 10: decide"),
)


@checker
def check_canary_decision(canary_decision: Callable[..., str]) -> CheckResult:
    """Pass when ``canary_decision`` reads the bounds exactly as the canary's rule does.

    The expected answers come from :class:`mlcicd.sequential.NonInferiorityRule`, the rule
    every :class:`~mlcicd.deploy.CanaryRelease` applies, on thirteen cases: too few pairs,
    each bound alone, both at once, neither, a better canary, three margins, bounds and
    an estimate exactly on the thresholds; then two other ``min_labels`` (an answer that
    hard-codes 30 fails).
    """
    refuse_library(canary_decision, {"NonInferiorityRule": NonInferiorityRule,
                                     "judge": judge, "CanaryPlan": CanaryPlan},
                   "the accuracy guardrail")
    for n, estimate, lower, upper, margin, story in _CANARY_CASES:
        wanted = ("wait" if n < _MIN_LABELS
                  else NonInferiorityRule(margin).verdict(estimate, lower, upper))
        answer = answer_of(canary_decision, n, estimate, lower, upper, margin, _MIN_LABELS)
        if answer != wanted:
            return fail(f"{n} pairs, difference {estimate:+.3f} with bounds [{lower:+.3f}, "
                        f"{upper:+.3f}], margin {margin}: expected {wanted!r}, got "
                        f"{answer!r} ({story})")
    for n, min_labels, story in _MIN_LABEL_CASES:
        wanted = ("wait" if n < min_labels
                  else NonInferiorityRule(0.05).verdict(-0.12, -0.20, -0.04))
        answer = answer_of(canary_decision, n, -0.12, -0.20, -0.04, 0.05, min_labels)
        if answer != wanted:
            return fail(f"{n} pairs with min_labels = {min_labels}, bounds [-0.200, -0.040]: "
                        f"expected {wanted!r}, got {answer!r} ({story}; use the min_labels "
                        "argument, not a fixed number)")
    cases = len(_CANARY_CASES) + len(_MIN_LABEL_CASES)
    return ok(f"right on all {cases} cases: you wait for evidence, abort only a "
              "canary that is worse for sure, and promote one shown close enough.")


_RUNNER = """
import hashlib, json, math, sys, zlib
import numpy as np
{source}
users = [f"user-{{i}}" for i in range(300)]
print(json.dumps([{name}(u, 0.3) for u in users]))
"""


def _names_used(code: types.CodeType) -> set[str]:
    """Global names read by ``code`` and by the lambdas and inner functions it defines."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_used(constant)
    return names


def _standalone_source(func: Callable[..., str]) -> str:
    """The source of ``func`` and of the notebook functions it calls, without decorators.

    A learner may split the answer into helpers (one to hash, one to compare) or decorate
    it; run alone, the function alone would fail with a NameError that says nothing
    about stickiness.
    """
    parts: dict[str, str] = {}
    todo = [func]
    while todo:
        current = todo.pop()
        if current.__name__ in parts:
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(current)))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                node.decorator_list = []
        parts[current.__name__] = ast.unparse(tree)
        for name in _names_used(current.__code__):
            helper = current.__globals__.get(name)
            if inspect.isfunction(helper) and helper.__module__ == func.__module__:
                todo.append(helper)
    return "\n\n\n".join(parts.values())


def _groups_in_fresh_process(func: Callable[..., str], hash_seed: str) -> list[str] | str:
    """Run ``func`` in a new interpreter (its own string-hash seed); the groups or an error."""
    try:
        source = _standalone_source(func)
    except (OSError, TypeError, SyntaxError):
        return "could not read the function's source"
    script = _RUNNER.format(source=source, name=func.__name__)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "assign.py"
        path.write_text(script, encoding="utf-8")
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(  # noqa: S603 - our own interpreter on a file we wrote
            [sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=60,
            check=False,
        )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return lines[-1] if lines else "it failed in a fresh process"
    return json.loads(done.stdout)


def _ids() -> dict[str, list[str]]:
    """User ids of several shapes: a rule on the digits of an id cannot pass them all."""
    return {
        "user-0 ... user-4999": [f"user-{i}" for i in range(5000)],
        "order-0, order-100, order-200 ... (every id ends in 00)":
            [f"order-{100 * i}" for i in range(3000)],
        "e-mail addresses": [f"{name}{i}@example.org" for i in range(600)
                             for name in ("ana", "bo", "chen", "dee", "eli")],
    }


@checker
def check_assign_group(assign_group: Callable[[str, float], str]) -> CheckResult:
    """Pass when groups are "A"/"B", sticky, nested, the right shares, stable across runs.

    Tried with ids of three shapes and shares 0, 0.1, 0.3, 0.5 and 1; the B group at a
    share must contain the B group at any smaller share (one bucket per user).
    """
    refuse_library(assign_group, {"stable_bucket": stable_bucket,
                                  "stable_buckets": stable_buckets,
                                  "assign_groups": assign_groups}, "the assignment")
    for shape, users in _ids().items():
        previous: set[int] = set()
        for share in (0.0, 0.1, 0.3, 0.5, 1.0):
            groups = [answer_of(assign_group, user, share) for user in users]
            if set(groups) - {"A", "B"}:
                odd = sorted(set(map(repr, groups)) - {"'A'", "'B'"})[:3]
                return fail(f"return 'A' or 'B', got {', '.join(odd)}")
            in_b = {i for i, g in enumerate(groups) if g == "B"}
            got = len(in_b) / len(users)
            if share in (0.0, 1.0) and got != share:
                return fail(f"with share_b = {share:g}, {got:.1%} of users got B instead of "
                            f"{share:.0%}: map the digest to a number in [0, 1) (never 1 "
                            "itself, e.g. divide by 2**64, not 255) and give B those below "
                            "share_b")
            if abs(got - share) > 0.03:
                return fail(f"with share_b = {share} and ids like {shape}, {got:.1%} of "
                            f"{len(users):,} users got B: hash the whole id, map the digest "
                            "to a number in [0, 1) and give B the users below share_b")
            if not previous <= in_b:
                return fail(f"raising share_b to {share} moved users from B back to A: compare "
                            "one fixed number per user with share_b, so a larger share only "
                            "adds users")
            previous = in_b
        again = [assign_group(user, 0.3) for user in users[:50]]
        first = [answer_of(assign_group, user, 0.3) for user in users[:50]]
        if again != first:
            return fail("the same user got different groups on two calls: the assignment must "
                        "be sticky (no random numbers)")
    runs = [_groups_in_fresh_process(assign_group, seed) for seed in ("1", "2")]
    for run in runs:
        if isinstance(run, str):
            return fail(f"run alone, `{assign_group.__name__}` failed: {run}")
    if runs[0] != runs[1]:
        return fail("users change groups between two Python processes: Python's hash() of a "
                    "string is salted per process; use hashlib (e.g. sha256) instead")
    return ok("sticky, nested, the right share of B for every share and id shape, and the "
              "same in every process.")


_POWER_CASES = (
    (0.10, 0.12, 0.05, 0.8),
    (0.20, 0.25, 0.05, 0.9),
    (0.05, 0.04, 0.01, 0.8),
    (0.30, 0.33, 0.10, 0.8),
    (0.50, 0.55, 0.05, 0.95),
    (0.10, 0.13, 0.05, 0.5),
)


@checker
def check_users_needed(users_needed: Callable[[float, float, float, float], int]) -> CheckResult:
    """Pass when ``users_needed`` gives the library's sample size exactly, on six cases."""
    refuse_library(users_needed, {"required_sample_size": required_sample_size},
                   "the sample-size formula")
    for p_a, p_b, alpha, power in _POWER_CASES:
        wanted = required_sample_size(p_a, p_b, alpha=alpha, power=power)
        answer = answer_of(users_needed, p_a, p_b, alpha, power)
        if not isinstance(answer, int | np.integer) or isinstance(answer, bool):
            return fail(f"return a whole number of users (math.ceil), got {answer!r}")
        if answer == wanted:
            continue
        where = (f"for {p_a:.0%} -> {p_b:.0%}, alpha {alpha}, power {power:.0%}: expected "
                 f"{wanted:,} users per group, got {int(answer):,}")
        if answer == wanted - 1:
            return fail(f"{where}: round *up* (math.ceil); int() or round() leaves the test "
                        "short of its power")
        return fail(f"{where}: check the z values (1 - alpha/2 for a two-sided test, power "
                    "for the other) and that you use every argument")
    return ok(f"your sample sizes match the normal-approximation formula on {len(_POWER_CASES)} "
              "cases, rounded up.")


#: (offline answers, served answers, row labels, what the case shows)
_SKEW_CASES: tuple[tuple[list, list, list, str], ...] = (
    ([0, 1, 1, 0], [0, 1, 0, 0], [0, 1, 2, 3], "one answer of four differs"),
    ([1, 0, 1, 1, 0], [0, 0, 1, 0, 0], [5800, 5801, 5802, 5803, 5804],
     "rows labelled 5800 to 5804: return their labels, not their positions"),
    ([1, 0, 1, 0], [1.0, 0.0, 1.0, 0.0], [10, 11, 12, 13],
     "the served answers are 1.0 and 0.0: the same answers as 1 and 0"),
    ([1, 0, 1, 0, 1], ["1", "0", "0", "0", "1"], [7, 3, 9, 1, 4],
     "JSON gave the labels back as text: \"1\" is the answer 1, and the row labelled 9 differs"),
    (["yes", "no", "no"], ["yes", "yes", "no"], ["a", "b", "c"],
     "labels that are words (no number conversion possible)"),
    ([0, 1], [1, 0], [20, 21], "every answer differs"),
    ([np.int64(1), np.int64(0), np.int64(0)], [1, 0, "1"], ["user-1", "user-2", "user-3"],
     "numpy integers offline, JSON answers served"),
    ([0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 1, 1], list(range(100, 108)),
     "three of eight answers differ"),
    ([1, 1, 0], [0, 0, 0], [12, 3, 5],
     "rows labelled 12, 3, 5: list the differing ones in the order of `index`, not sorted"),
    ([0.5, 1, 2.5], [0.5, 1.0, 2], ["r1", "r2", "r3"],
     "an answer that is not a whole number keeps its decimals: 2.5 is not 2"),
)


@checker
def check_served_mismatches(served_mismatches: Callable[..., tuple[float, list]]) -> CheckResult:
    """Pass when ``served_mismatches`` gives the library's mismatch rate and rows."""
    refuse_library(served_mismatches, {"compare_answers": compare_answers,
                                       "check_skew": check_skew}, "the row-by-row comparison")
    for offline, served, labels, story in _SKEW_CASES:
        wanted = compare_answers(offline, served, index=labels)
        answer = answer_of(served_mismatches, list(offline), list(served), list(labels))
        if not isinstance(answer, tuple | list) or len(answer) != 2:
            return fail(f"return a pair (mismatch rate, list of row labels), got {answer!r}")
        rate, rows = answer
        expected_rows = list(wanted.mismatches.index)
        try:
            rows = list(rows)
            rate = float(rate)
        except (TypeError, ValueError):
            return fail(f"return a number and a list, got {answer!r}")
        if rows != expected_rows:
            if sorted(map(str, rows)) == sorted(map(str, expected_rows)):
                return fail(f"when {story}: list the rows in their order, {expected_rows}")
            return fail(f"when {story}: expected the rows {expected_rows}, got {rows} (compare "
                        "answers as text with whole numbers written without a decimal point, "
                        "and return the rows' labels from `index`)")
        if not math.isclose(rate, wanted.mismatch_rate, rel_tol=1e-9, abs_tol=1e-12):
            return fail(f"when {story}: the mismatch rate is {wanted.mismatch_rate:.4g} "
                        f"(mismatches / all rows, a fraction), got {rate!r}")
    return ok(f"right on all {len(_SKEW_CASES)} cases: labels, not positions, and 1, 1.0 and "
              "\"1\" read as one answer.")
