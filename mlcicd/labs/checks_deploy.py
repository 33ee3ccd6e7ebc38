"""Self-checks of lab 4 (deployment strategies): canary guardrail, sticky groups, sample size."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

from mlcicd.deploy import required_sample_size
from mlcicd.labs.checking import CheckResult, answer_of, checker, fail, ok

__all__ = ["check_assign_group", "check_canary_decision", "check_users_needed"]

#: (canary accuracy, stable accuracy, labelled canary requests, expected, what it shows)
_CANARY_CASES = (
    (0.97, 0.98, 200, "continue", "a 1-point drop is within the 5-point limit"),
    (0.90, 0.98, 200, "abort", "an 8-point drop is beyond the 5-point limit"),
    (0.60, 0.98, 20, "wait", "20 labels are too few to judge, however bad they look"),
    (0.94, 0.98, 50, "continue", "a 4-point drop, judged as soon as there are 50 labels"),
    (0.99, 0.95, 500, "continue", "a better canary goes on"),
)


@checker
def check_canary_decision(canary_decision: Callable[..., str]) -> CheckResult:
    """Pass when ``canary_decision`` waits, continues and aborts like the guardrail should."""
    for canary, stable, labelled, expected, story in _CANARY_CASES:
        answer = answer_of(canary_decision, canary, stable, labelled, 0.05, 50)
        if answer != expected:
            return fail(f"canary {canary:.2f} vs stable {stable:.2f} with {labelled} labels: "
                        f"expected {expected!r}, got {answer!r} ({story})")
    return ok("your guardrail waits for evidence, then continues or aborts correctly.")


_RUNNER = """
import hashlib, json, math, sys, zlib
import numpy as np
{source}
users = [f"user-{{i}}" for i in range(300)]
print(json.dumps([{name}(u, 0.3) for u in users]))
"""


def _groups_in_fresh_process(func: Callable[..., str], hash_seed: str) -> list[str] | str:
    """Run ``func`` in a new interpreter (its own string-hash seed); the groups or an error."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
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


@checker
def check_assign_group(assign_group: Callable[[str, float], str]) -> CheckResult:
    """Pass when groups are "A"/"B", sticky, about the right shares, and stable across runs."""
    users = [f"user-{i}" for i in range(5000)]
    groups = [answer_of(assign_group, user, 0.3) for user in users]
    if set(groups) - {"A", "B"}:
        return fail(f"return 'A' or 'B', got {sorted(set(map(repr, groups)) - {'A', 'B'})[:3]}")
    if groups[:50] != [assign_group(user, 0.3) for user in users[:50]]:
        return fail("the same user got different groups on two calls: the assignment must be "
                    "sticky (no random numbers)")
    share = groups.count("B") / len(groups)
    if abs(share - 0.3) > 0.03:
        return fail(f"with share_b = 0.3, {share:.1%} of 5,000 users got B: map the hash to a "
                    "number in [0, 1) and give B the users below share_b")
    runs = [_groups_in_fresh_process(assign_group, seed) for seed in ("1", "2")]
    for run in runs:
        if isinstance(run, str):
            return fail(f"run alone, `{assign_group.__name__}` failed: {run}")
    if runs[0] != runs[1]:
        return fail("users change groups between two Python processes: Python's hash() of a "
                    "string is salted per process; use hashlib (e.g. sha256) instead")
    return ok("sticky, about 30 % in B, and the same in every process.")


_POWER_CASES = ((0.10, 0.12, 0.05, 0.8), (0.20, 0.25, 0.05, 0.9), (0.05, 0.04, 0.01, 0.8))


@checker
def check_users_needed(users_needed: Callable[[float, float, float, float], int]) -> CheckResult:
    """Pass when ``users_needed`` is within 2 % of the library's sample size."""
    for p_a, p_b, alpha, power in _POWER_CASES:
        wanted = required_sample_size(p_a, p_b, alpha=alpha, power=power)
        answer = answer_of(users_needed, p_a, p_b, alpha, power)
        if not isinstance(answer, int) or isinstance(answer, bool):
            return fail(f"return a whole number of users (round up), got {answer!r}")
        if abs(answer - wanted) > 0.02 * wanted:
            return fail(f"for {p_a:.0%} -> {p_b:.0%}, alpha {alpha}, power {power:.0%}: expected "
                        f"about {wanted:,} users per group, got {answer:,}")
    return ok("your sample sizes match the normal-approximation formula.")
