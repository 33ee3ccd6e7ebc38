"""The contract every per-feature drift test must honour (like sklearn's check_estimator)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcicd.drift import DRIFT_TESTS, DriftTestResult
from mlcicd.errors import InputError


def _samples(kind: str, seed: int, shift: float = 0.0) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    if kind == "numeric":
        ref = pd.Series(rng.normal(size=120))
        cur = pd.Series(rng.normal(shift, 1.0, size=90))
    else:
        ref = pd.Series(rng.choice(["a", "b", "c"], size=120), dtype=object)
        weights = [1 / 3 + shift, 1 / 3, 1 / 3 - shift]
        cur = pd.Series(rng.choice(["a", "b", "c"], size=90, p=weights), dtype=object)
    return ref, cur


@pytest.fixture(params=sorted(DRIFT_TESTS))
def drift_test(request):
    return DRIFT_TESTS[request.param]()


@pytest.mark.parametrize("seed", range(5))
def test_statistic_and_pvalue_are_in_range(drift_test, seed):
    ref, cur = _samples(drift_test.kind, seed, shift=0.3 * (seed % 2))
    result = drift_test.test(ref, cur)
    assert isinstance(result, DriftTestResult)
    low, high = drift_test.statistic_range
    assert low <= result.statistic <= high
    if drift_test.has_pvalue:
        assert 0.0 <= result.pvalue <= 1.0
    else:
        assert result.pvalue is None
    assert (result.n_reference, result.n_current) == (120, 90)


def test_identical_samples_show_no_drift(drift_test):
    ref, _ = _samples(drift_test.kind, 0)
    result = drift_test.test(ref, ref.copy())
    assert result.statistic == pytest.approx(drift_test.statistic_range[0], abs=1e-12)
    if drift_test.has_pvalue:
        assert result.pvalue == pytest.approx(1.0)


def test_a_clear_shift_scores_higher_than_none(drift_test):
    same = drift_test.test(*_samples(drift_test.kind, 1))
    big_shift = 0.3 if drift_test.kind == "categorical" else 1.5
    shifted = drift_test.test(*_samples(drift_test.kind, 1, shift=big_shift))
    assert shifted.statistic > same.statistic
    if drift_test.has_pvalue:
        assert shifted.pvalue < 0.01 < same.pvalue


def test_missing_values_are_dropped_and_counted(drift_test):
    ref, cur = _samples(drift_test.kind, 2)
    holes = cur.copy()
    holes.iloc[:10] = None
    result = drift_test.test(ref, holes)
    assert result.n_current == 80
    assert "missing values dropped" in result.note
    clean = drift_test.test(ref, cur.iloc[10:])
    assert (result.statistic, result.pvalue) == (clean.statistic, clean.pvalue)


def test_same_input_gives_the_same_result(drift_test):
    ref, cur = _samples(drift_test.kind, 3, shift=0.2)
    assert drift_test.test(ref, cur) == drift_test.test(ref.copy(), cur.copy())


def test_no_values_at_all_is_a_clear_error(drift_test):
    ref, _ = _samples(drift_test.kind, 4)
    empty = pd.Series([None] * 5, dtype=object if drift_test.kind == "categorical" else float)
    with pytest.raises(InputError, match="current"):
        drift_test.test(ref, empty)
