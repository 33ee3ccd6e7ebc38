"""Confidence sequences hold at every sample size; the non-inferiority rule keeps its rates.

Coverage is measured on seeded simulations read after every few observations, and
asserted with a Clopper-Pearson upper bound: the miss rate is at most alpha with 95 %
confidence, whatever seed the simulation had.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.stats import binomtest

from mlcicd.errors import InputError
from mlcicd.sequential import (
    NonInferiorityRule,
    SequentialInterval,
    difference_cs,
    information_for,
    mixture_boundary,
    paired_difference_cs,
    proportion_cs,
)

TRIALS = 300
LUCKY_TRIALS = 1_000


def upper_bound(failures: int, trials: int) -> float:
    """95 % Clopper-Pearson upper bound of a rate."""
    return binomtest(failures, trials).proportion_ci(0.95, method="exact").high


# The intervals are functions of the counts alone, and the simulated trials meet the same
# counts again and again (40,000 looks below are 7,259 distinct counts): each distinct
# reading is computed once. Same intervals, same misses, a fraction of the work.
@cache
def proportion_covers(successes: int, n: int, truth: float) -> bool:
    return proportion_cs(successes, n, alpha=0.05).contains(truth)


@cache
def paired_covers(a_only: int, b_only: int, n: int, truth: float) -> bool:
    return paired_difference_cs(a_only, b_only, n).contains(truth)


@cache
def paired_lower_bound(a_only: int, b_only: int, n: int, alpha: float) -> float:
    return paired_difference_cs(a_only, b_only, n).lower(alpha)


def test_proportion_sequence_covers_the_truth_at_every_look():
    rng = np.random.default_rng(11)
    misses = 0
    for _ in range(TRIALS):
        outcomes = np.cumsum(rng.random(400) < 0.3)
        for n in range(10, 401, 15):
            if not proportion_covers(int(outcomes[n - 1]), n, 0.3):
                misses += 1
                break
    assert upper_bound(misses, TRIALS) <= 0.05


def test_paired_sequence_covers_an_equal_pair_of_models_at_every_look():
    rng = np.random.default_rng(12)
    misses = 0
    for _ in range(TRIALS):
        u = rng.random(600)
        a_only, b_only = np.cumsum(u < 0.03), np.cumsum((u >= 0.03) & (u < 0.06))
        for n in range(20, 601, 20):
            if not paired_covers(int(a_only[n - 1]), int(b_only[n - 1]), n, 0.0):
                misses += 1
                break
    assert upper_bound(misses, TRIALS) <= 0.05


def test_two_arm_sequence_covers_while_the_share_of_one_arm_grows():
    rng = np.random.default_rng(13)
    misses = 0
    for _ in range(TRIALS):
        s_a = n_a = s_b = n_b = 0
        for share in (0.05, 0.1, 0.25, 0.5):
            for _ in range(6):
                k = int(rng.binomial(100, share))
                s_a, n_a = s_a + int(rng.binomial(k, 0.9)), n_a + k
                s_b, n_b = s_b + int(rng.binomial(100 - k, 0.9)), n_b + 100 - k
                if n_a >= 30 and not difference_cs(s_a, n_a, s_b, n_b).contains(0.0):
                    misses += 1
                    break
            else:
                continue
            break
    assert upper_bound(misses, TRIALS) <= 0.05


def test_a_lucky_start_of_a_much_worse_model_rarely_lifts_the_lower_bound():
    # B alone right on 11 % of rows, A alone on 1 %: A is 0.10 worse. A plug-in variance
    # would see few discordant rows early and let the lower bound overshoot.
    # Its rate is about 2 % (38 of 1,800 measured over six seeds), close enough to the 5 %
    # it may reach that 300 trials put the upper bound above 5 % for 3 seeds in 10; with
    # LUCKY_TRIALS it happens for about 1 seed in 1,000.
    rng = np.random.default_rng(14)
    overshoots = 0
    for _ in range(LUCKY_TRIALS):
        u = rng.random(600)
        a_only, b_only = np.cumsum(u < 0.01), np.cumsum((u >= 0.01) & (u < 0.12))
        for n in range(10, 601, 15):
            if paired_lower_bound(int(a_only[n - 1]), int(b_only[n - 1]), n, 0.05) > -0.1:
                overshoots += 1
                break
    assert upper_bound(overshoots, LUCKY_TRIALS) <= 0.05


def test_bounds_shrink_with_evidence_and_bracket_the_estimate():
    widths = []
    for n in (50, 200, 800, 3200):
        ci = difference_cs(int(0.9 * n), n, int(0.92 * n), n)
        assert ci.low <= ci.lower(0.05) <= ci.estimate <= ci.upper(0.05) <= ci.high
        widths.append(ci.half_width)
    assert widths == sorted(widths, reverse=True)


def test_a_model_failing_on_every_call_is_flagged_at_once():
    assert proportion_cs(1, 1).low > 0.01
    assert proportion_cs(0, 0).low == 0.0 and proportion_cs(0, 0).high == 1.0
    assert proportion_cs(0, 1000).high < 0.01


def test_two_models_that_always_agree_are_not_declared_equal_forever_after_a_few_rows():
    few, many = paired_difference_cs(0, 0, 10), paired_difference_cs(0, 0, 2000)
    assert few.lower(0.05) < -0.1 < many.lower(0.05) <= 0.0


def test_no_evidence_gives_the_widest_interval():
    ci = difference_cs(0, 0, 5, 10)
    assert (ci.low, ci.high) == (-1.0, 1.0)
    assert NonInferiorityRule(0.05).decide(ci) == "wait"


def test_a_hand_built_interval_answers_with_its_own_bounds():
    ci = SequentialInterval(0.01, -0.02, 0.04, 100, 0.05)
    assert (ci.lower(0.05), ci.upper(0.05), ci.contains(0.0)) == (-0.02, 0.04, True)


@pytest.mark.parametrize(
    "interval, decision",
    [
        (paired_difference_cs(4, 4, 400), "promote"),      # clearly within the margin
        (paired_difference_cs(0, 60, 400), "abort"),       # clearly worse
        (paired_difference_cs(2, 3, 20), "wait"),          # too little evidence
        (paired_difference_cs(20, 50, 4000), "promote"),   # -0.0075: worse but close
        (paired_difference_cs(0, 300, 4000), "abort"),     # -0.075: worse and not close
    ],
)
def test_the_rule_promotes_aborts_or_waits(interval, decision):
    assert NonInferiorityRule(margin=0.05).decide(interval) == decision


def test_the_rule_states_its_risks_with_its_numbers():
    text = NonInferiorityRule(margin=0.03, alpha=0.01, beta=0.1).risks()
    assert "1%" in text and "10%" in text and "0.06" in text and "0.03" in text


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: NonInferiorityRule(margin=0.0), "margin must be a number in \\(0, 1\\), got 0.0"),
        (lambda: NonInferiorityRule(margin=1.0), "margin"),
        (lambda: NonInferiorityRule(0.05, alpha=0.5), "alpha must be a number in \\(0, 0.5\\)"),
        (lambda: NonInferiorityRule(0.05, beta=0.0), "beta must be a number in \\(0, 0.5\\)"),
        (lambda: NonInferiorityRule(margin="0.05"), "margin"),
        (lambda: proportion_cs(-1, 5), "successes must be a non-negative integer, got -1"),
        (lambda: proportion_cs(6, 5), "successes must be <= n, got successes=6 > 5"),
        (lambda: proportion_cs(2.5, 5), "successes must be a non-negative integer, got 2.5"),
        (lambda: proportion_cs(True, 5), "successes must be a non-negative integer"),
        (lambda: proportion_cs(1, 5, alpha=0.7), "alpha must be a number in \\(0, 0.5\\)"),
        (lambda: difference_cs(1, 2, 3, 2), "successes_b must be <= n_b"),
        (lambda: difference_cs(1, -2, 0, 2), "n_a must be a non-negative integer, got -2"),
        (lambda: paired_difference_cs(3, 3, 5), "a_only \\+ b_only must be <= n"),
        (lambda: paired_difference_cs(0, 0, 5, rho=-1.0), "rho must be a number > 0, got -1.0"),
        (lambda: information_for(0.0), "half_width must be a number in \\(0, 1\\)"),
        (lambda: SequentialInterval(0.0, -0.1, 0.1, 10, 0.05).lower(0.9), "alpha"),
    ],
)
def test_bad_arguments_name_the_argument_and_the_value(make, message):
    with pytest.raises(InputError, match=message):
        make()


def test_the_boundary_is_where_the_mixture_reaches_one_over_alpha():
    from scipy.stats import norm

    info, rho, alpha = np.array([50.0, 500.0, 5000.0]), 80.0, 0.05
    b = mixture_boundary(info, alpha, rho)
    mixture = (2 * np.sqrt(rho / (info + rho)) * np.exp(b**2 / (2 * (info + rho)))
               * norm.cdf(b / np.sqrt(info + rho)))
    np.testing.assert_allclose(mixture, 1 / alpha, rtol=1e-9)
