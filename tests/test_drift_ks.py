"""The vectorised Kolmogorov-Smirnov test gives exactly what scipy.stats.ks_2samp gives."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlcicd.drift import KolmogorovSmirnov, ks_2samp_columns
from mlcicd.drift.ks import gap_units
from mlcicd.drift.ks_pvalue import EXACT_MAX_N, asymptotic_pvalue
from mlcicd.errors import InputError

TOL = 1e-9


def _scipy(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    result = stats.ks_2samp(a, b, nan_policy="omit")
    return float(result.statistic), float(result.pvalue)


def _assert_matches_scipy(ref: np.ndarray, cur: np.ndarray) -> None:
    ours = ks_2samp_columns(ref, cur)
    for j in range(ref.shape[1]):
        statistic, pvalue = _scipy(ref[:, j], cur[:, j])
        assert ours.statistic[j] == pytest.approx(statistic, abs=TOL)
        assert ours.pvalue[j] == pytest.approx(pvalue, abs=TOL)


@pytest.mark.parametrize("seed", range(40))
def test_small_continuous_samples_match_scipy(seed):
    rng = np.random.default_rng(seed)
    n1, n2 = rng.integers(1, 120, size=2)
    ref = rng.normal(size=(n1, 3))
    cur = rng.normal(loc=[0.0, 0.3, 1.0], scale=[1.0, 1.5, 1.0], size=(n2, 3))
    _assert_matches_scipy(ref, cur)


@pytest.mark.parametrize("seed", range(40))
def test_integer_data_with_many_ties_matches_scipy(seed):
    rng = np.random.default_rng(1000 + seed)
    n1, n2 = rng.integers(1, 150, size=2)
    levels = int(rng.integers(1, 8))
    ref = rng.integers(0, levels, size=(n1, 3)).astype(float)
    cur = rng.integers(0, levels + 1, size=(n2, 3)).astype(float)
    _assert_matches_scipy(ref, cur)


@pytest.mark.parametrize("seed", range(10))
def test_equal_sample_sizes_match_scipy(seed):
    rng = np.random.default_rng(2000 + seed)
    n = int(rng.integers(1, 300))
    ref = rng.normal(size=(n, 2))
    cur = np.column_stack([rng.normal(size=n), rng.integers(0, 3, size=n)])
    _assert_matches_scipy(ref, cur)


@pytest.mark.parametrize(
    ("n1", "n2"), [(EXACT_MAX_N, 999), (3000, 2000), (EXACT_MAX_N + 1, 400), (20_000, 15_000)]
)
def test_large_samples_on_both_sides_of_the_exact_limit_match_scipy(n1, n2):
    rng = np.random.default_rng(n1 + n2)
    ref = rng.normal(size=(n1, 2))
    cur = np.column_stack([rng.normal(0.03, 1.0, size=n2), rng.normal(size=n2)])
    _assert_matches_scipy(ref, cur)


def test_missing_values_are_dropped_per_column_like_nan_policy_omit():
    rng = np.random.default_rng(7)
    ref = rng.normal(size=(80, 2))
    cur = rng.normal(0.5, 1.0, size=(60, 2))
    ref[rng.random(80) < 0.2, 0] = np.nan
    cur[rng.random(60) < 0.3, 1] = np.nan
    result = ks_2samp_columns(ref, cur)
    _assert_matches_scipy(ref, cur)
    assert result.n_reference.tolist() == [int(np.sum(~np.isnan(ref[:, 0]))), 80]
    assert result.n_current.tolist() == [60, int(np.sum(~np.isnan(cur[:, 1])))]


def test_a_column_without_values_is_marked_not_tested():
    ref = np.column_stack([np.arange(10.0), np.full(10, np.nan)])
    result = ks_2samp_columns(ref, np.ones((5, 2)))
    assert result.method.tolist()[1] == "not tested"
    assert np.isnan(result.statistic[1]) and np.isnan(result.pvalue[1])


def test_method_follows_scipys_exact_limit():
    rng = np.random.default_rng(0)
    small = ks_2samp_columns(rng.normal(size=EXACT_MAX_N), rng.normal(size=50))
    large = ks_2samp_columns(rng.normal(size=EXACT_MAX_N + 1), rng.normal(size=50))
    assert small.method.tolist() == ["exact"]
    assert large.method.tolist() == ["asymp"]


@pytest.mark.parametrize("n", [141, 5_000, 60_000])
@pytest.mark.parametrize("n_d_squared", [0.5, 2.2, 3.0, 10.0, 60.0, 369.0])
def test_fast_asymptotic_pvalue_equals_scipys_kstwo(n, n_d_squared):
    d = np.sqrt(n_d_squared / n)
    assert asymptotic_pvalue(d, n) == pytest.approx(stats.kstwo.sf(d, n), abs=1e-10)


@pytest.mark.parametrize(("n", "d"), [(500_000, 0.0025), (30_001, 0.05)])
def test_fast_asymptotic_pvalue_holds_for_large_samples(n, d):
    assert asymptotic_pvalue(d, n) == pytest.approx(stats.kstwo.sf(d, n), abs=1e-10)


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("block", [1, 2, 5])
def test_blockwise_search_finds_the_same_gap_as_a_full_search(seed, block):
    rng = np.random.default_rng(3000 + seed)
    n1, n2 = rng.integers(1, 200, size=2)
    if seed % 2:
        a, b = rng.normal(size=n1), rng.normal(0.2, 1.0, size=n2)
    else:
        a, b = rng.integers(0, 6, size=n1) * 1.0, rng.integers(0, 7, size=n2) * 1.0
    a.sort()
    b.sort()
    assert gap_units(a, b, block=block) == gap_units(a, b, block=10_000)


def test_dataframes_are_tested_column_by_column():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    cur = pd.DataFrame({"a": rng.normal(size=150), "b": rng.normal(2.0, 1.0, size=150)})
    result = ks_2samp_columns(ref, cur)
    assert result.pvalue[0] > 0.05
    assert result.pvalue[1] < 1e-10


def test_a_known_shift_is_detected_and_no_shift_is_not():
    rng = np.random.default_rng(11)
    reference = rng.normal(size=1000)
    assert KolmogorovSmirnov().test(reference, rng.normal(0.3, 1.0, size=1000)).pvalue < 1e-6
    assert KolmogorovSmirnov().test(reference, rng.normal(size=1000)).pvalue > 0.05


def test_different_column_counts_are_refused():
    with pytest.raises(InputError, match="columns"):
        ks_2samp_columns(np.zeros((5, 2)), np.zeros((5, 3)))


def test_text_is_refused_with_the_column_named():
    ref = pd.DataFrame({"age": [1.0, 2.0]})
    cur = pd.DataFrame({"age": ["old", "young"]})
    with pytest.raises(InputError, match="age"):
        ks_2samp_columns(ref, cur)


@pytest.mark.parametrize(("n1", "n2"), [(50_000, 30_000), (8_000, 6_000)])
def test_large_samples_with_heavy_ties_match_scipy(n1, n2):
    rng = np.random.default_rng(n1 - n2)
    ref = rng.integers(0, 40, size=(n1, 2)).astype(float)
    cur = np.column_stack([rng.integers(0, 40, size=n2), rng.integers(1, 41, size=n2)]) * 1.0
    _assert_matches_scipy(ref, cur)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("n1", "n2"), [(426, 143), (1_200, 1_200), (12_000, 9_000)])
def test_missing_values_at_every_path_match_scipy(seed, n1, n2):
    # About 2 % missing, differently per column: columns then differ in size, some end
    # up with equal sizes (closed form) and others with unequal ones (scipy's exact).
    rng = np.random.default_rng(4000 + seed)
    ref = rng.normal(size=(n1, 4))
    cur = rng.normal(loc=[0.0, 0.1, 0.0, 0.4], size=(n2, 4))
    ref[rng.random(ref.shape) < 0.02] = np.nan
    cur[rng.random(cur.shape) < 0.02] = np.nan
    ref[: n1 // 3, 3] = np.nan  # one column loses a third of its reference values
    _assert_matches_scipy(ref, cur)


def test_missing_values_can_bring_a_large_column_into_the_exact_region():
    rng = np.random.default_rng(12)
    ref = rng.normal(size=(EXACT_MAX_N + 5, 2))
    cur = rng.normal(0.05, 1.0, size=(3_000, 2))
    ref[:10, 1] = np.nan  # column 1 keeps EXACT_MAX_N - 5 values: exact, as in scipy
    result = ks_2samp_columns(ref, cur)
    assert result.method.tolist() == ["asymp", "exact"]
    _assert_matches_scipy(ref, cur)


@pytest.mark.parametrize(
    ("n1", "n2"),
    [
        (EXACT_MAX_N, EXACT_MAX_N),  # largest equal sizes: closed form
        (EXACT_MAX_N + 1, EXACT_MAX_N + 1),  # smallest equal sizes past the limit
        (EXACT_MAX_N, EXACT_MAX_N - 1),  # largest unequal sizes: scipy's exact path
        (EXACT_MAX_N + 1, EXACT_MAX_N),  # just past the limit: asymptotic
        (EXACT_MAX_N, 1),
        (1, 1),
        (2, 1),
    ],
)
def test_sizes_where_the_path_changes_match_scipy(n1, n2):
    rng = np.random.default_rng(n1 * 3 + n2)
    ref = rng.normal(size=(n1, 3))
    cur = np.column_stack(
        [rng.normal(size=n2), rng.normal(0.04, 1.0, size=n2), rng.integers(0, 3, size=n2)]
    )
    ref[:, 2] = rng.integers(0, 3, size=n1)
    _assert_matches_scipy(ref, cur)


def _brute_force_pvalue_equal_sizes(n: int, h: int) -> float:
    # Every way to split 2n pooled ranks into two samples of n is equally likely under
    # the null: count the splits whose ECDF gap reaches h / n.
    from itertools import combinations

    ranks = np.arange(2 * n)
    hits = total = 0
    for chosen in combinations(range(2 * n), n):
        first = np.isin(ranks, chosen)
        walk = np.cumsum(np.where(first, 1, -1))
        hits += int(np.max(np.abs(walk)) >= h)
        total += 1
    return hits / total


@pytest.mark.parametrize("n", [1, 2, 5, 7])
def test_equal_size_closed_form_equals_counting_every_split(n):
    from mlcicd.drift.ks_pvalue import exact_pvalue_equal_sizes

    for h in range(n + 2):
        expected = _brute_force_pvalue_equal_sizes(n, h)
        assert exact_pvalue_equal_sizes(n, h) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n", [60, 333, 1_000])
def test_equal_size_closed_form_matches_scipy_for_every_statistic(n):
    from mlcicd.drift.ks_pvalue import exact_pvalue_equal_sizes

    # Every attainable D = h / n, via two samples whose gap is exactly h values.
    for h in range(1, n + 1):
        a = np.arange(n, dtype=float)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = stats.ks_2samp(a, a + h - 0.5)
        assert result.statistic == pytest.approx(h / n, abs=1e-12)
        if caught:
            # scipy's own exact sum rounded just above 1 and it switched to its
            # asymptotic formula; the exact value is 1 to rounding.
            assert exact_pvalue_equal_sizes(n, h) == pytest.approx(1.0, abs=TOL)
        else:
            assert exact_pvalue_equal_sizes(n, h) == pytest.approx(result.pvalue, abs=TOL)
