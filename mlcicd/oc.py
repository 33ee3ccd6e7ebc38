"""Operating characteristics: how often a release rule is right, measured by simulation.

A rule that promotes or aborts states its risks (``CanaryPlan().rule.risks()``); this
module measures them. :func:`simulate_canary` plays many seeded releases of a candidate
whose true accuracy differs from stable's by a known amount and counts the outcomes.
Each release is judged by :func:`mlcicd.deploy.canary_analysis.judge`, the function a
running :class:`~mlcicd.deploy.canary.CanaryRelease` calls, fed with simulated counts
instead of a router's log (traffic split by the step's share, every request labelled
unless ``label_share`` says otherwise; latency is not simulated).

:class:`OperatingPoint` is the shared result type: the shadow and monitor rules build
theirs with :meth:`OperatingPoint.from_outcomes`. :func:`oc_curve` sweeps the true
difference and gives the probability of promotion against it: the curve the book plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from mlcicd.boundaries import rate_ci
from mlcicd.deploy.canary_analysis import CanaryEvidence, CanaryPlan, judge
from mlcicd.errors import InputError
from mlcicd.params import Integer, Real, check

__all__ = ["OUTCOMES", "OperatingPoint", "largest_safe_margin", "oc_curve", "plot_oc_curve",
           "simulate_canary"]

#: Outcomes an :class:`OperatingPoint` counts.
OUTCOMES = ("promote", "abort", "inconclusive")


@dataclass(frozen=True)
class OperatingPoint:
    """Outcomes of many simulated releases of one case, with 95 % Clopper-Pearson CIs.

    Attributes
    ----------
    case : str
        A name, e.g. ``"equal"`` or ``"2x margin worse"``.
    difference : float
        True accuracy of the candidate minus the reference's.
    n_releases : int
    promote_rate, abort_rate, inconclusive_rate : float
        Shares of releases that ended each way; ``*_ci`` their (low, high) intervals.
    median_requests : float
        Median requests served until the decision (or the end of the stream).
    median_labels : float
        Median labelled observations the decision used.

    Examples
    --------
    >>> point = OperatingPoint.from_outcomes("equal", 0.0, ["promote"] * 97 + ["abort"] * 3,
    ...                                      requests=[500] * 100, labels=[60] * 100)
    >>> point.abort_rate, [round(x, 3) for x in point.abort_ci]
    (0.03, [0.006, 0.085])
    """

    case: str
    difference: float
    n_releases: int
    promote_rate: float
    promote_ci: tuple[float, float]
    abort_rate: float
    abort_ci: tuple[float, float]
    inconclusive_rate: float
    inconclusive_ci: tuple[float, float]
    median_requests: float
    median_labels: float

    @classmethod
    def from_outcomes(cls, case: str, difference: float, outcomes: Sequence[str],
                      requests: Sequence[float], labels: Sequence[float]) -> OperatingPoint:
        """Summarise one outcome (in :data:`OUTCOMES`) per release."""
        outcomes = list(outcomes)
        unknown = sorted(set(outcomes) - set(OUTCOMES))
        if not outcomes or unknown:
            raise InputError(f"outcomes must be a non-empty list of {OUTCOMES}, got {unknown}")
        n = len(outcomes)
        counts = {o: outcomes.count(o) for o in OUTCOMES}
        return cls(
            case, float(difference), n,
            counts["promote"] / n, rate_ci(counts["promote"], n),
            counts["abort"] / n, rate_ci(counts["abort"], n),
            counts["inconclusive"] / n, rate_ci(counts["inconclusive"], n),
            float(np.median(requests)), float(np.median(labels)),
        )

    def to_dict(self) -> dict[str, object]:
        """Plain fields (CIs as lists), e.g. for JSON."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def describe(self) -> str:
        """One line: rates with CIs and the medians."""
        def rate(name: str) -> str:
            low, high = getattr(self, f"{name}_ci")
            return f"{name} {getattr(self, f'{name}_rate'):.3f} [{low:.3f}, {high:.3f}]"
        return (f"{self.case} (difference {self.difference:+.3f}, {self.n_releases} releases): "
                f"{rate('promote')}, {rate('abort')}, {rate('inconclusive')}; median "
                f"{self.median_requests:.0f} requests, {self.median_labels:.0f} labels")


