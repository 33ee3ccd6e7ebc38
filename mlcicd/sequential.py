"""Always-valid inference: intervals you may read after every request.

A release decision is read again and again while traffic flows: after each batch, each
step, each monitoring window. A fixed-sample 95 % interval read that way excludes the
truth far more often than 5 % of the time, because the reader stops at the first
extreme reading. A *confidence sequence* (CS) is a sequence of intervals that holds at
every sample size at once: ``P(truth outside the interval at ANY n) <= alpha``. So a
rule may look after every request and stop whenever it likes; its error rates stay the
ones it states.

Two constructions are used, both functions of counts only (cheap, order-free):

- :func:`proportion_cs` (one Bernoulli stream, e.g. an error rate) uses Robbins'
  beta-binomial conjugate mixture (Howard et al. 2021, Sec. 3.3 and Prop. 6): exact at
  every ``n``, including ``0/n`` and ``n/n``, so a model failing on every call is
  flagged after one or two requests.
- :func:`difference_cs` (two independent arms) and :func:`paired_difference_cs`
  (the same rows scored by two models) use the normal-mixture boundary (Robbins 1970;
  Howard et al. 2021, Sec. 3.2) in *information time* ``I = 1 / Var(estimate)``: the
  asymptotic confidence sequence of Waudby-Smith, Arnold, Wu, Wang & Ramdas (2024),
  Theorem 2.2, with a plug-in variance. For a difference of two means the score
  process ``estimate * I`` has independent increments whatever the share of each arm
  (Jennison & Turnbull 2000, Sec. 11.1), so the boundary also holds when a canary's
  traffic share grows step by step. Variances are estimated with half a pseudo-count
  on each side, so that ``0/n`` does not claim zero variance, and bounds are found by
  test inversion (the variance under the bound, not at the estimate; see
  :class:`SequentialInterval`).

The normal-mixture bounds are asymptotic: below a few tens of observations per arm
their coverage is not guaranteed, so callers require a minimum sample (the canary's
``min_labels``) and ``tests/test_sequential.py`` measures coverage by simulation.

References
----------
Robbins, H. (1970). Statistical methods related to the law of the iterated logarithm.
Ann. Math. Statist. 41(5).
Howard, S. R., Ramdas, A., McAuliffe, J. & Sekhon, J. (2021). Time-uniform,
nonparametric, nonasymptotic confidence sequences. Ann. Statist. 49(2).
Waudby-Smith, I., Arnold, D., Wu, S., Wang, J. & Ramdas, A. (2024). Time-uniform
central limit theory and asymptotic confidence sequences. Ann. Statist. 52(6).
Jennison, C. & Turnbull, B. W. (2000). Group Sequential Methods with Applications to
Clinical Trials. Chapman & Hall/CRC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcicd.boundaries import (
    BETA_BINOMIAL,
    DEFAULT_INFORMATION,
    NORMAL_MIXTURE,
    PAIRED,
    beta_binomial_bounds,
    check_level,
    information_for,
    mixture_boundary,
    normal_bound,
    rho_for,
    variance_at,
)
from mlcicd.errors import InputError
from mlcicd.params import Integer, Real, check

__all__ = [
    "DEFAULT_INFORMATION",
    "DECISIONS",
    "NonInferiorityRule",
    "SequentialInterval",
    "difference_cs",
    "information_for",
    "mixture_boundary",
    "paired_difference_cs",
    "proportion_cs",
    "rho_for",
]

#: What :meth:`NonInferiorityRule.decide` can answer.
DECISIONS = ("promote", "abort", "wait")



@dataclass(frozen=True)
class SequentialInterval:
    """A two-sided confidence sequence read at one moment.

    Attributes
    ----------
    estimate : float
        The point estimate (a proportion, or a difference of proportions).
    low, high : float
        Bounds that hold, with probability ``1 - alpha``, at every sample size at once.
    n : int
        Observations used (for two arms: both arms together).
    alpha : float
        Error level of the two-sided sequence.
    method : str
        ``"beta-binomial"``, ``"normal-mixture"`` (two arms) or ``"paired-normal-mixture"``.
    counts : tuple of int
        The counts it was computed from, so that :meth:`lower` and :meth:`upper` can
        answer at another level: ``(successes, n)``, ``(s_a, n_a, s_b, n_b)`` or
        ``(a_only, b_only, n)``. Empty for an interval built by hand: those two methods
        then return ``low`` and ``high``.
    information : float
        ``1 / variance`` of the estimate (plug-in; normal mixtures only, else NaN).
    rho : float
        Precision of the normal mixture (NaN for beta-binomial).

    Notes
    -----
    One-sided normal-mixture bounds are found by test inversion: the bound ``theta``
    solves ``|estimate - theta| * I(theta) = b(I(theta))`` where ``I(theta)`` is the
    information if ``theta`` were the truth (two arms: both proportions moved to the
    nearest pair whose difference is ``theta``; paired: a difference ``theta``
    forces at least ``|theta|`` discordant rows). With the plug-in variance alone, a
    lucky start of a much worse candidate shrinks the variance and the lower bound
    overshoots (measured: 7.8 % instead of 5 % for 0.85 vs 0.95 in a canary).

    Examples
    --------
    >>> ci = paired_difference_cs(a_only=2, b_only=6, n=400)
    >>> round(ci.estimate, 3), ci.contains(0.0), ci.low < ci.lower(0.1) < ci.estimate
    (-0.01, True, True)
    """

    estimate: float
    low: float
    high: float
    n: int
    alpha: float
    method: str = NORMAL_MIXTURE
    counts: tuple[int, ...] = ()
    information: float = float("nan")
    rho: float = float("nan")

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside ``[low, high]``."""
        return bool(self.low <= value <= self.high)

    @property
    def half_width(self) -> float:
        """Half of ``high - low``."""
        return (self.high - self.low) / 2

    def lower(self, alpha: float) -> float:
        """One-sided lower bound at level ``alpha``: ``P(ever above the truth) <= alpha``."""
        return self._one_sided(alpha, -1)

    def upper(self, alpha: float) -> float:
        """One-sided upper bound at level ``alpha``: ``P(ever below the truth) <= alpha``."""
        return self._one_sided(alpha, +1)

    def _one_sided(self, alpha: float, side: int) -> float:
        check_level("alpha", alpha)
        if not self.counts:
            return self.high if side > 0 else self.low
        if self.method == BETA_BINOMIAL:
            # The two-sided mixture at level alpha bounds each side at level alpha too.
            low, high = beta_binomial_bounds(*self.counts, alpha)
            return high if side > 0 else low
        if not self.information > 0:
            return float(side)
        return normal_bound(self.estimate, variance_at(self.method, self.counts), alpha,
                             self.rho, side)


