"""Multiple-testing corrections against small hand-checked examples."""

from __future__ import annotations

import numpy as np
import pytest

from mlcicd.drift import adjust_pvalues
from mlcicd.errors import InputError

P = [0.01, 0.04, 0.03, 0.20]


def test_bonferroni_multiplies_by_the_number_of_tests_and_caps_at_one():
    assert adjust_pvalues(P, "bonferroni").tolist() == pytest.approx([0.04, 0.16, 0.12, 0.8])
    assert adjust_pvalues([0.3, 0.6], "bonferroni").tolist() == [0.6, 1.0]


def test_benjamini_hochberg_by_hand():
    # sorted p: 0.01, 0.03, 0.04, 0.20 -> p * m / rank: 0.04, 0.06, 0.0533, 0.20,
    # then a running minimum from the largest rank down: 0.04, 0.0533, 0.0533, 0.20.
    expected = [0.04, 0.16 / 3, 0.16 / 3, 0.20]
    assert adjust_pvalues(P, "bh").tolist() == pytest.approx(expected)


def test_no_correction_leaves_pvalues_alone():
    assert adjust_pvalues(P, "none").tolist() == P


def test_untested_features_do_not_count_as_tests():
    adjusted = adjust_pvalues([0.02, np.nan, 0.5], "bonferroni")
    assert adjusted[0] == pytest.approx(0.04)
    assert np.isnan(adjusted[1])


def test_bh_is_never_stricter_than_bonferroni():
    p = np.random.default_rng(0).random(30) ** 3
    assert np.all(adjust_pvalues(p, "bh") <= adjust_pvalues(p, "bonferroni") + 1e-15)


@pytest.mark.parametrize(("p", "method"), [([0.5], "holm"), ([1.5], "bh"), ([-0.1], "none")])
def test_bad_correction_input_is_refused(p, method):
    with pytest.raises(InputError):
        adjust_pvalues(p, method)