def _joint_probabilities(p_stable: float, difference: float,
                         discordance: float) -> np.ndarray:
    # (canary only right, stable only right, both right, neither) for one labelled row.
    canary_only = (discordance + difference) / 2
    stable_only = (discordance - difference) / 2
    both = p_stable - stable_only
    probs = np.array([canary_only, stable_only, both, 1 - canary_only - stable_only - both])
    if (probs < -1e-12).any():
        raise InputError(
            f"discordance {discordance} is impossible with stable accuracy {p_stable} and "
            f"difference {difference}: it must be at least |difference| and leave room for "
            "rows both models get right and rows both get wrong")
    probs = np.clip(probs, 0.0, None)
    return probs / probs.sum()


def _check_case(plan: CanaryPlan, p_stable: float, difference: float, n_releases: int,
                label_share: float, live_rows: int | None) -> None:
    if not isinstance(plan, CanaryPlan):
        raise InputError(f"plan must be a CanaryPlan, got {type(plan).__name__}")
    check("simulate_canary", "p_stable", p_stable, Real(0, 1, closed="neither"))
    check("simulate_canary", "difference", difference, Real(-1, 1))
    if not 0.0 <= p_stable + difference <= 1.0:
        raise InputError(f"p_stable + difference must be in [0, 1], got {p_stable + difference}")
    check("simulate_canary", "n_releases", n_releases, Integer(low=1))
    check("simulate_canary", "label_share", label_share, Real(0, 1, closed="right"))
    if live_rows is not None:
        check("simulate_canary", "live_rows", live_rows, Integer(low=1))


def simulate_canary(plan: CanaryPlan, p_stable: float, difference: float, n_releases: int,
                    seed: int, *, discordance: float | None = None, batch_size: int = 50,
                    max_requests: int = 50_000, label_share: float = 1.0,
                    live_rows: int | None = None, case: str | None = None) -> OperatingPoint:
    """Play ``n_releases`` seeded canary releases and count how they end.

    Parameters
    ----------
    plan : CanaryPlan
        The plan under test (its ``paired`` flag chooses the evidence).
    p_stable : float
        Accuracy of the stable model.
    difference : float
        True accuracy of the candidate minus ``p_stable``.
    n_releases, seed : int
        Number of releases and the seed of all of them.
    discordance : float, optional
        Share of rows where exactly one of the two models is right (paired evidence);
        default ``|difference| + 0.04``: two retrained models of about 95 % accuracy
        that differ on 4 % of rows beside the difference itself.
    batch_size : int, default 50
        Requests between two analyses (as :meth:`CanaryRelease.run`).
    max_requests : int, default 50,000
        Length of the stream; a release still running then is ``"inconclusive"``.
    label_share : float, default 1.0
        Share of requests whose label arrives.
    live_rows : int, optional
        Replay this many distinct rows (keys) in random order, as the end-to-end
        pipeline does: each key keeps its bucket and its outcomes, and counts once.
    case : str, optional
        Name of the case; default from the difference.

    Examples
    --------
    >>> point = simulate_canary(CanaryPlan(), 0.95, -0.10, n_releases=20, seed=0)
    >>> point.abort_rate
    1.0
    """
    _check_case(plan, p_stable, difference, n_releases, label_share, live_rows)
    d = abs(difference) + 0.04 if discordance is None else float(discordance)
    joint = _joint_probabilities(p_stable, difference, d)
    rng = np.random.default_rng(seed)
    outcomes, requests, labels = [], [], []
    for _ in range(n_releases):
        if live_rows is None:
            outcome, served, used = _one_release(plan, p_stable, difference, joint, rng,
                                                 batch_size, max_requests, label_share)
        else:
            outcome, served, used = _one_replay(plan, p_stable, difference, joint, rng,
                                                batch_size, max_requests, live_rows)
        outcomes.append(outcome)
        requests.append(served)
        labels.append(used)
    name = case if case is not None else f"difference {difference:+.3f}"
    return OperatingPoint.from_outcomes(name, difference, outcomes, requests, labels)