def _check_count(name: str, value: object) -> int:
    return check("", name, value, Integer(low=0))


def _check_part(name: str, part: int, whole_name: str, whole: int) -> None:
    if part > whole:
        raise InputError(f"{name} must be <= {whole_name}, got {name}={part} > {whole}")


def _normal_interval(estimate: float, method: str, counts: tuple[int, ...], n: int,
                     alpha: float, rho: float | None) -> SequentialInterval:
    if rho is None:
        rho = rho_for(DEFAULT_INFORMATION, alpha / 2)
    rho = check("", "rho", rho, Real(0, closed="neither"))
    if n == 0 or not np.isfinite(estimate):
        return SequentialInterval(estimate, -1.0, 1.0, n, alpha, method, counts, 0.0, rho)
    variance_of = variance_at(method, counts)
    low = normal_bound(estimate, variance_of, alpha / 2, rho, -1)
    high = normal_bound(estimate, variance_of, alpha / 2, rho, +1)
    return SequentialInterval(estimate, low, high, n, alpha, method, counts,
                              1 / variance_of(estimate), rho)


def proportion_cs(successes: int, n: int, *, alpha: float = 0.05) -> SequentialInterval:
    """Confidence sequence for a proportion (exact beta-binomial mixture).

    Parameters
    ----------
    successes, n : int
        Counts so far (``0 <= successes <= n``).
    alpha : float, default 0.05
        Probability that the interval misses the true proportion at any ``n``.

    Examples
    --------
    >>> ci = proportion_cs(0, 0)
    >>> (ci.low, ci.high)
    (0.0, 1.0)
    >>> ci = proportion_cs(2, 2)  # two failures in two calls: the rate is surely > 1 %
    >>> ci.low > 0.01
    True
    >>> proportion_cs(3, 2)
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: successes must be <= n, got successes=3 > 2
    """
    successes = _check_count("successes", successes)
    n = _check_count("n", n)
    _check_part("successes", successes, "n", n)
    check_level("alpha", alpha)
    low, high = beta_binomial_bounds(successes, n, alpha)
    estimate = successes / n if n else float("nan")
    return SequentialInterval(estimate, low, high, n, alpha, BETA_BINOMIAL, (successes, n))


def difference_cs(successes_a: int, n_a: int, successes_b: int, n_b: int, *,
                  alpha: float = 0.05, rho: float | None = None) -> SequentialInterval:
    """Confidence sequence for ``p_a - p_b`` from two independent arms.

    For a canary against stable users, or arm A against arm B of an experiment. The
    arms may grow at different, changing rates.

    Parameters
    ----------
    successes_a, n_a, successes_b, n_b : int
        Counts of each arm so far.
    alpha : float, default 0.05
        Probability that the interval misses the true difference at any moment.
    rho : float, optional
        Mixture precision; default :func:`rho_for` of :data:`DEFAULT_INFORMATION`.

    Examples
    --------
    >>> ci = difference_cs(475, 500, 1900, 2000)
    >>> round(ci.estimate, 3), ci.contains(0.0)
    (0.0, True)
    >>> difference_cs(1, 0, 0, 1)
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: successes_a must be <= n_a, got successes_a=1 > 0
    """
    counts = [_check_count(name, value) for name, value in
              (("successes_a", successes_a), ("n_a", n_a), ("successes_b", successes_b),
               ("n_b", n_b))]
    s_a, n_a, s_b, n_b = counts
    _check_part("successes_a", s_a, "n_a", n_a)
    _check_part("successes_b", s_b, "n_b", n_b)
    check_level("alpha", alpha)
    counts = (s_a, n_a, s_b, n_b)
    if n_a == 0 or n_b == 0:
        return _normal_interval(float("nan"), NORMAL_MIXTURE, counts, n_a + n_b, alpha, rho)
    return _normal_interval(s_a / n_a - s_b / n_b, NORMAL_MIXTURE, counts, n_a + n_b, alpha,
                            rho)


