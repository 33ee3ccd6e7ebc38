"""The canary's judgement: counts in, decision out, with the error rates it states.

:func:`judge` is the single place where a canary step is decided. A running
:class:`~mlcicd.deploy.canary.CanaryRelease` feeds it the counts it reads from the router
(:class:`CanaryEvidence`), and :func:`mlcicd.oc.simulate_canary` feeds it simulated counts
to measure how often it is wrong: the same function, so the measured rates are the
rates of the code that runs.

Guardrails (each a rule with a stated risk):

- accuracy: a sequential non-inferiority test (:class:`mlcicd.sequential.NonInferiorityRule`)
  on the canary-minus-stable accuracy, over the whole release. Paired by default (the
  stable model also answers each canary request, unseen by the user), else two arms;
- error rate: abort when the lower bound of an exact confidence sequence for the
  canary's error rate (:func:`mlcicd.sequential.proportion_cs`) rises above
  ``max_error_rate``; a canary that fails on every call is aborted at its first failed
  request, one whose true error rate is ``max_error_rate`` at most ``alpha`` of the time;
- latency: the 95th percentile of the step's canary latency, once the step has
  ``min_requests`` requests, must stay under ``max_latency_ms``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from mlcicd.errors import InputError
from mlcicd.params import Boolean, Integer, Real, check
from mlcicd.sequential import (
    NonInferiorityRule,
    SequentialInterval,
    difference_cs,
    information_for,
    paired_difference_cs,
    proportion_cs,
    rho_for,
)

__all__ = ["CanaryAnalysis", "CanaryEvidence", "CanaryPlan", "DECISIONS", "judge"]

#: What an analysis can decide.
DECISIONS = ("abort", "wait", "continue", "promote")

#: Latencies kept per step for the p95 (the most recent ones).
LATENCY_WINDOW = 10_000


@dataclass(frozen=True)
class CanaryPlan:
    """Steps of a canary release, its guardrails and the error rates it aims for.

    Parameters
    ----------
    steps : tuple of float, default (0.05, 0.10, 0.25, 0.50, 1.0)
        Canary shares of traffic, strictly increasing, in (0, 1].
    min_requests : int, default 100
        Canary requests a step must serve before it may *continue* or *promote*. An
        abort needs no minimum: the error-rate and accuracy bounds are valid at every
        sample size, so they may stop a bad canary at once.
    max_error_rate : float, default 0.01
        Error rate the canary may have; it is aborted when the release's confidence
        sequence for its error rate lies wholly above this.
    max_accuracy_drop : float, default 0.05
        The margin ``m`` of the non-inferiority test, in (0, 1): a candidate as good as
        stable is aborted with probability at most ``alpha``, one ``2 m`` worse is
        promoted with probability at most ``beta``, one ``m`` worse may go either way
        (the plan may abort at every step but promotes only at the last, so more
        such candidates are aborted than promoted).
    min_labels : int, default 30
        Labelled evidence (pairs when ``paired``, else per arm) needed before accuracy
        is judged at all; ``0`` turns the accuracy guardrail off (no labels arrive).
        The bounds are asymptotic: this floor keeps them out of the smallest samples.
    max_latency_ms : float, optional
        Highest 95th percentile of canary latency within a step.
    alpha : float, default 0.05
        Probability of aborting a candidate exactly as accurate as stable.
    beta : float, default 0.05
        Probability of promoting a candidate ``2 * max_accuracy_drop`` less accurate.
    paired : bool, default True
        Score each labelled canary request with the stable model as well (one extra
        call of the model already in production, after the user has the canary's
        answer; a failure there never reaches the user) and compare the two on the
        same rows. Only rows where exactly one model is right carry information, so
        two close models need far fewer labels than with two separate groups of users;
        ``False`` compares canary users with stable users.

    Notes
    -----
    How many labels a decision needs, measured by ``python bench/bench_decisions.py``
    (1,000 simulated releases per case, stable accuracy 0.95, margin 0.05, alpha = beta
    = 0.05, a candidate disagreeing with stable on 4 % of rows beside the difference):

    - the accuracy test alone, paired: an equal candidate is promoted after a median of
      70 labelled canary requests, one 0.10 worse aborted after 100 (promoted in 2.7 %
      [1.8, 3.9] of releases); two arms split 50/50 need 150 and 250 labels in all;
    - the default plan decides at its last step (3,800 requests, about 520 canary
      labels; the accuracy evidence is not what it waits for) and aborts a candidate
      0.10 worse after a median of 1,900 requests (95 canary labels);
    - the end-to-end pipeline's case, 150 live rows replayed 20 times, each row one
      key counted once, so at most 150 pairs: an equal candidate is promoted in 88 %
      [86, 90] of releases with ``min_requests=50`` (the rest end inconclusive; none
      aborts), 97 % [95, 98] with ``min_requests=20``, 99.5 % with 230 live rows. With
      two arms instead, 150 replayed rows never decide (a row counts in the arm that
      saw it first, so the canary arm stays tiny).

    Each label counts once: a request whose key was already counted adds nothing.

    Examples
    --------
    >>> CanaryPlan(steps=(0.1, 0.5, 1.0)).steps
    (0.1, 0.5, 1.0)
    >>> CanaryPlan().rule.risks()[:60]
    'An equal candidate is aborted with probability at most 5%, o'
    >>> CanaryPlan(steps=(0.5, 0.2))
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: canary steps must be strictly increasing, got (0.5, 0.2)
    >>> CanaryPlan(alpha=0.7)
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: alpha must be a number in (0, 0.5), got 0.7
    """

    steps: tuple[float, ...] = (0.05, 0.10, 0.25, 0.50, 1.0)
    min_requests: int = 100
    max_error_rate: float = 0.01
    max_accuracy_drop: float = 0.05
    min_labels: int = 30
    max_latency_ms: float | None = None
    alpha: float = 0.05
    beta: float = 0.05
    paired: bool = True

    def __post_init__(self) -> None:
        try:
            steps = tuple(float(s) for s in self.steps)
        except (TypeError, ValueError):
            raise InputError(f"canary steps must be numbers, got {self.steps!r}") from None
        object.__setattr__(self, "steps", steps)
        if not steps:
            raise InputError("a canary plan needs at least one step")
        if any(not np.isfinite(s) or s <= 0 or s > 1 for s in steps):
            raise InputError(f"canary steps must be shares in (0, 1] (1 = 100 %), got {steps}")
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            raise InputError(f"canary steps must be strictly increasing, got {steps}")
        for name in ("min_requests", "min_labels"):
            value = getattr(self, name)
            low = 1 if name == "min_requests" else 0
            check("CanaryPlan", name, value, Integer(low=low))
        check("CanaryPlan", "max_error_rate", self.max_error_rate, Real(0, 1, closed="left"))
        if self.max_latency_ms is not None:
            check("CanaryPlan", "max_latency_ms", self.max_latency_ms, Real(0, closed="neither"))
        check("CanaryPlan", "paired", self.paired, Boolean())
        self.rule  # noqa: B018 - validates margin, alpha and beta with the rule's messages

    @cached_property
    def rule(self) -> NonInferiorityRule:
        """The accuracy rule: margin ``max_accuracy_drop``, error rates ``alpha``, ``beta``."""
        check("CanaryPlan", "max_accuracy_drop", self.max_accuracy_drop,
              Real(0, 1, closed="neither"))
        return NonInferiorityRule(self.max_accuracy_drop, self.alpha, self.beta)

    @cached_property
    def rho(self) -> float:
        """Mixture precision tuned so the bounds are tightest near a decision.

        A decision needs a half-width of about twice the margin; the mixture is tuned
        for the information at which that is reached.
        """
        level = min(self.alpha, self.beta)
        return rho_for(information_for(2 * self.max_accuracy_drop, level), level)


@dataclass(frozen=True)
class CanaryAnalysis:
    """The metrics of one step and the decision taken on them."""

    step: int
    weight: float
    decision: str
    reasons: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class CanaryEvidence:
    """What the analysis counts, since the release started unless named ``step_``.

    Accuracy counts hold each key once. Paired counts: ``canary_only`` (canary right,
    stable wrong), ``stable_only``, ``both_right``, out of ``pairs``.
    """

    canary_requests: int = 0
    canary_errors: int = 0
    step_requests: int = 0
    step_latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    canary_labelled: int = 0
    canary_correct: int = 0
    stable_labelled: int = 0
    stable_correct: int = 0
    pairs: int = 0
    canary_only: int = 0
    stable_only: int = 0
    both_right: int = 0

    def new_step(self) -> None:
        """Forget the per-step counts (a new traffic share starts)."""
        self.step_requests = 0
        self.step_latencies_s.clear()

    def interval(self, plan: CanaryPlan, alpha: float | None = None) -> SequentialInterval:
        """Confidence sequence of canary-minus-stable accuracy (two-sided at ``alpha``,
        default ``plan.alpha``)."""
        alpha = plan.alpha if alpha is None else alpha
        if plan.paired:
            return paired_difference_cs(self.canary_only, self.stable_only, self.pairs,
                                        alpha=alpha, rho=plan.rho)
        return difference_cs(self.canary_correct, self.canary_labelled, self.stable_correct,
                             self.stable_labelled, alpha=alpha, rho=plan.rho)

    def bounds(self, plan: CanaryPlan) -> tuple[float, float, float]:
        """Estimate, lower bound at ``beta`` and upper bound at ``alpha`` (one-sided)."""
        if plan.alpha == plan.beta and plan.alpha < 0.25:
            # A two-sided sequence at 2 alpha is the two one-sided ones at alpha: one call.
            both = self.interval(plan, 2 * plan.alpha)
            return both.estimate, both.low, both.high
        interval = self.interval(plan)
        return interval.estimate, interval.lower(plan.beta), interval.upper(plan.alpha)

    def labelled(self, plan: CanaryPlan) -> int:
        """Evidence that counts against ``min_labels``: pairs, or the smaller arm."""
        return self.pairs if plan.paired else min(self.canary_labelled, self.stable_labelled)

    def accuracies(self, plan: CanaryPlan) -> tuple[float, float]:
        """Canary and stable accuracy on the evidence (NaN before any)."""
        if plan.paired:
            if not self.pairs:
                return math.nan, math.nan
            return ((self.canary_only + self.both_right) / self.pairs,
                    (self.stable_only + self.both_right) / self.pairs)
        return (self.canary_correct / self.canary_labelled if self.canary_labelled else math.nan,
                self.stable_correct / self.stable_labelled if self.stable_labelled else math.nan)


def judge(plan: CanaryPlan, evidence: CanaryEvidence, step: int) -> CanaryAnalysis:
    """Decide the current step: ``abort``, ``wait``, ``continue`` or ``promote``.

    Examples
    --------
    >>> plan = CanaryPlan(steps=(0.5, 1.0), min_requests=100)
    >>> ev = CanaryEvidence(canary_requests=120, step_requests=120, pairs=120,
    ...                     canary_only=2, stable_only=3, both_right=110)
    >>> judge(plan, ev, 0).decision
    'continue'
    >>> judge(plan, ev, 1).decision  # the last step needs non-inferiority shown
    'promote'
    >>> judge(plan, CanaryEvidence(canary_requests=1, canary_errors=1), 0).reasons
    ('error rate 1/1: above 1.0% for sure (lower bound 2.5%)',)
    """
    weight = plan.steps[step]
    m: dict[str, float] = {
        "canary_requests": evidence.step_requests,
        "release_canary_requests": evidence.canary_requests,
        "canary_errors": evidence.canary_errors,
        "error_rate": (evidence.canary_errors / evidence.canary_requests
                       if evidence.canary_requests else 0.0),
    }
    lat = np.fromiter(evidence.step_latencies_s, dtype=float)
    m["p95_latency_ms"] = float(np.percentile(lat, 95) * 1000) if len(lat) else math.nan
    m["canary_accuracy"], m["stable_accuracy"] = evidence.accuracies(plan)
    m["labelled"] = evidence.labelled(plan)
    m["canary_labelled"] = evidence.pairs if plan.paired else evidence.canary_labelled
    abort: list[str] = []
    if evidence.canary_errors:
        errors = proportion_cs(evidence.canary_errors, evidence.canary_requests,
                               alpha=plan.alpha)
        if errors.low > plan.max_error_rate:
            abort.append(f"error rate {evidence.canary_errors}/{evidence.canary_requests}: "
                         f"above {plan.max_error_rate:.1%} for sure (lower bound "
                         f"{errors.low:.1%})")
    if (plan.max_latency_ms is not None and evidence.step_requests >= plan.min_requests
            and m["p95_latency_ms"] > plan.max_latency_ms):
        abort.append(f"p95 latency {m['p95_latency_ms']:.1f} ms above {plan.max_latency_ms}")
    verdict = "promote"
    if plan.min_labels:
        verdict, accuracy_reason = _judge_accuracy(plan, evidence, m)
        if verdict == "abort":
            abort.append(accuracy_reason)
    if abort:
        return CanaryAnalysis(step, weight, "abort", tuple(abort), m)
    if evidence.step_requests < plan.min_requests:
        return CanaryAnalysis(step, weight, "wait", (
            f"{evidence.step_requests}/{plan.min_requests} canary requests in this step",), m)
    if step < len(plan.steps) - 1:
        return CanaryAnalysis(step, weight, "continue", ("guardrails hold",), m)
    if verdict != "promote":
        return CanaryAnalysis(step, weight, "wait", (accuracy_reason,), m)
    return CanaryAnalysis(step, weight, "promote", ("guardrails hold",), m)


def _judge_accuracy(plan: CanaryPlan, evidence: CanaryEvidence,
                    m: dict[str, float]) -> tuple[str, str]:
    n = evidence.labelled(plan)
    if n < plan.min_labels:
        what = "labelled pairs" if plan.paired else "labelled requests in the smaller arm"
        m["difference"] = m["difference_low"] = m["difference_high"] = math.nan
        return "wait", f"{n}/{plan.min_labels} {what}"
    estimate, low, high = evidence.bounds(plan)
    m["difference"], m["difference_low"], m["difference_high"] = estimate, low, high
    verdict = plan.rule.verdict(estimate, low, high)
    text = (f"accuracy difference {estimate:+.3f} (one-sided bounds {low:+.3f}, "
            f"{high:+.3f}) on {n} {'pairs' if plan.paired else 'labels per arm at least'}")
    if verdict == "abort":
        return verdict, f"{text}: worse than stable for sure"
    if verdict == "promote":
        return verdict, f"{text}: within {2 * plan.max_accuracy_drop:.3f} of stable"
    return verdict, f"{text}: not yet shown within {2 * plan.max_accuracy_drop:.3f} of stable"
