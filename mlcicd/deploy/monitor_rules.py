"""The monitor's two decision rules, with the error rates they state.

**Promotion needs paired evidence** (:class:`PromotionRule`). Both models score the
same held-out rows; only rows where exactly one of them is right carry information, and
:func:`mlcicd.sequential.paired_difference_cs` turns those counts into an always-valid
interval for ``accuracy(candidate) - accuracy(production)``. Then:

* production still meets its accuracy minimum (the retraining was triggered by drift
  alone): promote only when the candidate is *better*, i.e. the one-sided lower bound
  at level ``alpha`` is above 0. A tie is not a promotion: replacing a working model
  by an equal one costs a release and buys nothing. Risk: a candidate that is not
  better is promoted with probability at most ``alpha``.
* production is below its minimum (it failed its own gate): promote when the candidate
  passes the quality gate and is *not worse*, by
  :class:`~mlcicd.sequential.NonInferiorityRule` (``margin``, ``alpha``, ``beta``):
  one ``2 * margin`` worse is promoted with probability at most ``beta``. The hold-out
  is scored once, so a rule that would "wait" for more rows refuses: how often an
  equal candidate is refused depends on the hold-out size and is measured by
  :func:`simulate_monitor` (``bench/bench_decisions.py``), not promised.

**Repeated windows are corrected by alpha-spending** (:func:`window_alpha`). A monitor
tests every window against the same reference; at level 0.05 each, twenty windows of
unchanged data raise at least one false alarm about 64 % of the time. Window ``k``
since the reference last moved is tested at ``alpha / (k (k + 1))``; these levels sum to
``alpha`` over any number of windows, so the chance of *any* false drift alarm while the
reference stays put is at most ``alpha`` (a union bound: Bonferroni over an unbounded
horizon). The price is power in late windows, which is why the reference moves (and the
count restarts) with every promotion.

:func:`simulate_monitor` measures the promotion rule's operating characteristic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcicd.oc import OperatingPoint
from mlcicd.params import Integer, Real, check
from mlcicd.sequential import NonInferiorityRule, SequentialInterval, paired_difference_cs

__all__ = [
    "PromotionRule",
    "PromotionVerdict",
    "paired_counts",
    "simulate_monitor",
    "window_alpha",
]


def window_alpha(alpha: float, window: int) -> float:
    """The drift test level of window ``window`` (1, 2, ...) under alpha-spending.

    >>> [round(window_alpha(0.05, k), 5) for k in (1, 2, 3, 10)]
    [0.025, 0.00833, 0.00417, 0.00045]
    >>> round(sum(window_alpha(0.05, k) for k in range(1, 10_001)), 4)
    0.05
    """
    check("window_alpha", "alpha", alpha, Real(0, 1, closed="neither"))
    check("window_alpha", "window", window, Integer(low=1))
    return float(alpha) / (int(window) * (int(window) + 1))


def paired_counts(candidate_right: np.ndarray, production_right: np.ndarray) -> tuple[int, int]:
    """``(candidate_only, production_only)``: rows where exactly one model is right."""
    cand = np.asarray(candidate_right, dtype=bool)
    prod = np.asarray(production_right, dtype=bool)
    return int(np.sum(cand & ~prod)), int(np.sum(prod & ~cand))


@dataclass(frozen=True)
class PromotionVerdict:
    """What :meth:`PromotionRule.decide` concluded, and on what evidence."""

    promote: bool
    reason: str
    interval: SequentialInterval
    candidate_only: int
    production_only: int
    n: int


@dataclass(frozen=True)
class PromotionRule:
    """Promote a retrained model only on paired evidence (see the module docstring).

    Parameters
    ----------
    margin : float
        Non-inferiority margin on accuracy, used when production failed its minimum.
    alpha, beta : float
        Error rates in (0, 0.5): ``alpha`` bounds promoting a candidate that is not
        better (production fine); ``beta`` bounds promoting one ``2 * margin`` worse
        (production failed).

    Examples
    --------
    >>> rule = PromotionRule(margin=0.05)
    >>> rule.decide(10, 10, 200, production_ok=True).promote   # a tie
    False
    >>> rule.decide(40, 2, 200, production_ok=True).promote    # clearly better
    True
    >>> rule.decide(10, 10, 200, production_ok=False).promote  # as good, prod failed
    True
    """

    margin: float = 0.05
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        NonInferiorityRule(self.margin, self.alpha, self.beta)  # same checks, same messages

    def decide(self, candidate_only: int, production_only: int, n: int, *,
               production_ok: bool) -> PromotionVerdict:
        """Decide on ``n`` paired hold-out rows with the given discordant counts."""
        interval = paired_difference_cs(candidate_only, production_only, n, alpha=self.alpha)
        counts = (f"candidate alone right on {candidate_only}, production alone on "
                  f"{production_only} of {n} paired rows")
        if production_ok:
            low = interval.lower(self.alpha)
            promote = bool(np.isfinite(low) and low > 0.0)
            verdict = "better" if promote else "not shown better"
            reason = (f"candidate {verdict} than a production model that meets its minimum "
                      f"(lower bound {low:+.4f}, needs > 0; {counts})")
        else:
            decision = NonInferiorityRule(self.margin, self.alpha, self.beta).decide(interval)
            promote = decision == "promote"
            low = interval.lower(self.beta)
            verdict = "not worse" if promote else "not shown non-inferior"
            reason = (f"candidate {verdict} than a production model below its minimum "
                      f"(lower bound {low:+.4f} vs -{2 * self.margin:g}; {counts})")
        return PromotionVerdict(promote, reason, interval, candidate_only, production_only, n)

    def risks(self) -> str:
        """One sentence per case: what this rule risks."""
        return (f"Production meeting its minimum: a candidate that is not better is "
                f"promoted with probability at most {self.alpha:.0%}. Production below "
                f"it: a candidate {2 * self.margin:.3g} worse is promoted with "
                f"probability at most {self.beta:.0%}.")


def simulate_monitor(
    difference: float,
    *,
    production_ok: bool,
    rule: PromotionRule | None = None,
    n: int = 200,
    discordance: float = 0.1,
    cycles: int = 1000,
    seed: int = 0,
    case: str = "",
) -> OperatingPoint:
    """Simulate ``cycles`` promotion decisions at a true accuracy ``difference``.

    Each cycle scores ``n`` paired hold-out rows. A share ``discordance`` of rows (at
    least ``|difference|``) are answered right by exactly one model, split so that the
    candidate's accuracy minus production's is ``difference``:
    ``P(candidate alone) = (discordance + difference) / 2``. Only these rows matter to
    the rule, so the production accuracy itself needs no value here.

    Returns an :class:`~mlcicd.oc.OperatingPoint`: ``promote`` counts promotions,
    ``abort`` refusals (a one-shot hold-out has no "inconclusive"); requests and labels
    are the ``n`` hold-out rows.

    >>> tie = simulate_monitor(0.0, production_ok=True, cycles=300, seed=1, case="tie")
    >>> tie.promote_rate < 0.05, tie.n_releases
    (True, 300)
    """
    rule = rule if rule is not None else PromotionRule()
    check("simulate_monitor", "difference", difference, Real(-1, 1, closed="neither"))
    check("simulate_monitor", "discordance", discordance, Real(0, 1, closed="right"))
    share = max(float(discordance), abs(float(difference)))
    cand_only, prod_only = (share + difference) / 2, (share - difference) / 2
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, [cand_only, prod_only, 1.0 - share], size=cycles)
    outcomes = ["promote" if rule.decide(int(c), int(p), n, production_ok=production_ok).promote
                else "abort" for c, p, _ in draws]
    return OperatingPoint.from_outcomes(case or f"difference {difference:+.3f}", difference,
                                        outcomes, requests=[n] * cycles, labels=[n] * cycles)
