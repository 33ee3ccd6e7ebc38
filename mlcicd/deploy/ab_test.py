"""A/B test: sticky groups of users by stable hash, and an honest reading of the outcome.

Users are split between model A (control) and model B (treatment) by a stable hash
of their id, so a user stays in the same group across requests and restarts. The
outcome is a yes/no per user (converted or not); :func:`analyze_ab` tests whether
the two conversion rates differ by more than chance (statistics in
:mod:`mlcicd.deploy.ab_stats`), checks the sample ratio, and says what to do,
including "no significant difference" when that is the truth.

Two analyses, and the report says which one decided: ``"fixed-horizon"`` (the
z-test, valid when read once at a sample size planned in advance) and
``"sequential"`` (an always-valid confidence sequence, valid however often it is
read). :class:`ABTest`, a running experiment that anyone may analyse at any time,
reads sequentially by default; :func:`analyze_ab` reads a finished experiment at its
planned size, fixed-horizon by default. Both are always computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mlcicd.deploy.ab_stats import (
    ANALYSES,
    PeekingRates,
    SampleRatioResult,
    TwoProportionResult,
    assign_groups,
    check_split,
    cohens_h,
    peeking_error_rates,
    required_sample_size,
    sample_ratio_mismatch,
    sequential_ab_interval,
    simulate_ab,
    two_proportion_ztest,
)
from mlcicd.deploy.base import Release, live_slot_of
from mlcicd.deploy.router import ModelVersion, Router
from mlcicd.errors import InputError
from mlcicd.markdown import table
from mlcicd.params import Choice, Real, check
from mlcicd.sequential import SequentialInterval

__all__ = [
    "ABTest",
    "ABTestReport",
    "PeekingRates",
    "SampleRatioResult",
    "TwoProportionResult",
    "analyze_ab",
    "assign_groups",
    "cohens_h",
    "peeking_error_rates",
    "required_sample_size",
    "sample_ratio_mismatch",
    "sequential_ab_interval",
    "simulate_ab",
    "two_proportion_ztest",
]


@dataclass(frozen=True)
class ABTestReport:
    """Everything an A/B decision rests on, and the decision in words.

    Attributes
    ----------
    test : TwoProportionResult
    effect_size : float
        Cohen's h of B relative to A.
    srm : SampleRatioResult
    alpha : float
    recommendation : str
        ``"ship B"``, ``"keep A"``, ``"no significant difference"`` or
        ``"sample ratio mismatch"``.
    reason : str
        The recommendation explained in one sentence with the numbers.
    analysis : str
        Which analysis decided: ``"fixed-horizon"`` (``test``) or ``"sequential"``
        (``sequential``).
    sequential : SequentialInterval or None
        Always-valid interval of ``p_b - p_a`` at level ``alpha``, computed whichever
        analysis decides (None only for a fixed-horizon ``alpha >= 0.5``, where no
        always-valid interval exists).
    """

    test: TwoProportionResult
    effect_size: float
    srm: SampleRatioResult
    alpha: float
    recommendation: str
    reason: str
    analysis: str = "fixed-horizon"
    sequential: SequentialInterval | None = None

    @property
    def statistic(self) -> float:
        """The z statistic of the two-proportion test."""
        return self.test.statistic

    @property
    def pvalue(self) -> float:
        """The p-value of the two-proportion test."""
        return self.test.pvalue

    def to_frame(self) -> pd.DataFrame:
        """One row per group: users, conversion rate."""
        t = self.test
        return pd.DataFrame({"group": ["A", "B"], "users": [t.n_a, t.n_b],
                             "conversion_rate": [t.p_a, t.p_b]})

    def to_markdown(self) -> str:
        """A short markdown summary for a report or a PR comment."""
        t = self.test
        lines = [
            table([("A", t.n_a, f"{t.p_a:.2%}"), ("B", t.n_b, f"{t.p_b:.2%}")],
                  ("group", "users", "conversion"), align="lrr"), "",
            f"Difference B - A: {t.diff:+.2%} ({t.confidence:.0%} CI {t.ci_low:+.2%} to "
            f"{t.ci_high:+.2%}), z = {t.statistic:.2f}, p = {t.pvalue:.3g}, "
            f"Cohen's h = {self.effect_size:.3f}. SRM p = {self.srm.pvalue:.3g}.",
        ]
        if self.sequential is not None:
            ci = self.sequential
            lines += ["", f"Always-valid {1 - self.alpha:.0%} interval (read at any time): "
                      f"{ci.low:+.2%} to {ci.high:+.2%}."]
        lines += ["", f"Analysis: **{self.analysis}**. **{self.recommendation}**: {self.reason}"]
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of both conversion rates with their confidence intervals (a Figure)."""
        import matplotlib.pyplot as plt

        fig, ax = (plt.subplots(figsize=(5, 3.5)) if ax is None else (ax.figure, ax))
        t = self.test
        z = stats.norm.ppf(0.5 + t.confidence / 2)
        rates = np.array([t.p_a, t.p_b])
        errs = z * np.sqrt(rates * (1 - rates) / np.array([t.n_a, t.n_b]))
        ax.bar(["A", "B"], rates, yerr=errs, capsize=8, color=["#4c72b0", "#dd8452"])
        ax.set_ylabel("conversion rate")
        ax.set_title(f"{self.recommendation} (p = {t.pvalue:.3g})")
        return fig


