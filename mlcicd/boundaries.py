"""Boundaries behind :mod:`mlcicd.sequential`: the maths, kept apart from the API.

- The one-sided normal-mixture boundary (Robbins 1970; Howard et al. 2021, Sec. 3.2):
  for a score ``S = (estimate - truth) * I`` that behaves like a Brownian motion in
  information time ``I``, mixing ``exp(lambda S - lambda**2 I / 2)`` over a half-normal
  ``lambda >= 0`` of precision ``rho`` gives a nonnegative supermartingale; by Ville's
  inequality it ever exceeds ``1 / alpha`` with probability at most ``alpha``.
- Test inversion: a bound ``theta`` uses the variance the estimate would have if
  ``theta`` were the truth (:func:`variance_at`).
- The beta-binomial mixture for one Bernoulli stream (Howard et al. 2021, Sec. 3.3):
  exact at every ``n``.
- The fixed-sample Clopper-Pearson bounds of a proportion (:func:`clopper_pearson`,
  :func:`rate_ci`): one implementation for every module that reports a rate with an
  interval (simulated error rates, slice accuracies, a day's accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq
from scipy.special import betaincinv, betaln, log_ndtr

from mlcicd.params import Real, check

__all__ = ["BETA_BINOMIAL", "DEFAULT_INFORMATION", "NORMAL_MIXTURE", "PAIRED",
           "beta_binomial_bounds", "check_level", "clopper_pearson", "information_for",
           "mixture_boundary", "normal_bound", "rate_ci", "rho_for", "variance_at"]

#: Information (1 / variance of the estimate) at which the normal-mixture boundary is
#: tightest by default: about where a half-width of 0.1 is reached at alpha = 0.05,
#: which is what a 5-point non-inferiority margin needs (see :func:`information_for`).
DEFAULT_INFORMATION = 800.0

NORMAL_MIXTURE = "normal-mixture"
PAIRED = "paired-normal-mixture"
BETA_BINOMIAL = "beta-binomial"


def check_level(name: str, value: float) -> None:
    check("", name, value, Real(0, 0.5, closed="neither"))


def variance_at(method: str, counts: tuple[int, ...]) -> Callable[[float], float]:
    """Variance of the estimate if ``theta`` were the true difference.

    See the Notes of :class:`mlcicd.sequential.SequentialInterval` for why.
    """
    if method == PAIRED:
        a_only, b_only, n = counts
        a, b = a_only + 0.5, b_only + 0.5
        plug_in = (a + b) / (n + 1) - ((a - b) / (n + 1)) ** 2

        def paired(theta: float) -> float:
            forced = min(abs(theta), 0.5)
            return max(plug_in, forced * (1 - forced)) / n
        return paired
    s_a, n_a, s_b, n_b = counts
    p_a, p_b = (s_a + 0.5) / (n_a + 1), (s_b + 0.5) / (n_b + 1)
    share_a = n_a / (n_a + n_b)

    def two_arms(theta: float) -> float:
        # The pair closest to the data (weighted by arm size) whose difference is theta.
        shift = theta - (p_a - p_b)
        q_a = min(max(p_a + shift * (1 - share_a), 0.5 / (n_a + 1)), 1 - 0.5 / (n_a + 1))
        q_b = min(max(p_b - shift * share_a, 0.5 / (n_b + 1)), 1 - 0.5 / (n_b + 1))
        return q_a * (1 - q_a) / n_a + q_b * (1 - q_b) / n_b
    return two_arms


def normal_bound(estimate: float, variance_of: Callable[[float], float], alpha: float,
                  rho: float, side: int) -> float:
    # Fixed point of theta = estimate +- b(I(theta)) / I(theta); the variance moves
    # slowly with theta, so a few steps suffice (the outer of the last two is kept).
    variance = variance_of(estimate)
    theta = estimate
    for _ in range(8):
        new = estimate + side * scalar_boundary(1 / variance, alpha, rho) * variance
        new_variance = variance_of(new)
        done = new_variance == variance or abs(new - theta) < 1e-6
        theta = new if done else (max(new, theta) if side > 0 else min(new, theta))
        if done:
            break
        variance = max(new_variance, variance_of(theta))
    return float(min(max(theta, -1.0), 1.0))


def scalar_boundary(information: float, alpha: float, rho: float) -> float:
    # mixture_boundary for one float, with math instead of numpy (called per analysis).
    total = information + rho
    target = math.log(1 / alpha) - math.log(2) + 0.5 * math.log(total / rho)
    u = math.sqrt(2 * target)
    for _ in range(8):
        cdf = 0.5 * math.erfc(-u / math.sqrt(2))
        mills = math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi) / cdf
        step = (0.5 * u * u + math.log(cdf) - target) / (u + mills)
        u -= step
        if abs(step) < 1e-12:
            break
    return u * math.sqrt(total)


def rho_for(information: float, alpha: float = 0.05) -> float:
    """The mixture precision that makes the boundary tightest at ``information``.

    Howard et al. (2021, Eq. 3.6) give this closed form for the two-sided normal
    mixture; it is close to optimal for the one-sided boundary as well.

    >>> round(rho_for(800.0), 1)
    100.8
    """
    check("rho_for", "information", information, Real(0, closed="neither"))
    check_level("alpha", alpha)
    log_term = 2 * math.log(1 / alpha)
    return float(information / (log_term + math.log(1 + log_term)))


def information_for(half_width: float, alpha: float = 0.05) -> float:
    """Information at which a one-sided bound, tuned for it, is ``half_width`` wide.

    Solves ``b(I) / I = half_width`` with ``rho = rho_for(I)``; a plan passes this to
    :func:`rho_for` so that its bounds are tightest where its decisions fall.

    >>> round(information_for(0.1))
    766
    """
    check("information_for", "half_width", half_width, Real(0, 1, closed="neither"))
    check_level("alpha", alpha)
    info = 8.0 / half_width**2
    for _ in range(20):
        info = scalar_boundary(info, alpha, rho_for(info, alpha)) / half_width
    return float(info)


def mixture_boundary(information: float | np.ndarray, alpha: float,
                     rho: float | None = None) -> float | np.ndarray:
    """One-sided normal-mixture boundary ``b(I)`` for the score ``S = (est - truth) * I``.

    Mixing ``exp(lambda * S - lambda**2 * I / 2)`` over a half-normal ``lambda >= 0``
    with precision ``rho`` gives the supermartingale
    ``2 sqrt(rho / (I + rho)) exp(S**2 / (2 (I + rho))) Phi(S / sqrt(I + rho))``;
    by Ville's inequality it exceeds ``1 / alpha`` at some ``I`` with probability at
    most ``alpha``. The boundary is where it equals ``1 / alpha`` (solved by Newton's
    method on ``u = S / sqrt(I + rho)``; vectorised over ``information``).

    >>> b = mixture_boundary(np.array([100.0, 1000.0]), 0.05, rho=100.0)
    >>> [round(float(v), 2) for v in b]
    [32.62, 87.82]
    """
    rho = rho_for(DEFAULT_INFORMATION, alpha) if rho is None else float(rho)
    info = np.asarray(information, dtype=float)
    total = info + rho
    target = math.log(1 / alpha) - math.log(2) + 0.5 * np.log(total / rho)
    u = np.sqrt(2 * target)
    for _ in range(8):
        log_cdf = log_ndtr(u)
        mills = np.exp(-0.5 * u * u - 0.5 * math.log(2 * math.pi) - log_cdf)
        u = u - (0.5 * u * u + log_cdf - target) / (u + mills)
    bound = u * np.sqrt(total)
    return float(bound) if bound.ndim == 0 else bound


def beta_binomial_bounds(successes: int, n: int, alpha: float) -> tuple[float, float]:
    # {p : B(s+1, n-s+1) / (p^s (1-p)^(n-s)) < 1/alpha}: the mixture over a uniform prior.
    if n == 0:
        return 0.0, 1.0
    s, f = successes, n - successes
    log_mix = float(betaln(s + 1, f + 1)) - math.log(1 / alpha)

    def excess(p: float) -> float:
        return log_mix - (s * math.log(p) if s else 0.0) - (f * math.log1p(-p) if f else 0.0)

    centre = min(max(s / n, 1e-12), 1 - 1e-12)
    low = 0.0 if s == 0 or excess(1e-300) < 0 else brentq(excess, 1e-300, centre)
    high = 1.0 if f == 0 or excess(1 - 1e-16) < 0 else brentq(excess, centre, 1 - 1e-16)
    return float(low), float(high)


def clopper_pearson(successes: int | np.ndarray, n: int | np.ndarray, alpha: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One-sided ``1 - alpha`` Clopper-Pearson bounds (lower, upper) of proportions.

    Exact (from the binomial distribution itself, through the beta quantile), so a
    bound is never optimistic however few the trials: each alone covers the true
    proportion with probability at least ``1 - alpha``, and the pair is the two-sided
    ``1 - 2 alpha`` interval of :func:`scipy.stats.binomtest` ``proportion_ci(method=
    "exact")``, computed in closed form and for whole arrays at once.

    >>> low, high = clopper_pearson(np.array([0, 3, 10]), np.array([10, 10, 10]), 0.025)
    >>> low.round(3).tolist(), high.round(3).tolist()
    ([0.0, 0.067, 0.692], [0.308, 0.652, 1.0])
    """
    k, n = np.asarray(successes), np.asarray(n)
    with np.errstate(invalid="ignore"):  # the masked-out edges: 0 and n successes
        low = np.where(k > 0, betaincinv(np.maximum(k, 1), n - k + 1, alpha), 0.0)
        high = np.where(k < n, betaincinv(k + 1, np.maximum(n - k, 1), 1 - alpha), 1.0)
    return low, high


def rate_ci(count: int, n: int) -> tuple[float, float]:
    """95 % two-sided Clopper-Pearson interval of ``count / n``, as two floats.

    >>> [round(x, 3) for x in rate_ci(3, 100)]
    [0.006, 0.085]
    """
    low, high = clopper_pearson(count, n, 0.025)
    return float(low), float(high)
