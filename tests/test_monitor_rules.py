"""The monitor's decision rules keep the error rates they state (binomial bounds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from mlcicd.deploy.monitor_rules import PromotionRule, simulate_monitor, window_alpha
from mlcicd.drift import ks_2samp_columns
from mlcicd.errors import InputError

TRIALS = 400


def _upper(count: int, n: int, confidence: float = 0.99) -> float:
    return binomtest(count, n).proportion_ci(confidence).high


def _lower(count: int, n: int, confidence: float = 0.99) -> float:
    return binomtest(count, n).proportion_ci(confidence).low


def test_a_tie_is_not_a_promotion_when_production_is_fine():
    point = simulate_monitor(0.0, production_ok=True, n=200, cycles=TRIALS, seed=11)
    promoted = round(point.promote_rate * TRIALS)
    # Promoting a candidate that is not better is the stated risk alpha = 5 %.
    assert _upper(promoted, TRIALS) <= 0.05


def test_a_clearly_better_candidate_is_promoted_when_production_is_fine():
    point = simulate_monitor(0.1, production_ok=True, n=400, cycles=TRIALS, seed=12)
    assert _lower(round(point.promote_rate * TRIALS), TRIALS) >= 0.9


def test_a_candidate_twice_the_margin_worse_is_not_promoted_when_production_failed():
    point = simulate_monitor(-0.1, production_ok=False, n=200, cycles=TRIALS, seed=13)
    assert _upper(round(point.promote_rate * TRIALS), TRIALS) <= 0.05  # beta


def test_an_equal_candidate_replaces_a_failing_production_model():
    point = simulate_monitor(0.0, production_ok=False, n=400, cycles=TRIALS, seed=14)
    assert _lower(round(point.promote_rate * TRIALS), TRIALS) >= 0.9


def test_the_rule_explains_itself_and_checks_its_settings():
    verdict = PromotionRule().decide(12, 12, 300, production_ok=True)
    assert not verdict.promote and "not shown better" in verdict.reason
    assert "12" in verdict.reason and "300" in verdict.reason
    assert "5%" in PromotionRule().risks()
    with pytest.raises(InputError, match="margin"):
        PromotionRule(margin=0.0)
    with pytest.raises(InputError, match="alpha"):
        PromotionRule(alpha=0.7)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_window_numbers_start_at_one(bad):
    with pytest.raises(InputError, match="window"):
        window_alpha(0.05, bad)


def _window_pvalues(windows: int, sequences: int, seed: int) -> np.ndarray:
    """KS p-values, shape (windows, sequences): monitors (one per column) each testing
    windows of unchanged data against their own reference, as the monitor does."""
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=(300, sequences))  # each monitor's own reference
    return np.array([ks_2samp_columns(reference, rng.normal(size=(150, sequences))).pvalue
                     for _ in range(windows)])


def _false_alarm_sequences(pvalues: np.ndarray, levels) -> int:
    """Monitors that raised at least one alarm, window ``k`` tested at ``levels[k]``."""
    return int((pvalues <= np.asarray(levels)[:, None]).any(axis=0).sum())


def test_alpha_spending_keeps_false_alarms_over_many_windows_at_alpha():
    windows, sequences = 20, 600
    # The same windows judged both ways (the KS tests are the cost: run them once).
    pvalues = _window_pvalues(windows, sequences, seed=3)
    spent = _false_alarm_sequences(pvalues, [window_alpha(0.05, k)
                                             for k in range(1, windows + 1)])
    naive = _false_alarm_sequences(pvalues, [0.05] * windows)
    # Corrected: at most alpha over all 20 windows; uncorrected: far above it.
    assert _lower(spent, sequences) <= 0.05, spent
    assert _lower(naive, sequences) > 0.3, naive
    print(f"false alarms over {windows} windows: {spent}/{sequences} with alpha-spending, "
          f"{naive}/{sequences} at 0.05 per window")


def test_the_levels_sum_to_alpha_over_an_unbounded_horizon():
    levels = pd.Series([window_alpha(0.1, k) for k in range(1, 100_001)])
    assert levels.is_monotonic_decreasing
    assert abs(levels.sum() - 0.1) < 1e-5
