"""Population stability index, Wasserstein distance and the chi-squared test on known cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mlcicd.drift import ChiSquared, PopulationStabilityIndex, Wasserstein
from mlcicd.errors import InputError


def test_identical_samples_have_zero_psi():
    values = np.random.default_rng(0).normal(size=1000)
    assert PopulationStabilityIndex().test(values, values).statistic == pytest.approx(0.0)


def test_same_distribution_gives_small_psi():
    rng = np.random.default_rng(1)
    result = PopulationStabilityIndex().test(rng.normal(size=5000), rng.normal(size=5000))
    assert result.statistic < 0.01


def test_psi_matches_a_hand_computed_example():
    reference = np.arange(100.0)  # two bins, split at the median 49.5: 50 % / 50 %
    current = np.r_[np.zeros(20), np.full(80, 99.0)]  # 20 % / 80 %
    expected = (0.2 - 0.5) * math.log(0.2 / 0.5) + (0.8 - 0.5) * math.log(0.8 / 0.5)
    result = PopulationStabilityIndex(bins=2).test(reference, current)
    assert result.statistic == pytest.approx(expected)
    assert result.pvalue is None


def test_empty_bins_use_epsilon_instead_of_infinity():
    reference = np.arange(100.0)
    current = np.zeros(50)  # everything in the lowest bin
    eps = 1e-4
    expected = (1 - 0.5) * math.log(1 / 0.5) + (eps - 0.5) * math.log(eps / 0.5)
    result = PopulationStabilityIndex(bins=2, epsilon=eps).test(reference, current)
    assert result.statistic == pytest.approx(expected)


def test_a_large_shift_gives_a_major_psi():
    rng = np.random.default_rng(2)
    result = PopulationStabilityIndex().test(rng.normal(size=2000), rng.normal(1.0, 1, 2000))
    assert result.statistic > 0.25


@pytest.mark.parametrize(("bins", "epsilon"), [(1, 1e-4), (10, 0.0), (10, 1.0), (2.5, 1e-4)])
def test_bad_psi_parameters_are_refused(bins, epsilon):
    with pytest.raises(InputError):
        PopulationStabilityIndex(bins=bins, epsilon=epsilon)


def test_wasserstein_is_in_reference_standard_deviations():
    rng = np.random.default_rng(3)
    reference = rng.normal(100.0, 20.0, size=3000)
    raw = stats.wasserstein_distance(reference, reference + 10.0)
    result = Wasserstein().test(reference, reference + 10.0)
    assert result.statistic == pytest.approx(raw / np.std(reference))
    assert result.statistic == pytest.approx(0.5, abs=0.02)


def test_wasserstein_against_a_constant_reference_is_not_scaled():
    result = Wasserstein().test(np.ones(10), np.full(10, 3.0))
    assert result.statistic == pytest.approx(2.0)
    assert "not scaled" in result.note


def test_chi_squared_matches_scipy_on_the_contingency_table():
    reference = ["a"] * 30 + ["b"] * 50 + ["c"] * 20
    current = ["a"] * 40 + ["b"] * 40 + ["c"] * 10 + ["d"] * 10
    expected = stats.chi2_contingency([[30, 50, 20, 0], [40, 40, 10, 10]])
    result = ChiSquared().test(reference, current)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.pvalue == pytest.approx(expected.pvalue)
    assert "'d'" in result.note


def test_chi_squared_with_one_category_has_nothing_to_compare():
    result = ChiSquared().test(["a"] * 5, ["a"] * 7)
    assert (result.statistic, result.pvalue) == (0.0, 1.0)