def paired_difference_cs(a_only: int, b_only: int, n: int, *, alpha: float = 0.05,
                         rho: float | None = None) -> SequentialInterval:
    """Confidence sequence for ``acc_a - acc_b`` when both models answered the same rows.

    Only discordant rows carry information: ``a_only`` rows where A alone is right,
    ``b_only`` where B alone is right, out of ``n`` paired rows. Each row contributes
    ``+1``, ``-1`` or ``0``; the variance of that score is estimated with half a
    discordant pseudo-row on each side, so two models that have agreed so far are
    not taken to agree forever.

    Examples
    --------
    >>> ci = paired_difference_cs(3, 5, 150)
    >>> round(ci.estimate, 4), ci.lower(0.05) > -0.1
    (-0.0133, True)
    >>> paired_difference_cs(5, 5, 8)
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: a_only + b_only must be <= n, got a_only + b_only=10 > 8
    """
    a_only = _check_count("a_only", a_only)
    b_only = _check_count("b_only", b_only)
    n = _check_count("n", n)
    _check_part("a_only + b_only", a_only + b_only, "n", n)
    check_level("alpha", alpha)
    estimate = (a_only - b_only) / n if n else float("nan")
    return _normal_interval(estimate, PAIRED, (a_only, b_only, n), n, alpha, rho)


@dataclass(frozen=True)
class NonInferiorityRule:
    """Promote, abort or wait on an interval of ``candidate - reference``.

    Between "as good" (difference 0) and "clearly worse" (``-2 * margin``) lies an
    indifference zone. The rule aborts when the one-sided upper bound at level
    ``alpha`` falls below 0 (the candidate is worse), promotes when the one-sided lower
    bound at level ``beta`` rises above ``-2 * margin`` (it is not much worse); when
    both hold it sides with the estimate against ``-margin``; otherwise it waits.
    With a confidence sequence these bounds may be read after every observation:
    ``P(abort | equal) <= alpha`` and ``P(promote | 2 * margin worse) <= beta``; a
    candidate exactly ``margin`` worse may go either way, not necessarily half and half
    (a canary that may abort at every step but promote only at its last aborts it more
    often than it promotes it).

    Parameters
    ----------
    margin : float
        In (0, 1): half the width of the indifference zone (e.g. 0.05 accuracy).
    alpha, beta : float, default 0.05
        In (0, 0.5): the two error rates above.

    Examples
    --------
    >>> rule = NonInferiorityRule(margin=0.05)
    >>> rule.decide(paired_difference_cs(3, 5, 150))
    'promote'
    >>> rule.decide(paired_difference_cs(0, 30, 150))
    'abort'
    >>> rule.decide(paired_difference_cs(1, 2, 10))
    'wait'
    >>> NonInferiorityRule(margin=1.5)
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: NonInferiorityRule: margin must be a number in (0, 1), got 1.5
    """

    margin: float
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        check("NonInferiorityRule", "margin", self.margin, Real(0, 1, closed="neither"))
        check_level("alpha", self.alpha)
        check_level("beta", self.beta)

    def decide(self, interval: SequentialInterval) -> str:
        """``"promote"``, ``"abort"`` or ``"wait"`` for the interval read now."""
        if interval.n == 0 or not np.isfinite(interval.estimate):
            return "wait"
        return self.verdict(interval.estimate, interval.lower(self.beta),
                            interval.upper(self.alpha))

    def verdict(self, estimate: float, lower: float, upper: float) -> str:
        """:meth:`decide` from the estimate, the lower bound at ``beta`` and the upper
        bound at ``alpha`` (for callers that already computed them)."""
        worse = upper < 0.0
        close_enough = lower > -2 * self.margin
        if worse and close_enough:
            return "promote" if estimate >= -self.margin else "abort"
        if worse:
            return "abort"
        return "promote" if close_enough else "wait"

    def risks(self) -> str:
        """One sentence: what this rule risks."""
        return (f"An equal candidate is aborted with probability at most {self.alpha:.0%}, "
                f"one {2 * self.margin:.3g} worse is promoted with probability at most "
                f"{self.beta:.0%}, and one {self.margin:.3g} worse goes either way.")