def analyze_ab(groups: Sequence[str], converted: Sequence[bool], *,
               split: float | Sequence[float] = 0.5, alpha: float = 0.05,
               confidence: float = 0.95, analysis: str = "fixed-horizon") -> ABTestReport:
    """Test conversions of groups "A" and "B" and recommend what to do.

    ``analysis="fixed-horizon"`` decides with the z-test: right for an experiment read
    once, at the size planned with :func:`required_sample_size`. ``"sequential"``
    decides with the always-valid interval (:func:`sequential_ab_interval`): right
    whenever the result may be looked at before the end. Read after each of 19 batches,
    the z-test finds a difference in about a quarter of no-difference experiments
    (about five times alpha = 0.05); the sequential reading stays under alpha
    (:func:`~mlcicd.deploy.ab_stats.peeking_error_rates`).

    Examples
    --------
    >>> df = simulate_ab(4000, 0.10, 0.10, seed=0)
    >>> analyze_ab(df["group"], df["converted"]).recommendation
    'no significant difference'
    >>> df = simulate_ab(20000, 0.10, 0.13, seed=3)
    >>> analyze_ab(df["group"], df["converted"]).recommendation
    'ship B'
    """
    g = np.asarray(groups, dtype=object)
    c = np.asarray(converted, dtype=bool)
    if len(g) != len(c):
        raise InputError(f"got {len(c)} outcomes for {len(g)} users")
    unknown = set(g.tolist()) - {"A", "B"}
    if unknown:
        raise InputError(f"groups must be 'A' or 'B', found {sorted(map(str, unknown))[:5]}")
    check("analyze_ab", "alpha", alpha, Real(0, 1, closed="neither"))
    _check_analysis("analyze_ab", analysis, alpha)
    n_a, n_b = int((g == "A").sum()), int((g == "B").sum())
    if n_a == 0 or n_b == 0:
        raise InputError(f"both groups need users, got A={n_a}, B={n_b}")
    x_a, x_b = int(c[g == "A"].sum()), int(c[g == "B"].sum())
    test = two_proportion_ztest(x_a, n_a, x_b, n_b, confidence=confidence)
    # No interval at another level than the one the report prints.
    interval = sequential_ab_interval(x_a, n_a, x_b, n_b, alpha=alpha) if alpha < 0.5 else None
    srm = sample_ratio_mismatch(n_a, n_b, split)
    h = cohens_h(test.p_a, test.p_b)
    if srm.mismatch:
        rec = "sample ratio mismatch"
        why = (f"groups of {n_a} and {n_b} users are too far from the planned split "
               f"(p = {srm.pvalue:.2g}); fix the assignment before reading the result")
    elif analysis == "sequential":
        rec, why = _sequential_verdict(interval, alpha)
    elif test.pvalue >= alpha:
        rec = "no significant difference"
        why = (f"B - A = {test.diff:+.2%} with p = {test.pvalue:.3g} >= {alpha:g}; the "
               f"{confidence:.0%} CI {test.ci_low:+.2%} to {test.ci_high:+.2%} includes 0")
    else:
        rec = "ship B" if test.diff > 0 else "keep A"
        why = (f"B - A = {test.diff:+.2%} with p = {test.pvalue:.3g} < {alpha:g}, "
               f"Cohen's h = {h:.3f}")
    return ABTestReport(test, h, srm, alpha, rec, why, analysis, interval)


def _check_analysis(caller: str, analysis: str, alpha: float) -> None:
    check(caller, "analysis", analysis, Choice(ANALYSES))
    if analysis == "sequential" and not alpha < 0.5:
        raise InputError(f"alpha must be in (0, 0.5) for the sequential analysis, got {alpha}")


def _sequential_verdict(ci: SequentialInterval, alpha: float) -> tuple[str, str]:
    span = f"always-valid {1 - alpha:.0%} interval {ci.low:+.2%} to {ci.high:+.2%}"
    if ci.contains(0.0):
        return "no significant difference", (
            f"B - A = {ci.estimate:+.2%}; the {span} includes 0: keep collecting users, "
            "or stop and keep A")
    rec = "ship B" if ci.low > 0 else "keep A"
    return rec, (f"B - A = {ci.estimate:+.2%}; the {span} excludes 0, valid however often "
                 "the test was read")