def _decide(plan: CanaryPlan, ev: CanaryEvidence, step: int) -> tuple[str, int]:
    """Judge like :meth:`CanaryRelease.run` acts: the outcome (or "") and the next step."""
    decision = judge(plan, ev, step).decision
    if decision == "continue":
        ev.new_step()
        return "", step + 1
    return ("" if decision == "wait" else decision), step


def _evidence_used(plan: CanaryPlan, ev: CanaryEvidence) -> int:
    return ev.pairs if plan.paired else ev.canary_labelled + ev.stable_labelled


def _one_release(plan: CanaryPlan, p_stable: float, difference: float, joint: np.ndarray,
                 rng: np.random.Generator, batch_size: int, max_requests: int,
                 label_share: float) -> tuple[str, int, int]:
    ev, step, served = CanaryEvidence(), 0, 0
    while served < max_requests:
        n = min(batch_size, max_requests - served)
        served += n
        to_canary = int(rng.binomial(n, plan.steps[step]))
        ev.canary_requests += to_canary
        ev.step_requests += to_canary
        labelled = int(rng.binomial(to_canary, label_share))
        if plan.paired:
            canary_only, stable_only, both, _ = rng.multinomial(labelled, joint)
            ev.pairs += labelled
            ev.canary_only += int(canary_only)
            ev.stable_only += int(stable_only)
            ev.both_right += int(both)
        else:
            ev.canary_labelled += labelled
            ev.canary_correct += int(rng.binomial(labelled, p_stable + difference))
            stable_labelled = int(rng.binomial(n - to_canary, label_share))
            ev.stable_labelled += stable_labelled
            ev.stable_correct += int(rng.binomial(stable_labelled, p_stable))
        outcome, step = _decide(plan, ev, step)
        if outcome:
            return outcome, served, _evidence_used(plan, ev)
    return "inconclusive", served, _evidence_used(plan, ev)


