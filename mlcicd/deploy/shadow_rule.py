"""The shadow release's promotion rule, and a simulation that measures its error rates.

A shadow report is read again and again while labels arrive. :class:`ShadowRule` turns
the paired evidence so far (rows only production got right, rows only the shadow got
right, labelled pairs) into ``"promote"``, ``"keep"`` or ``"wait"``, with one of two
analyses, and the report says which:

- ``"sequential"`` (default): the always-valid paired confidence sequence of
  :func:`mlcicd.sequential.paired_difference_cs` for ``shadow - production`` accuracy,
  judged by the non-inferiority rule of :class:`mlcicd.sequential.NonInferiorityRule`:
  ``"keep"`` (production stays) when the shadow is shown worse, ``"promote"`` when it
  is shown at most ``2 * margin`` worse. Its risks hold however often it is read.
- ``"fixed-horizon"``: the exact McNemar test at level ``alpha``, promoting on a
  significant gain. Valid when read once, at a sample size fixed in advance; read
  every 100 requests and acted on at the first "promote", it promotes equal shadows
  several times more often than ``alpha / 2`` (measured by :func:`simulate_shadow`).

:func:`simulate_shadow` plays many seeded shadow releases with the same
:meth:`ShadowRule.decide` a running :class:`~mlcicd.deploy.shadow.ShadowRelease`
calls, and returns an :class:`mlcicd.oc.OperatingPoint`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mlcicd.errors import InputError
from mlcicd.params import Choice, Integer, Real, check
from mlcicd.sequential import NonInferiorityRule, SequentialInterval, paired_difference_cs
from mlcicd.stats import McNemarResult, mcnemar_from_counts

if TYPE_CHECKING:
    from mlcicd.oc import OperatingPoint

__all__ = ["SHADOW_ANALYSES", "ShadowDecision", "ShadowRule", "simulate_shadow"]

#: How a shadow report can be read.
SHADOW_ANALYSES = ("sequential", "fixed-horizon")


@dataclass(frozen=True)
class ShadowDecision:
    """What :meth:`ShadowRule.decide` concluded, and on what.

    ``interval`` is the always-valid interval of shadow minus production accuracy
    (``None`` before any pair); ``mcnemar`` the fixed-horizon test (``None`` below
    ``min_samples``). Both are computed whichever analysis decides.
    """

    decision: str
    reason: str
    interval: SequentialInterval | None
    mcnemar: McNemarResult | None


@dataclass(frozen=True)
class ShadowRule:
    """Promote, keep or wait on the paired evidence of a shadow release.

    Parameters
    ----------
    analysis : {"sequential", "fixed-horizon"}, default "sequential"
        Which analysis decides (see the module docstring).
    min_samples : int, default 200
        Labelled pairs needed before any decision (the normal-mixture bound is
        asymptotic; below a few hundred pairs its coverage is not guaranteed).
    margin : float, default 0.05
        Accuracy a shadow may lose and still count as "as good" (sequential only).
    alpha : float, default 0.05
        Sequential: probability of keeping production against an equally accurate
        shadow. Fixed-horizon: level of the two-sided McNemar test.
    beta : float, default 0.05
        Sequential: probability of promoting a shadow ``2 * margin`` less accurate.

    Examples
    --------
    >>> rule = ShadowRule()
    >>> rule.decide(production_only=6, shadow_only=5, n=400).decision
    'promote'
    >>> rule.decide(production_only=40, shadow_only=5, n=400).decision
    'keep'
    >>> rule.decide(production_only=1, shadow_only=0, n=50).decision
    'wait'
    >>> ShadowRule(analysis="fixed-horizon").decide(6, 5, 400).decision
    'keep'
    """

    analysis: str = "sequential"
    min_samples: int = 200
    margin: float = 0.05
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        check("ShadowRule", "analysis", self.analysis, Choice(SHADOW_ANALYSES))
        check("ShadowRule", "min_samples", self.min_samples, Integer(low=1))
        # Validates margin, alpha and beta with the same messages as every other rule.
        NonInferiorityRule(self.margin, self.alpha, self.beta)

    def risks(self) -> str:
        """One sentence: what this rule risks, in its own terms."""
        if self.analysis == "fixed-horizon":
            return (f"Read once after {self.min_samples} labelled pairs, an equal shadow is "
                    f"promoted with probability at most {self.alpha / 2:.1%}; read "
                    "repeatedly, much more often.")
        return NonInferiorityRule(self.margin, self.alpha, self.beta).risks().replace(
            "candidate is aborted", "shadow is kept out").replace("candidate", "shadow")

    def decide(self, production_only: int, shadow_only: int, n: int) -> ShadowDecision:
        """Judge ``n`` labelled pairs: rows only production / only the shadow got right."""
        interval = paired_difference_cs(shadow_only, production_only, n, alpha=self.alpha
                                        ) if n else None
        if n < self.min_samples:
            return ShadowDecision("wait", f"{n}/{self.min_samples} labelled pairs so far",
                                  interval, None)
        test = mcnemar_from_counts(production_only, shadow_only)  # A = production
        if self.analysis == "fixed-horizon":
            decision, reason = self._fixed(test, n)
        else:
            assert interval is not None
            decision, reason = self._sequential(interval)
        return ShadowDecision(decision, reason, interval, test)

    def _fixed(self, test: McNemarResult, n: int) -> tuple[str, str]:
        if test.pvalue < self.alpha and test.b_only_correct > test.a_only_correct:
            return "promote", (f"McNemar p = {test.pvalue:.3g} < {self.alpha:g} on {n} pairs: "
                               "the shadow is right more often (fixed-horizon, read once)")
        return "keep", (f"no significant gain: McNemar p = {test.pvalue:.3g} on {n} pairs "
                        "(fixed-horizon)")

    def _sequential(self, ci: SequentialInterval) -> tuple[str, str]:
        rule = NonInferiorityRule(self.margin, self.alpha, self.beta)
        # rule.decide(ci), with the two one-sided bounds computed once for it and the text
        low, high = ci.lower(self.beta), ci.upper(self.alpha)
        decision = (rule.verdict(ci.estimate, low, high)
                    if ci.n and np.isfinite(ci.estimate) else "wait")
        shown = f"shadow - production accuracy {ci.estimate:+.3f} on {ci.n} pairs"
        if decision == "promote":
            return "promote", (f"{shown}; one-sided always-valid lower bound "
                               f"(level {self.beta:g}) {low:+.3f} > "
                               f"-{2 * self.margin:g}: not worse than the margin allows")
        if decision == "abort":
            return "keep", (f"{shown}; one-sided always-valid upper bound "
                             f"(level {self.alpha:g}) {high:+.3f} < 0: shadow is worse")
        return "wait", (f"{shown}; one-sided always-valid bounds [{low:+.3f}, {high:+.3f}] "
                        f"(levels {self.beta:g}, {self.alpha:g}) decide neither way yet")


def simulate_shadow(rule: ShadowRule, p_production: float, difference: float,
                    n_releases: int, seed: int, *, discordance: float | None = None,
                    check_every: int = 100, max_requests: int = 20_000,
                    live_rows: int | None = None, count_replays: bool = False,
                    case: str | None = None) -> OperatingPoint:
    """Play ``n_releases`` seeded shadow releases, read every ``check_every`` requests.

    Every request is labelled and paired. A release ends at the first ``"promote"``;
    with the sequential analysis also at the first ``"keep"`` (the shadow is shown
    worse), while a fixed-horizon "keep" only means "no significant gain yet" and the
    reader looks again later, as a team watching a dashboard does. A release still
    undecided when the stream ends is ``"inconclusive"`` (sequential) or counts as
    kept (fixed-horizon: its last reading was "keep"). "keep" is counted as an abort.

    Parameters
    ----------
    rule : ShadowRule
    p_production : float
        Accuracy of the production model.
    difference : float
        True shadow accuracy minus ``p_production``.
    n_releases, seed : int
    discordance : float, optional
        Share of rows exactly one model gets right; default ``|difference| + 0.04``
        (as :func:`mlcicd.oc.simulate_canary`).
    check_every : int, default 100
        Requests between two readings of the report.
    max_requests : int, default 20,000
        Length of the stream.
    live_rows : int, optional
        Replay this many distinct rows (each with fixed outcomes) in random order
        instead of fresh traffic.
    count_replays : bool, default False
        Count a replayed row as new evidence (the old, wrong way); by default each row
        counts once, as :class:`~mlcicd.deploy.shadow.ShadowRelease` does.
    case : str, optional

    Examples
    --------
    >>> point = simulate_shadow(ShadowRule(), 0.95, -0.10, n_releases=20, seed=0)
    >>> point.abort_rate
    1.0
    """
    # mlcicd.oc imports the deploy package, which imports this module: import it here.
    from mlcicd.oc import OperatingPoint, _joint_probabilities

    _check_simulation(p_production, difference, n_releases, check_every, max_requests,
                      live_rows)
    d = abs(difference) + 0.04 if discordance is None else float(discordance)
    # (shadow only right, production only right, both right, neither right).
    joint = _joint_probabilities(p_production, difference, d)
    rng = np.random.default_rng(seed)
    outcomes, requests, labels = [], [], []
    for _ in range(n_releases):
        kind = _stream(rng, joint, max_requests, live_rows, count_replays)
        shadow_only = np.cumsum(kind == 0)
        production_only = np.cumsum(kind == 1)
        counted = np.cumsum(kind >= 0)
        outcome, served, used = "inconclusive", max_requests, int(counted[-1])
        for end in range(check_every, max_requests + 1, check_every):
            n = int(counted[end - 1])
            decision = _decision(rule, int(production_only[end - 1]), int(shadow_only[end - 1]),
                                 n)
            if decision == "promote" or (decision == "keep" and rule.analysis == "sequential"):
                outcome, served, used = decision, end, n
                break
            if rule.analysis == "fixed-horizon" and decision == "keep":
                outcome = "keep"
        outcomes.append("abort" if outcome == "keep" else outcome)
        requests.append(served)
        labels.append(used)
    name = case if case is not None else f"difference {difference:+.3f}"
    return OperatingPoint.from_outcomes(name, difference, outcomes, requests, labels)


def _decision(rule: ShadowRule, production_only: int, shadow_only: int, n: int) -> str:
    """``rule.decide(...).decision`` without what that decision does not read.

    A simulation asks thousands of times and keeps only the decision: the fixed-horizon
    reading needs no always-valid interval, the sequential one no McNemar test (the
    report of a real release shows both). Same branches, same results:
    ``tests/test_peeking.py`` compares the two over a grid of counts.
    """
    if n < rule.min_samples:
        return "wait"
    if rule.analysis == "fixed-horizon":
        return rule._fixed(mcnemar_from_counts(production_only, shadow_only), n)[0]
    return rule._sequential(paired_difference_cs(shadow_only, production_only, n,
                                                 alpha=rule.alpha))[0]


def _stream(rng: np.random.Generator, joint: np.ndarray, max_requests: int,
            live_rows: int | None, count_replays: bool) -> np.ndarray:
    """Kind of each request's pair (0-3 as in ``joint``); -1 for a replay not counted."""
    if live_rows is None:
        return rng.choice(4, size=max_requests, p=joint)
    row_kind = rng.choice(4, size=live_rows, p=joint)
    passes = -(-max_requests // live_rows)
    order = np.concatenate([rng.permutation(live_rows) for _ in range(passes)])[:max_requests]
    kind = row_kind[order]
    if not count_replays:
        first = np.zeros(max_requests, dtype=bool)
        first[np.unique(order, return_index=True)[1]] = True
        kind = np.where(first, kind, -1)
    return kind


def _check_simulation(p_production: float, difference: float, n_releases: int,
                      check_every: int, max_requests: int, live_rows: int | None) -> None:
    check("simulate_shadow", "p_production", p_production, Real(0, 1, closed="neither"))
    check("simulate_shadow", "difference", difference, Real(-1, 1))
    if not 0.0 <= p_production + difference <= 1.0:
        raise InputError(
            f"p_production + difference must be in [0, 1], got {p_production + difference}")
    for name, value in (("n_releases", n_releases), ("check_every", check_every),
                        ("max_requests", max_requests)):
        check("simulate_shadow", name, value, Integer(low=1))
    if live_rows is not None:
        check("simulate_shadow", "live_rows", live_rows, Integer(low=1))
