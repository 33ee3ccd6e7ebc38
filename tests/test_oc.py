"""The canary's operating characteristic: the error rates its plan states, measured.

Each case plays a few hundred seeded releases through the same judge a running
CanaryRelease uses, and asserts the rate with a 95 % Clopper-Pearson bound, so the
assertion holds for the rule, not for one lucky seed.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from mlcicd.deploy.canary_analysis import CanaryPlan  # noqa: E402
from mlcicd.errors import InputError  # noqa: E402
from mlcicd.oc import (  # noqa: E402
    OperatingPoint,
    largest_safe_margin,
    oc_curve,
    plot_oc_curve,
    simulate_canary,
)

RELEASES = 300


@pytest.mark.parametrize("paired", [True, False], ids=["paired", "two-arms"])
def test_an_equal_candidate_is_rarely_aborted(paired):
    releases = RELEASES if paired else RELEASES // 2  # the default mode gets the most
    point = simulate_canary(CanaryPlan(paired=paired), 0.95, 0.0, releases, seed=1)
    assert point.abort_ci[1] <= 0.05
    assert point.inconclusive_rate == 0.0


@pytest.mark.parametrize("paired", [True, False], ids=["paired", "two-arms"])
def test_a_candidate_twice_the_margin_worse_is_rarely_promoted(paired):
    point = simulate_canary(CanaryPlan(paired=paired), 0.95, -0.10, RELEASES, seed=2)
    assert point.promote_ci[1] <= 0.05


def test_a_better_candidate_is_never_aborted():
    point = simulate_canary(CanaryPlan(), 0.95, 0.02, RELEASES // 2, seed=3)
    assert point.abort_rate == 0.0 and point.promote_ci[0] >= 0.95


def test_the_accuracy_test_alone_keeps_its_rates_when_read_every_ten_labels():
    plan = CanaryPlan(steps=(1.0,), min_requests=1)
    equal = simulate_canary(plan, 0.95, 0.0, RELEASES, seed=4, batch_size=10)
    worse = simulate_canary(plan, 0.95, -0.10, RELEASES, seed=5, batch_size=10)
    # Read this often the bounds are close to their nominal 5 %: assert the CI's lower
    # end (the data rule out a rate above 5 %) and that the decisions are quick.
    assert equal.abort_ci[0] <= 0.05 and worse.promote_ci[0] <= 0.05
    assert equal.median_labels <= 150 and worse.median_labels <= 200


def test_paired_evidence_needs_fewer_labels_than_two_arms():
    paired = simulate_canary(CanaryPlan(steps=(1.0,), min_requests=1), 0.95, 0.0, 100, seed=6,
                             batch_size=10)
    two_arms = simulate_canary(CanaryPlan(steps=(0.5,), min_requests=1, paired=False), 0.95,
                               0.0, 100, seed=6, batch_size=10)
    assert paired.median_labels < two_arms.median_labels


def test_a_good_candidate_on_150_replayed_live_rows_is_mostly_promoted():
    plan = CanaryPlan(min_requests=50, min_labels=30)
    # Measured over 8,000 releases: about 88.5 % promoted and 0.03 % aborted. Over 200
    # releases, "promote bound >= 0.8 and no abort at all" held for about 8 seeds in 9;
    # over 400, with the abort rate bounded like every other rate, for 9,997 in 10,000.
    point = simulate_canary(plan, 0.95, 0.0, 400, seed=7, live_rows=150, max_requests=3000)
    assert point.promote_ci[0] >= 0.8 and point.abort_ci[1] <= 0.02
    assert point.median_labels <= 150  # a replayed row counts once


def test_a_stream_too_short_ends_inconclusive():
    point = simulate_canary(CanaryPlan(), 0.95, 0.0, 50, seed=8, max_requests=500)
    assert point.inconclusive_rate == 1.0


def test_the_oc_curve_falls_from_promote_to_abort_and_plots():
    plan = CanaryPlan()
    curve = oc_curve(plan, 0.95, [-0.12, -0.05, 0.0], n_releases=40, seed=9)
    assert curve["promote_rate"].is_monotonic_increasing
    # Not exactly 0 and 1: an equal candidate is aborted in about 0.2 % of releases
    # (1 of 600 measured), so 40 releases all promoted would fail about 1 seed in 13.
    assert curve["promote_rate"].iloc[0] <= 0.05 and curve["promote_rate"].iloc[-1] >= 0.95
    fig = plot_oc_curve(curve, plan)
    assert len(fig.axes) == 1


def test_an_operating_point_reports_rates_with_intervals():
    point = OperatingPoint.from_outcomes("x", -0.1, ["abort"] * 9 + ["inconclusive"],
                                         requests=[10] * 10, labels=[5] * 10)
    assert point.abort_rate == 0.9 and point.abort_ci[0] < 0.9 < point.abort_ci[1]
    assert "abort 0.900" in point.describe()
    assert point.to_dict()["abort_ci"] == list(point.abort_ci)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: simulate_canary(CanaryPlan(), 1.2, 0.0, 10, 0), "p_stable"),
        (lambda: simulate_canary(CanaryPlan(), 0.95, 0.1, 10, 0), "p_stable \\+ difference"),
        (lambda: simulate_canary(CanaryPlan(), 0.95, 0.0, 0, 0), "n_releases"),
        (lambda: simulate_canary(CanaryPlan(), 0.95, -0.1, 10, 0, discordance=0.05),
         "discordance"),
        (lambda: simulate_canary("plan", 0.95, 0.0, 10, 0), "CanaryPlan"),
        (lambda: OperatingPoint.from_outcomes("x", 0.0, ["maybe"], [1], [1]), "outcomes"),
        (lambda: largest_safe_margin({}, 0.05, 0.1), "at least one margin"),
        (lambda: largest_safe_margin({0.05: None}, 0.05, 1.5), "max_risk"),
    ],
)
def test_bad_simulation_arguments_are_refused(call, message):
    with pytest.raises(InputError, match=message):
        call()