def _one_replay(plan: CanaryPlan, p_stable: float, difference: float, joint: np.ndarray,
                rng: np.random.Generator, batch_size: int, max_requests: int,
                live_rows: int) -> tuple[str, int, int]:
    # Each key: a fixed bucket and fixed outcomes (0 canary only, 1 stable only, 2 both,
    # 3 neither); canary right for 0 and 2, stable right for 1 and 2.
    bucket = rng.random(live_rows)
    kind = rng.choice(4, size=live_rows, p=joint)
    counted = np.zeros(live_rows, dtype=bool)
    repeats = -(-max_requests // live_rows)
    order = np.concatenate([rng.permutation(live_rows) for _ in range(repeats)])[:max_requests]
    ev, step = CanaryEvidence(), 0
    for lo in range(0, len(order), batch_size):
        keys = order[lo:lo + batch_size]
        on_canary = bucket[keys] < plan.steps[step]
        ev.canary_requests += int(on_canary.sum())
        ev.step_requests += int(on_canary.sum())
        counts_for = keys if not plan.paired else keys[on_canary]
        fresh = np.unique(counts_for[~counted[counts_for]])  # a replayed key counts once
        counted[fresh] = True
        k = kind[fresh]
        if plan.paired:
            ev.pairs += len(fresh)
            ev.canary_only += int((k == 0).sum())
            ev.stable_only += int((k == 1).sum())
            ev.both_right += int((k == 2).sum())
        else:
            canary_keys = bucket[fresh] < plan.steps[step]
            ev.canary_labelled += int(canary_keys.sum())
            ev.canary_correct += int((canary_keys & ((k == 0) | (k == 2))).sum())
            ev.stable_labelled += int((~canary_keys).sum())
            ev.stable_correct += int((~canary_keys & ((k == 1) | (k == 2))).sum())
        outcome, step = _decide(plan, ev, step)
        if outcome:
            return outcome, lo + len(keys), _evidence_used(plan, ev)
    return "inconclusive", len(order), _evidence_used(plan, ev)


def oc_curve(plan: CanaryPlan, p_stable: float, differences: Sequence[float],
             n_releases: int, seed: int, **options: object) -> pd.DataFrame:
    """Probability of promotion (and abort) against the true accuracy difference.

    One :func:`simulate_canary` per difference (seeds ``seed, seed + 1, ...``), with
    ``options`` passed on. Columns: difference, promote_rate, promote_low,
    promote_high, abort_rate, inconclusive_rate, median_requests, median_labels.
    """
    rows = []
    for i, diff in enumerate(differences):
        point = simulate_canary(plan, p_stable, float(diff), n_releases, seed + i,
                                **options)  # type: ignore[arg-type]
        rows.append({"difference": point.difference, "promote_rate": point.promote_rate,
                     "promote_low": point.promote_ci[0], "promote_high": point.promote_ci[1],
                     "abort_rate": point.abort_rate,
                     "inconclusive_rate": point.inconclusive_rate,
                     "median_requests": point.median_requests,
                     "median_labels": point.median_labels})
    return pd.DataFrame(rows)


def plot_oc_curve(curve: pd.DataFrame, plan: CanaryPlan) -> object:
    """The operating-characteristic curve with the plan's stated risks (a Figure)."""
    import matplotlib.pyplot as plt

    m = plan.max_accuracy_drop
    fig, ax = plt.subplots(figsize=(7, 4))
    x = curve["difference"].to_numpy()
    ax.fill_between(x, curve["promote_low"], curve["promote_high"], alpha=0.25,
                    color="#4c72b0", label="95 % CI")
    ax.plot(x, curve["promote_rate"], "o-", color="#4c72b0", label="P(promote)")
    ax.axvspan(-2 * m, 0.0, color="0.9", label="indifference zone")
    ax.plot([0.0], [1 - plan.alpha], "v", color="#55a868",
            label=f"equal: aborted at most {plan.alpha:.0%}")
    ax.plot([-2 * m], [plan.beta], "^", color="#c44e52",
            label=f"{2 * m:.2f} worse: promoted at most {plan.beta:.0%}")
    ax.set_xlabel("true accuracy difference (candidate - stable)")
    ax.set_ylabel("probability of promotion")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def largest_safe_margin(curves: Mapping[float, pd.DataFrame], worse_by: float,
                        max_risk: float) -> float | None:
    """The largest canary margin that promotes a ``worse_by``-worse candidate rarely enough.

    ``curves`` maps each margin to its :func:`oc_curve`. A margin is *safe* when the
    95 % upper bound of its P(promote), read on the row whose true difference is closest
    to ``-worse_by``, is at most ``max_risk``. The bound and not the estimate: a few
    hundred simulated releases leave room for the true rate to be higher than the share
    observed. Among safe margins the largest wins, because a wider margin promotes a
    candidate as good as stable sooner and more often. None when no margin is safe.

    >>> def curve(at_two_points):
    ...     return pd.DataFrame({"difference": [0.0, -0.04], "promote_rate": at_two_points,
    ...                          "promote_high": [min(1, p + 0.05) for p in at_two_points]})
    >>> curves = {0.02: curve([0.99, 0.01]), 0.05: curve([1.0, 0.5])}
    >>> largest_safe_margin(curves, worse_by=0.04, max_risk=0.10)
    0.02
    >>> largest_safe_margin(curves, worse_by=0.04, max_risk=0.01) is None
    True
    """
    if not curves:
        raise InputError("curves: expected at least one margin and its oc_curve")
    check("largest_safe_margin", "max_risk", max_risk, Real(0, 1))
    safe = []
    for margin, curve in curves.items():
        row = (curve["difference"] + worse_by).abs().idxmin()
        if curve.loc[row, "promote_high"] <= max_risk:
            safe.append(float(margin))
    return max(safe) if safe else None
