"""Statistics of an A/B test on conversions: z-test, effect size, power, sample ratio.

Notes
-----
Two-proportion z-test: with pooled rate ``p = (x_a + x_b) / (n_a + n_b)``,
``z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b))``; the confidence interval of
``p_b - p_a`` uses the unpooled standard error. Cohen's ``h = 2 asin sqrt(p_b) -
2 asin sqrt(p_a)`` measures the effect on a scale where 0.2 is small and 0.5 medium.
A sample-ratio mismatch (groups far from the planned split, chi-square test) means
the assignment is broken and the result must not be trusted, whatever its p-value.

The z-test is a *fixed-horizon* analysis: valid when read once, at a sample size fixed
in advance. Read after every batch, and stopped at the first p < alpha, it declares
differences that are not there far more often than alpha (:func:`peeking_error_rates`
measures how much). :func:`sequential_ab_interval` is the always-valid alternative: a
confidence sequence for ``p_b - p_a`` (:func:`mlcicd.sequential.difference_cs`) that
may be read after every user at the stated error rate, paid for with a wider interval.

References
----------
Kohavi, Tang and Xu, *Trustworthy Online Controlled Experiments*, Cambridge, 2020.
Johari, Koomen, Pekelis and Walsh, "Always valid inference: continuous monitoring of
A/B tests", *Operations Research* 70(3), 2022.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from mlcicd.boundaries import rate_ci
from mlcicd.deploy.hashing import stable_buckets
from mlcicd.errors import InputError
from mlcicd.params import Integer, Real, check
from mlcicd.sequential import SequentialInterval, difference_cs

__all__ = [
    "ANALYSES",
    "PeekingRates",
    "SampleRatioResult",
    "TwoProportionResult",
    "assign_groups",
    "check_split",
    "cohens_h",
    "peeking_error_rates",
    "required_sample_size",
    "sample_ratio_mismatch",
    "sequential_ab_interval",
    "simulate_ab",
    "two_proportion_ztest",
]

#: How an A/B result is read: once at a planned size, or at any time.
ANALYSES = ("fixed-horizon", "sequential")


def check_split(split: float | Sequence[float]) -> float:
    """Share of group B from ``split`` (a float in (0, 1) or a pair summing to 1).

    >>> check_split((0.7, 0.3))
    0.3
    >>> check_split((0.7, 0.4))
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: split must sum to 1, got 0.7 + 0.4 = 1.1
    """
    if isinstance(split, int | float | np.floating):
        share = float(split)
    else:
        parts = [float(s) for s in split]
        if len(parts) != 2:
            raise InputError(f"split must be two shares (A, B), got {len(parts)}")
        if abs(sum(parts) - 1.0) > 1e-9:
            raise InputError(f"split must sum to 1, got {parts[0]:g} + {parts[1]:g} = "
                             f"{sum(parts):g}")
        share = parts[1]
    if not 0.0 < share < 1.0:
        raise InputError(f"the share of group B must be strictly between 0 and 1, got {share:g}")
    return share


def assign_groups(user_ids: Sequence[object], split: float | Sequence[float] = 0.5,
                  salt: str = "ab-test") -> np.ndarray:
    """Sticky "A"/"B" group of each user: bucket < share of B means B.

    >>> assign_groups(["u1", "u2", "u3", "u1"]).tolist()[0] == assign_groups(["u1"])[0]
    True
    """
    share_b = check_split(split)
    return np.where(stable_buckets(user_ids, salt) < share_b, "B", "A")


@dataclass(frozen=True)
class TwoProportionResult:
    """Two-proportion z-test of ``p_b - p_a`` (scipy.stats style result)."""

    statistic: float
    pvalue: float
    p_a: float
    p_b: float
    diff: float
    ci_low: float
    ci_high: float
    confidence: float
    n_a: int
    n_b: int


def two_proportion_ztest(successes_a: int, n_a: int, successes_b: int, n_b: int, *,
                         confidence: float = 0.95) -> TwoProportionResult:
    """Two-sided z-test that two success rates are equal, with a CI of their difference.

    Examples
    --------
    >>> r = two_proportion_ztest(100, 1000, 130, 1000)
    >>> round(r.diff, 3), round(r.statistic, 2), round(r.pvalue, 3)
    (0.03, 2.10, 0.036)
    >>> round(r.ci_low, 4), round(r.ci_high, 4)
    (0.0021, 0.0579)
    """
    for name, x, n in (("successes_a", successes_a, n_a), ("successes_b", successes_b, n_b)):
        size = check("two_proportion_ztest", name.replace("successes", "n"), n, Integer(low=1))
        check("two_proportion_ztest", name, x, Integer(0, size))
    check("two_proportion_ztest", "confidence", confidence, Real(0, 1, closed="neither"))
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    diff = p_b - p_a
    if se_pooled == 0:
        z, p = 0.0, 1.0
    else:
        z = diff / se_pooled
        p = float(2 * stats.norm.sf(abs(z)))
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * se
    return TwoProportionResult(float(z), p, p_a, p_b, diff, diff - half, diff + half,
                               confidence, int(n_a), int(n_b))


def cohens_h(p_a: float, p_b: float) -> float:
    """Cohen's h effect size of two proportions (B relative to A).

    >>> round(cohens_h(0.10, 0.13), 3)
    0.094
    """
    for name, p in (("p_a", p_a), ("p_b", p_b)):
        check("cohens_h", name, p, Real(0, 1))
    return 2 * math.asin(math.sqrt(p_b)) - 2 * math.asin(math.sqrt(p_a))


def required_sample_size(p_a: float, p_b: float, *, alpha: float = 0.05, power: float = 0.8,
                         ratio: float = 1.0) -> int:
    """Users needed in group A to detect ``p_a -> p_b`` (group B gets ``ratio`` times as many).

    Two-sided test at level ``alpha`` with the given ``power`` (normal approximation).

    >>> required_sample_size(0.10, 0.12)
    3841
    """
    for name, value in (("p_a", p_a), ("p_b", p_b), ("alpha", alpha), ("power", power)):
        check("required_sample_size", name, value, Real(0, 1, closed="neither"))
    check("required_sample_size", "ratio", ratio, Real(0, closed="neither"))
    if p_a == p_b:
        raise InputError("p_a and p_b are equal: no sample size detects a zero difference")
    z_a = stats.norm.ppf(1 - alpha / 2)
    z_b = stats.norm.ppf(power)
    p_bar = (p_a + ratio * p_b) / (1 + ratio)
    null = z_a * math.sqrt(p_bar * (1 - p_bar) * (1 + 1 / ratio))
    alt = z_b * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b) / ratio)
    return math.ceil((null + alt) ** 2 / (p_b - p_a) ** 2)


@dataclass(frozen=True)
class SampleRatioResult:
    """Chi-square goodness-of-fit of the group sizes against the planned split."""

    statistic: float
    pvalue: float
    observed: tuple[int, int]
    expected: tuple[float, float]
    mismatch: bool


def sample_ratio_mismatch(n_a: int, n_b: int, split: float | Sequence[float] = 0.5, *,
                          alpha: float = 0.001) -> SampleRatioResult:
    """Are the group sizes consistent with the planned split? (scipy.stats.chisquare)

    A small ``alpha`` is usual: a mismatch is a bug alarm, not a discovery.

    >>> sample_ratio_mismatch(5000, 5100).mismatch
    False
    >>> sample_ratio_mismatch(5000, 5600).mismatch
    True
    """
    share_b = check_split(split)
    total = int(n_a) + int(n_b)
    if total <= 0 or n_a < 0 or n_b < 0:
        raise InputError(f"group sizes must be >= 0 with a positive total, got {n_a}, {n_b}")
    expected = (total * (1 - share_b), total * share_b)
    res = stats.chisquare([n_a, n_b], f_exp=expected)
    return SampleRatioResult(float(res.statistic), float(res.pvalue), (int(n_a), int(n_b)),
                             expected, bool(res.pvalue < alpha))


def simulate_ab(n_users: int, p_a: float, p_b: float, split: float | Sequence[float] = 0.5,
                seed: int = 0, salt: str = "ab-test") -> pd.DataFrame:
    """Seeded simulation of users, their sticky group and whether they converted.

    Examples
    --------
    >>> df = simulate_ab(1000, 0.10, 0.12, seed=1)
    >>> list(df.columns), len(df)
    (['user_id', 'group', 'converted'], 1000)
    >>> df.equals(simulate_ab(1000, 0.10, 0.12, seed=1))
    True
    """
    check("simulate_ab", "n_users", n_users, Integer(low=2))
    cohens_h(p_a, p_b)  # validates the two rates
    users = [f"user-{i:07d}" for i in range(int(n_users))]
    groups = assign_groups(users, split, salt)
    rng = np.random.default_rng(seed)
    rate = np.where(groups == "B", p_b, p_a)
    converted = rng.random(len(users)) < rate
    return pd.DataFrame({"user_id": users, "group": groups, "converted": converted})


def sequential_ab_interval(successes_a: int, n_a: int, successes_b: int, n_b: int, *,
                           alpha: float = 0.05) -> SequentialInterval:
    """Always-valid interval of ``p_b - p_a``: may be read after every user.

    The interval of :func:`mlcicd.sequential.difference_cs` (B as the first arm), so
    ``P(0 is ever outside it | p_a == p_b) <= alpha`` however often it is read.

    It is wider than the fixed-horizon interval: 10.0 % against 11.5 % on 10,000 users
    each gives p < 0.001 with the z-test, but the always-valid interval still holds 0;
    twice as many users settle it.

    >>> ci = sequential_ab_interval(1000, 10_000, 1150, 10_000)
    >>> round(ci.estimate, 3), ci.contains(0.0)
    (0.015, True)
    >>> sequential_ab_interval(2000, 20_000, 2300, 20_000).low > 0
    True
    """
    return difference_cs(int(successes_b), int(n_b), int(successes_a), int(n_a), alpha=alpha)


def _equal_arms_ztest_pvalues(conv_a: np.ndarray, conv_b: np.ndarray,
                              users: np.ndarray) -> np.ndarray:
    """``two_proportion_ztest(a, n, b, n).pvalue`` of every cell, arms of ``users`` each.

    The same operations in the same order on whole arrays (IEEE division and square
    root round the same way in numpy and in ``math``), so the same bits: a simulation
    of thousands of looks pays for one call instead of one per look.
    """
    n = np.broadcast_to(users, conv_a.shape)
    p_a, p_b = conv_a / n, conv_b / n
    pooled = (conv_a + conv_b) / (n + n)
    se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n))
    diff = p_b - p_a
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / se_pooled
    return np.where(se_pooled == 0, 1.0, 2 * stats.norm.sf(np.abs(z)))


@dataclass(frozen=True)
class PeekingRates:
    """How often no-difference A/B experiments "find" a difference, by way of reading.

    Attributes
    ----------
    fixed_once, fixed_every_look, sequential_every_look : float
        Share of experiments declared different: the z-test read once at the end; the
        z-test read after every batch (stopping at the first p < alpha); the
        confidence sequence read after every batch. ``*_ci`` are 95 % Clopper-Pearson
        intervals of each share.
    n_experiments, looks, users_per_look, rate, alpha, seed
        The simulation: users per arm added at each look, the shared conversion rate.
    """

    fixed_once: float
    fixed_once_ci: tuple[float, float]
    fixed_every_look: float
    fixed_every_look_ci: tuple[float, float]
    sequential_every_look: float
    sequential_every_look_ci: tuple[float, float]
    n_experiments: int
    looks: int
    users_per_look: int
    rate: float
    alpha: float
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """One row per way of reading: the false-difference rate and its interval."""
        rows = [("z-test, read once at the end", self.fixed_once, self.fixed_once_ci),
                (f"z-test, read after each of {self.looks} batches", self.fixed_every_look,
                 self.fixed_every_look_ci),
                (f"confidence sequence, read after each of {self.looks} batches",
                 self.sequential_every_look, self.sequential_every_look_ci)]
        return pd.DataFrame(
            [{"analysis": name, "false difference rate": rate, "ci_low": ci[0],
              "ci_high": ci[1]} for name, rate, ci in rows]).set_index("analysis")


def peeking_error_rates(*, n_experiments: int = 1000, looks: int = 19,
                        users_per_look: int = 500, rate: float = 0.10, alpha: float = 0.05,
                        seed: int = 0) -> PeekingRates:
    """Measure the false-difference rate of A/B tests read once or after every batch.

    Every simulated experiment has the same conversion ``rate`` in both arms, so any
    declared difference is an error. Each arm gets ``users_per_look`` users per batch;
    after each of the ``looks`` batches the fixed-horizon z-test
    (:func:`two_proportion_ztest`) and the always-valid interval
    (:func:`sequential_ab_interval`, as ``analyze_ab(analysis="sequential")`` reads it)
    are computed on everything so far. Seeded: the same arguments give the same rates.

    Returns
    -------
    PeekingRates

    Examples
    --------
    >>> rates = peeking_error_rates(n_experiments=100, looks=5, seed=1)
    >>> rates.fixed_every_look >= rates.fixed_once, rates.sequential_every_look <= 0.05
    (True, True)
    """
    for name, value in (("n_experiments", n_experiments), ("looks", looks),
                        ("users_per_look", users_per_look)):
        check("peeking_error_rates", name, value, Integer(low=1))
    check("peeking_error_rates", "rate", rate, Real(0, 1, closed="neither"))
    check("peeking_error_rates", "alpha", alpha, Real(0, 0.5, closed="neither"))
    rng = np.random.default_rng(seed)
    shape = (n_experiments, looks)
    conv_a = rng.binomial(users_per_look, rate, shape).cumsum(axis=1)
    conv_b = rng.binomial(users_per_look, rate, shape).cumsum(axis=1)
    users = users_per_look * np.arange(1, looks + 1)
    pvalues = _equal_arms_ztest_pvalues(conv_a, conv_b, users)
    once = int((pvalues[:, -1] < alpha).sum())
    every = int((pvalues < alpha).any(axis=1).sum())
    sequential = sum(
        any(not sequential_ab_interval(int(a), int(n), int(b), int(n), alpha=alpha
                                       ).contains(0.0)
            for a, b, n in zip(row_a, row_b, users, strict=True))
        for row_a, row_b in zip(conv_a, conv_b, strict=True))
    return PeekingRates(
        once / n_experiments, rate_ci(once, n_experiments),
        every / n_experiments, rate_ci(every, n_experiments),
        sequential / n_experiments, rate_ci(sequential, n_experiments),
        n_experiments, looks, users_per_look, float(rate), float(alpha), int(seed))