class ABTest(Release):
    """Serve the live model (A) and a candidate (B) to sticky groups of users and compare.

    Parameters
    ----------
    router : Router
        Exactly one live slot (A, the control) and an idle ``treatment_slot``.
    candidate : ModelVersion or path
        Model B.
    treatment_slot : str, default "b"
    split : float or (float, float), default 0.5
        Share of users in B, or the shares (A, B) summing to 1.
    salt : str, default "ab-test"
        Salt of the sticky assignment (the same as :func:`assign_groups`).
    alpha : float, default 0.05
    analysis : {"sequential", "fixed-horizon"}, default "sequential"
        How :meth:`analyze` decides. A running test may be analysed at any moment, so
        the default is the always-valid reading; choose ``"fixed-horizon"`` only when
        the number of users was fixed in advance and the test is read once, at the end.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> m = DummyClassifier().fit([[0], [1]], [0, 1])
    >>> router = Router({"a": ModelVersion(m, "v1"), "b": None})
    >>> test = ABTest(router, ModelVersion(m, "v2"), split=(0.5, 0.5)).start()
    >>> users = [f"user-{i:07d}" for i in range(2000)]
    >>> answer = router.route_batch(np.zeros((2000, 1)), keys=users)
    >>> bool((np.where(answer.slots == "b", "B", "A") == assign_groups(users)).all())
    True
    >>> test.record_outcome(users[:300], [True] * 300)
    >>> test.analyze().recommendation
    'no significant difference'
    """

    def __init__(self, router: Router, candidate: ModelVersion | str | Path, *,
                 treatment_slot: str = "b", split: float | Sequence[float] = 0.5,
                 salt: str = "ab-test", alpha: float = 0.05,
                 analysis: str = "sequential") -> None:
        super().__init__(router)
        router.version_of(treatment_slot)  # InputError for an unknown slot
        self.control_slot = live_slot_of(router)
        if treatment_slot == self.control_slot:
            raise InputError(f"treatment slot {treatment_slot!r} is live; pick an idle one")
        self.share_b = check_split(split)
        check("ABTest", "alpha", alpha, Real(0, 1, closed="neither"))
        _check_analysis("ABTest", analysis, alpha)
        self.analysis = analysis
        self.candidate = candidate
        self.treatment_slot = treatment_slot
        self.split = split
        self.salt = salt
        self.alpha = float(alpha)
        self.report_: ABTestReport | None = None
        self._outcomes: dict[str, bool] = {}
        self._first_request = 0

    def start(self) -> ABTest:
        """Load B into the treatment slot and split the users."""
        model = self._load_candidate(self.treatment_slot, "A/B test")
        self._first_request = self.router.n_requests
        # B first: keys with bucket < share_b go to B, exactly as assign_groups does.
        self.router.set_weights({self.treatment_slot: self.share_b,
                                 self.control_slot: 1.0 - self.share_b}, salt=self.salt)
        self.status_ = "running"
        self._record("start", f"{self.share_b:.0%} of users to {model.version}")
        return self

    def record_outcome(self, keys: Sequence[object], converted: Sequence[bool]) -> None:
        """Record which users converted (a user counts once: converted at least once)."""
        if len(keys) != len(converted):
            raise InputError(f"got {len(converted)} outcomes for {len(keys)} users")
        for key, hit in zip(keys, converted, strict=True):
            k = str(key)
            self._outcomes[k] = self._outcomes.get(k, False) or bool(hit)

    def analyze(self) -> ABTestReport:
        """Test the conversion rates of the users seen since the start."""
        if self.status_ == "ready":
            raise InputError("the A/B test has not started")
        events = self.router.events_frame(self._first_request)
        first = events[events["answered"]].drop_duplicates("key")
        groups = np.where(first["slot"] == self.treatment_slot, "B", "A")
        converted = [self._outcomes.get(k, False) for k in first["key"]]
        self.report_ = analyze_ab(groups, converted, split=self.split, alpha=self.alpha,
                                  analysis=self.analysis)
        return self.report_

    def conclude(self) -> ABTestReport:
        """Analyse, then send everyone to B if it won, otherwise back to A."""
        if self.status_ != "running":
            raise InputError(f"the A/B test is not running (status {self.status_})")
        report = self.analyze()
        winner = self.treatment_slot if report.recommendation == "ship B" else self.control_slot
        self.router.switch(winner)
        self.status_ = "shipped_b" if winner == self.treatment_slot else "kept_a"
        self._record("conclude", f"{report.recommendation}: {report.reason}")
        return report

    def rollback(self) -> None:
        """Everyone back to A, whatever the state of the test."""
        if self.status_ == "ready":
            raise InputError("nothing to roll back: the A/B test has not started")
        self.router.switch(self.control_slot)
        self.status_ = "rolled_back"
        self._record("rollback", f"all users back to {self.control_slot}")
