"""A/B test: the statistics agree with scipy, keep their promises, and say "no difference"."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402

from mlcicd.deploy import (  # noqa: E402
    ABTest,
    ModelVersion,
    Router,
    analyze_ab,
    assign_groups,
    cohens_h,
    required_sample_size,
    sample_ratio_mismatch,
    simulate_ab,
    two_proportion_ztest,
)
from mlcicd.errors import InputError  # noqa: E402


def test_z_squared_equals_the_chi_square_of_the_2x2_table():
    result = two_proportion_ztest(120, 1000, 150, 1050)
    table = [[120, 880], [150, 900]]
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert result.statistic**2 == pytest.approx(chi2)
    assert result.pvalue == pytest.approx(p)


def assert_rate_is(count: int, trials: int, nominal: float) -> None:
    """The observed rate is consistent with ``nominal``: its exact 99.9 % Clopper-Pearson
    interval covers it, so a correct implementation fails this 0.1 % of seeds at most."""
    ci = stats.binomtest(count, trials).proportion_ci(0.999)
    assert ci.low <= nominal <= ci.high, (count, trials, nominal, ci)


def test_a_a_tests_reject_about_alpha_of_the_time():
    rng = np.random.default_rng(0)
    n = 2000
    conversions = rng.binomial(n, 0.1, size=(2000, 2))
    pvalues = [two_proportion_ztest(a, n, b, n).pvalue for a, b in conversions]
    assert_rate_is(int(np.sum(np.array(pvalues) < 0.05)), len(pvalues), 0.05)


def test_the_confidence_interval_covers_the_true_difference_about_95_percent():
    rng = np.random.default_rng(1)
    n, p_a, p_b = 3000, 0.10, 0.12
    covered = []
    for a, b in rng.binomial(n, [p_a, p_b], size=(1000, 2)):
        r = two_proportion_ztest(a, n, b, n)
        covered.append(r.ci_low <= p_b - p_a <= r.ci_high)
    assert_rate_is(int(np.sum(covered)), len(covered), 0.95)


def test_the_required_sample_size_delivers_the_requested_power():
    n = required_sample_size(0.10, 0.12, alpha=0.05, power=0.8)
    rng = np.random.default_rng(2)
    draws = rng.binomial(n, [0.10, 0.12], size=(1000, 2))
    rejected = sum(two_proportion_ztest(a, n, b, n).pvalue < 0.05 for a, b in draws)
    assert_rate_is(int(rejected), len(draws), 0.8)
    assert required_sample_size(0.10, 0.14) < n  # a bigger effect needs fewer users


def test_cohens_h_is_zero_for_equal_rates_and_signed():
    assert cohens_h(0.3, 0.3) == 0.0
    assert cohens_h(0.1, 0.2) == pytest.approx(-cohens_h(0.2, 0.1))
    assert cohens_h(0.1, 0.2) == pytest.approx(2 * np.arcsin(np.sqrt(0.2))
                                               - 2 * np.arcsin(np.sqrt(0.1)))


def test_a_sample_ratio_mismatch_is_detected_and_trumps_the_result():
    assert not sample_ratio_mismatch(4950, 5050).mismatch
    assert sample_ratio_mismatch(4500, 5500).mismatch
    assert not sample_ratio_mismatch(7000, 3000, split=(0.7, 0.3)).mismatch
    groups = np.array(["A"] * 4000 + ["B"] * 6000)
    converted = np.r_[np.zeros(4000, bool), np.ones(6000, bool)]
    report = analyze_ab(groups, converted)
    assert report.recommendation == "sample ratio mismatch"


def test_equal_rates_give_no_significant_difference():
    df = simulate_ab(10_000, 0.10, 0.10, seed=5)
    report = analyze_ab(df["group"], df["converted"])
    assert report.recommendation == "no significant difference"
    assert report.test.ci_low < 0 < report.test.ci_high
    assert "includes 0" in report.reason


def test_a_real_lift_ships_b_and_a_real_drop_keeps_a():
    up = simulate_ab(30_000, 0.10, 0.12, seed=6)
    down = simulate_ab(30_000, 0.12, 0.10, seed=6)
    assert analyze_ab(up["group"], up["converted"]).recommendation == "ship B"
    report = analyze_ab(down["group"], down["converted"])
    assert report.recommendation == "keep A"
    assert report.statistic < 0 and report.pvalue < 0.05


def test_the_simulator_is_seeded_and_its_groups_are_sticky():
    a = simulate_ab(5000, 0.1, 0.1, split=0.3, seed=7)
    b = simulate_ab(5000, 0.1, 0.1, split=0.3, seed=8)
    assert a["group"].tolist() == b["group"].tolist()
    assert not a["converted"].equals(b["converted"])
    assert abs((a["group"] == "B").mean() - 0.3) < 0.02
    assert a.equals(simulate_ab(5000, 0.1, 0.1, split=0.3, seed=7))


def test_report_renders_as_table_markdown_and_figure():
    df = simulate_ab(4000, 0.10, 0.13, seed=9)
    report = analyze_ab(df["group"], df["converted"])
    assert report.to_frame()["users"].sum() == 4000
    assert "Cohen's h" in report.to_markdown()
    assert report.plot().axes


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: assign_groups(["u"], split=(0.6, 0.6)), "sum to 1"),
        (lambda: assign_groups(["u"], split=1.0), "strictly between"),
        (lambda: two_proportion_ztest(11, 10, 1, 10), r"successes_a must be an integer in \[0, 10"),
        (lambda: two_proportion_ztest(1, 0, 1, 10), "n_a must be a positive integer, got 0"),
        (lambda: required_sample_size(0.1, 0.1), "equal"),
        (lambda: cohens_h(1.2, 0.1), r"p_a must be a number in \[0, 1\], got 1.2"),
        (lambda: analyze_ab(["A", "C"], [True, False]), "'A' or 'B'"),
        (lambda: analyze_ab(["A", "A"], [True, False]), "both groups"),
        (lambda: simulate_ab(1, 0.1, 0.1), "n_users"),
    ],
)
def test_bad_arguments_raise_a_clear_input_error(call, message):
    with pytest.raises(InputError, match=message):
        call()


@pytest.fixture()
def ab_router():
    m = DummyClassifier(strategy="constant", constant=1).fit([[0], [1]], [0, 1])
    return Router({"a": ModelVersion(m, "v1"), "b": None}), ModelVersion(m, "v2")


def test_the_router_assigns_users_like_the_simulator_and_concludes(ab_router):
    router, candidate = ab_router
    test = ABTest(router, candidate, split=(0.6, 0.4)).start()
    sim = simulate_ab(6000, 0.10, 0.16, split=(0.6, 0.4), seed=3)
    answer = router.route_batch(np.zeros((6000, 1)), keys=sim["user_id"].tolist())
    assert (np.where(answer.slots == "b", "B", "A") == sim["group"].to_numpy()).all()
    router.route_batch(np.zeros((100, 1)), keys=sim["user_id"][:100].tolist())  # returning
    test.record_outcome(sim["user_id"], sim["converted"])
    report = test.conclude()
    assert report.test.n_a + report.test.n_b == 6000
    assert report.recommendation == "ship B"
    assert router.live_versions() == {"b": "v2"}
    test.rollback()
    assert router.live_versions() == {"a": "v1"}


def test_a_split_that_does_not_sum_to_one_changes_nothing(ab_router):
    router, candidate = ab_router
    with pytest.raises(InputError, match="sum to 1"):
        ABTest(router, candidate, split=(0.5, 0.6))
    assert router.live_versions() == {"a": "v1"} and router.version_of("b") is None
