"""The no-drift PSI shrinks with the sample size, and quiet_size reads off where 0.1 holds."""

from __future__ import annotations

import numpy as np
import pytest

from mlcicd.drift.psi_null import no_drift_psi, quiet_size
from mlcicd.errors import InputError


def test_no_drift_psi_mean_is_near_its_chi_squared_value_and_shrinks_with_n():
    table = no_drift_psi([50, 200, 800, 3200], repeats=200, bins=10, seed=4)
    means = [table[n].mean() for n in (50, 200, 800, 3200)]
    assert means == sorted(means, reverse=True)
    for n in (200, 800, 3200):  # 2 (bins - 1) / n once the bins are well filled
        assert table[n].mean() == pytest.approx(18 / n, rel=0.15)
    assert means[0] > 0.25  # a "major shift" by the rule of thumb, with nothing moved


def test_no_drift_psi_against_a_fixed_reference_follows_both_sizes():
    table = no_drift_psi([200, 800, 3200], repeats=200, reference_size=3200, seed=5)
    for n in (200, 800, 3200):  # (bins - 1)(1 / n_reference + 1 / n)
        assert table[n].mean() == pytest.approx(9 * (1 / 3200 + 1 / n), rel=0.15)


def test_no_drift_psi_values_of_a_size_do_not_depend_on_the_other_sizes():
    alone = no_drift_psi([200], repeats=5, seed=1)[200]
    together = no_drift_psi([50, 200], repeats=5, seed=1)[200]
    np.testing.assert_array_equal(alone, together)


def test_quiet_size_from_the_simulated_table_and_its_edge_cases():
    # At 200 points a side 37 % of no-drift PSIs reach 0.1: with 40 repeats one seed in 16
    # would call 200 noisy; with 200 repeats about one in 9,000 does.
    table = no_drift_psi([25, 50, 100, 200, 400, 800], repeats=200, seed=0)
    assert quiet_size(table, 0.1) == 200
    assert quiet_size(table, 0.25) < quiet_size(table, 0.1)
    assert quiet_size({50: [0.01], 100: [0.3]}) is None  # quiet by luck below a noisy size
    assert quiet_size({100: [0.2, 0.01], 400: [0.01, 0.01]}) == 400  # half is not fewer


@pytest.mark.parametrize(("call", "message"), [
    (lambda: quiet_size({}), "at least one sample size"),
    (lambda: quiet_size({50: [0.1]}, threshold=0.0), "threshold"),
    (lambda: no_drift_psi([], repeats=3), "at least one sample size"),
    (lambda: no_drift_psi([1], repeats=3), "sizes"),
    (lambda: no_drift_psi([50], repeats=0), "repeats"),
    (lambda: no_drift_psi([50], repeats=3, reference_size=1), "reference_size"),
])
def test_bad_input_is_one_clear_input_error(call, message):
    with pytest.raises(InputError, match=message):
        call()
