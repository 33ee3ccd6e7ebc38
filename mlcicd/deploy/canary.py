"""Canary release: a growing share of traffic, checked at every step, rolled back at once.

The candidate first serves a few percent of users. After each step an analysis reads
the guardrail metrics of that step (error rate, latency) and of the release so far
(accuracy on labelled feedback against the stable model) and decides:

- ``"abort"``: a guardrail is breached; all traffic goes back to stable at once;
- ``"wait"``: not enough requests (or labels) yet to judge this step;
- ``"continue"``: the step is healthy; go to the next weight;
- ``"promote"``: the last step is healthy; the candidate takes all traffic.

Users are assigned by a stable hash of their key and the canary occupies the lowest
buckets, so raising its weight only adds users: nobody flips back and forth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.deploy.base import Release, live_slot_of
from mlcicd.deploy.router import ModelVersion, Router
from mlcicd.errors import InputError

__all__ = ["CanaryAnalysis", "CanaryPlan", "CanaryRelease", "DECISIONS"]

#: What an analysis can decide.
DECISIONS = ("abort", "wait", "continue", "promote")


@dataclass(frozen=True)
class CanaryPlan:
    """Steps of a canary release and the guardrails that every step must respect.

    Parameters
    ----------
    steps : tuple of float, default (0.05, 0.10, 0.25, 0.50, 1.0)
        Canary shares of traffic, strictly increasing, in (0, 1].
    min_requests : int, default 100
        Canary requests needed in a step before it is judged.
    max_error_rate : float, default 0.01
        Highest share of canary requests that may fail within a step.
    max_accuracy_drop : float, default 0.05
        How far canary accuracy may fall below stable accuracy (labelled requests
        since the release started) before the release aborts.
    min_labels : int, default 50
        Labelled canary requests needed before accuracy is judged; ``0`` turns the
        accuracy guardrail off (e.g. when no labels arrive).
    max_latency_ms : float, optional
        Highest 95th percentile of canary latency within a step.

    Examples
    --------
    >>> CanaryPlan(steps=(0.1, 0.5, 1.0)).steps
    (0.1, 0.5, 1.0)
    >>> CanaryPlan(steps=(0.5, 0.2))
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: canary steps must be strictly increasing, got (0.5, 0.2)
    """

    steps: tuple[float, ...] = (0.05, 0.10, 0.25, 0.50, 1.0)
    min_requests: int = 100
    max_error_rate: float = 0.01
    max_accuracy_drop: float = 0.05
    min_labels: int = 50
    max_latency_ms: float | None = None

    def __post_init__(self) -> None:
        steps = tuple(float(s) for s in self.steps)
        object.__setattr__(self, "steps", steps)
        if not steps:
            raise InputError("a canary plan needs at least one step")
        if any(not np.isfinite(s) or s <= 0 or s > 1 for s in steps):
            raise InputError(f"canary steps must be shares in (0, 1] (1 = 100 %), got {steps}")
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            raise InputError(f"canary steps must be strictly increasing, got {steps}")
        if int(self.min_requests) < 1:
            raise InputError(f"min_requests must be >= 1, got {self.min_requests}")
        if int(self.min_labels) < 0:
            raise InputError(f"min_labels must be >= 0, got {self.min_labels}")
        for name in ("max_error_rate", "max_accuracy_drop"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InputError(f"{name} must be in [0, 1], got {value}")
        if self.max_latency_ms is not None and not self.max_latency_ms > 0:
            raise InputError(f"max_latency_ms must be positive, got {self.max_latency_ms}")


@dataclass(frozen=True)
class CanaryAnalysis:
    """The metrics of one step and the decision taken on them."""

    step: int
    weight: float
    decision: str
    reasons: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)


class CanaryRelease(Release):
    """Move traffic to a candidate step by step, promoting or aborting on guardrails.

    Parameters
    ----------
    router : Router
        Exactly one live slot (the stable model) and an idle ``canary_slot``.
    candidate : ModelVersion or path
        The new model, or an artifact directory (hash-checked when loaded).
    plan : CanaryPlan, optional
    canary_slot : str, default "canary"
    salt : str, optional
        Salt of the sticky assignment; default ``"canary:<candidate version>"``, so
        each release picks its own first users instead of the same ones every time.

    Attributes
    ----------
    timeline_ : list of dict
        One entry per analysis: step, weight, requests so far, metrics, decision.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(6000, 2)); y = (X[:, 0] > 0).astype(int)
    >>> good = LogisticRegression().fit(X, y)
    >>> router = Router({"stable": ModelVersion(good, "v1"), "canary": None})
    >>> plan = CanaryPlan(steps=(0.1, 0.5, 1.0), min_requests=100, min_labels=50)
    >>> release = CanaryRelease(router, ModelVersion(good, "v2"), plan).run(X, y)
    >>> release.status_, router.live_versions()
    ('promoted', {'canary': 'v2'})
    >>> release.timeline_frame()["decision"].tolist()
    ['continue', 'continue', 'promote']
    """

    def __init__(self, router: Router, candidate: ModelVersion | str | Path,
                 plan: CanaryPlan | None = None, *, canary_slot: str = "canary",
                 salt: str | None = None) -> None:
        super().__init__(router)
        self.plan = CanaryPlan() if plan is None else plan
        if not isinstance(self.plan, CanaryPlan):
            raise InputError("plan must be a CanaryPlan")
        router.version_of(canary_slot)  # InputError for an unknown slot
        self.stable_slot = live_slot_of(router)
        if self.stable_slot == canary_slot:
            raise InputError(f"canary slot {canary_slot!r} is the live slot; pick an idle one")
        self.candidate = candidate
        self.canary_slot = canary_slot
        self.salt = salt
        self.step_ = -1
        self.timeline_: list[dict[str, Any]] = []
        self._step_start = 0
        self._release_start = 0

    # --------------------------------------------------------------- actions
    def start(self) -> CanaryRelease:
        """Load the candidate into the canary slot and send it the first step's share."""
        model = self._load_candidate(self.canary_slot, "canary release")
        if self.salt is None:
            self.salt = f"canary:{model.version}"
        self._release_start = self.router.n_requests
        self.status_ = "running"
        self._go_to_step(0)
        self._record("start", f"{model.version} at {self.plan.steps[0]:.0%}")
        return self

    def _go_to_step(self, step: int) -> None:
        weight = self.plan.steps[step]
        self.router.set_weights({self.canary_slot: weight, self.stable_slot: 1.0 - weight},
                                salt=self.salt)
        self.step_ = step
        self._step_start = self.router.n_requests

    def _require_running(self) -> None:
        if self.status_ != "running":
            raise InputError(f"the canary is not running (status {self.status_})")

    def advance(self, *, force: bool = False) -> CanaryAnalysis:
        """Analyse the current step and act on the decision (``force``: go on regardless)."""
        self._require_running()
        return self._act(self.analyze(), force=force)

    def _act(self, analysis: CanaryAnalysis, *, force: bool = False) -> CanaryAnalysis:
        if force and analysis.decision in ("wait", "abort"):
            last = self.step_ == len(self.plan.steps) - 1
            analysis = CanaryAnalysis(analysis.step, analysis.weight,
                                      "promote" if last else "continue",
                                      ("forced by operator", *analysis.reasons), analysis.metrics)
        self.timeline_.append({
            "step": analysis.step, "weight": analysis.weight,
            "requests_so_far": self.router.n_requests, **analysis.metrics,
            "decision": analysis.decision, "reasons": list(analysis.reasons),
        })
        if analysis.decision == "abort":
            self.abort("; ".join(analysis.reasons))
        elif analysis.decision == "promote":
            self.router.switch(self.canary_slot)
            self.status_ = "promoted"
            self._record("promote", f"all traffic to {self.canary_slot}")
        elif analysis.decision == "continue":
            self._go_to_step(self.step_ + 1)
            self._record("continue", f"{self.plan.steps[self.step_]:.0%}")
        return analysis

    def promote(self, *, force: bool = False) -> None:
        """Give the candidate all traffic now: needs a ``"promote"`` analysis unless forced."""
        if self.status_ == "ready":
            raise InputError("no candidate to promote: start the canary release first")
        self._require_running()
        analysis = self.analyze()
        if not force and analysis.decision != "promote":
            raise InputError(f"canary not promoted: analysis says {analysis.decision} "
                             f"({'; '.join(analysis.reasons)})")
        self.router.switch(self.canary_slot)
        self.status_ = "promoted"
        self._record("promote", "forced by operator" if force else "guardrails hold")

    def abort(self, reason: str = "aborted by operator") -> None:
        """Send all traffic back to the stable slot at once."""
        self._require_running()
        self.router.switch(self.stable_slot)
        self.status_ = "aborted"
        self._record("abort", reason)

    def rollback(self) -> None:
        """Abort a running canary, or undo a promotion: all traffic back to stable."""
        if self.status_ not in ("running", "promoted"):
            raise InputError(f"nothing to roll back (status {self.status_})")
        self.router.switch(self.stable_slot)
        self.status_ = "rolled_back"
        self._record("rollback", f"all traffic back to {self.stable_slot}")

    # -------------------------------------------------------------- analysis
    def analyze(self) -> CanaryAnalysis:
        """Judge the current step on its guardrails without acting."""
        self._require_running()
        plan = self.plan
        events = self.router.events_frame(self._release_start)
        since = events[events["answered"]]
        step = since[since["request_id"] >= self._step_start]
        canary = step[step["slot"] == self.canary_slot]
        n = len(canary)
        errors = int(canary["error"].notna().sum())
        m: dict[str, float] = {"canary_requests": n, "error_rate": errors / n if n else 0.0}
        m["p95_latency_ms"] = (float(np.percentile(canary["latency_s"], 95) * 1000) if n
                               else float("nan"))
        m["canary_accuracy"], n_lab_c = _accuracy(since[since["slot"] == self.canary_slot])
        m["stable_accuracy"], n_lab_s = _accuracy(since[since["slot"] == self.stable_slot])
        m["canary_labelled"] = n_lab_c
        weight = plan.steps[self.step_]
        abort: list[str] = []
        # Errors beyond the whole step's budget need not wait for min_requests.
        if errors > plan.max_error_rate * max(n, plan.min_requests):
            abort.append(f"error rate {errors}/{n} above {plan.max_error_rate:.1%}")
        if plan.min_labels and n_lab_c >= plan.min_labels and n_lab_s >= plan.min_labels:
            drop = m["stable_accuracy"] - m["canary_accuracy"]
            if drop > plan.max_accuracy_drop:
                abort.append(f"accuracy {m['canary_accuracy']:.3f} is {drop:.3f} below stable "
                             f"{m['stable_accuracy']:.3f} (limit {plan.max_accuracy_drop})")
        if (plan.max_latency_ms is not None and n >= plan.min_requests
                and m["p95_latency_ms"] > plan.max_latency_ms):
            abort.append(f"p95 latency {m['p95_latency_ms']:.1f} ms above {plan.max_latency_ms}")
        if abort:
            return CanaryAnalysis(self.step_, weight, "abort", tuple(abort), m)
        waiting = []
        if n < plan.min_requests:
            waiting.append(f"{n}/{plan.min_requests} canary requests in this step")
        if plan.min_labels and (n_lab_c < plan.min_labels or n_lab_s < plan.min_labels):
            waiting.append(f"{n_lab_c}/{plan.min_labels} labelled canary requests, "
                           f"{n_lab_s} stable")
        if waiting:
            return CanaryAnalysis(self.step_, weight, "wait", tuple(waiting), m)
        last = self.step_ == len(plan.steps) - 1
        return CanaryAnalysis(self.step_, weight, "promote" if last else "continue",
                              ("guardrails hold",), m)

    # ------------------------------------------------------------ automation
    def run(self, X: Any, y: Sequence[Any] | None = None, keys: Sequence[object] | None = None,
            *, batch_size: int = 50) -> CanaryRelease:
        """Drive the whole release over a data stream in one call.

        Rows are routed in batches of ``batch_size``; their labels (when ``y`` is
        given) arrive right after, and the step is analysed after each batch. Stops
        when the release is promoted or aborted, or when the stream ends (status
        stays ``"running"``). ``keys`` default to ``"row-<i>"``.
        """
        key_list = self._stream_keys(X, y, keys, batch_size)
        n = len(key_list)
        self._require_running()
        y_arr = None if y is None else np.asarray(y)
        for lo in range(0, n, int(batch_size)):
            hi = min(lo + int(batch_size), n)
            rows = X.iloc[lo:hi] if isinstance(X, pd.DataFrame) else np.asarray(X)[lo:hi]
            answer = self.router.route_batch(rows, key_list[lo:hi])
            if y_arr is not None:
                self.router.record_labels(answer.request_ids, y_arr[lo:hi].tolist())
            analysis = self.analyze()
            if analysis.decision != "wait":
                self._act(analysis)
            if self.status_ != "running":
                break
        return self

    # --------------------------------------------------------------- reports
    def timeline_frame(self) -> pd.DataFrame:
        """One row per decision taken (``wait`` is not recorded by :meth:`run`).

        Columns: step, weight, requests_so_far, the guardrail metrics, decision, and
        reasons (a list of sentences).
        """
        return pd.DataFrame(self.timeline_)

    def plot(self) -> Any:
        """Canary traffic share and guardrail metrics against requests served (a Figure)."""
        from mlcicd.deploy.plots import plot_canary

        return plot_canary(self)


def _accuracy(events: pd.DataFrame) -> tuple[float, int]:
    ok = events[events["error"].isna() & events["label"].notna()]
    if ok.empty:
        return float("nan"), 0
    correct = [p == t for p, t in zip(ok["prediction"], ok["label"], strict=True)]
    return float(np.mean(correct)), len(ok)
