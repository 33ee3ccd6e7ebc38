"""Canary release: a growing share of traffic, judged on evidence, rolled back at once.

The candidate first serves a few percent of users. After each batch of requests an
analysis (:func:`~mlcicd.deploy.canary_analysis.judge`) reads the counts of the release
so far and decides:

- ``"abort"``: a guardrail is breached (error rate or accuracy for sure worse, or p95
  latency too high); all traffic goes back to stable at once;
- ``"wait"``: the step has not served ``min_requests`` canary requests yet, or (last
  step) accuracy is not yet shown to be within the margin;
- ``"continue"``: the step is healthy; go to the next weight;
- ``"promote"``: the last step is healthy and accuracy is within the margin.

Accuracy evidence accumulates over the whole release and is read with confidence
sequences (:mod:`mlcicd.sequential`), so reading it after every batch keeps the error
rates the plan states. A stream that ends before a decision leaves the release
``"inconclusive"`` (traffic back to stable), never "running" forever.

Users are assigned by a stable hash of their key and the canary occupies the lowest
buckets, so raising its weight only adds users: nobody flips back and forth.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.deploy.base import Release, live_slot_of
from mlcicd.deploy.canary_analysis import (
    DECISIONS,
    CanaryAnalysis,
    CanaryEvidence,
    CanaryPlan,
    judge,
)
from mlcicd.deploy.router import ModelVersion, Router
from mlcicd.deploy.versions import model_input
from mlcicd.errors import InputError

__all__ = ["CanaryAnalysis", "CanaryPlan", "CanaryRelease", "DECISIONS", "LABEL_HORIZON"]

#: A label arriving more than this many requests after its request is not counted
#: (the analysis would otherwise re-read an ever longer stretch of the log).
LABEL_HORIZON = 5_000


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
        Salt of the sticky assignment; default
        ``"canary:<stable version>-><candidate version>"``: each release picks its own
        first users, and the same release (same two versions) always picks the same.

    Attributes
    ----------
    status_ : str
        ``"ready"``, ``"running"``, ``"promoted"``, ``"aborted"``, ``"inconclusive"``
        (the stream ended first) or ``"rolled_back"``.
    timeline_ : list of dict
        One entry per decision acted on: step, weight, requests so far, metrics, decision.
    evidence_ : CanaryEvidence
        The counts of the last analysis.

    Notes
    -----
    With ``plan.paired`` (the default) the router's ``mirror`` hook asks the stable
    model for its answer to each canary request after the user has the canary's answer;
    a stable model that raises there is counted by the router, never seen by the user.
    Accuracy evidence counts each request key once: a replayed row adds nothing.
    :meth:`analyze` reads only the requests it has not seen yet (plus those still
    waiting for a label), so a server may call it after every few requests.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(6000, 2)); y = (X[:, 0] > 0).astype(int)
    >>> good = LogisticRegression().fit(X, y)
    >>> router = Router({"stable": ModelVersion(good, "v1"), "canary": None})
    >>> plan = CanaryPlan(steps=(0.1, 0.5, 1.0), min_requests=100)
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
        self.evidence_ = CanaryEvidence()
        self._lock = threading.Lock()
        self._cursor = 0  # first request id not scanned yet
        self._step_start = 0
        self._pending: dict[int, tuple[str, str, Any]] = {}  # id -> key, slot, prediction
        self._stable_answers: dict[int, Any] = {}
        self._counted_keys: set[str] = set()
        self._answers_added = 0
        self._progress: tuple[int, int] = (-1, -1)
        self._previous_mirror: Any = None

    # --------------------------------------------------------------- actions
    def start(self) -> CanaryRelease:
        """Load the candidate into the canary slot and send it the first step's share."""
        model = self._load_candidate(self.canary_slot, "canary release")
        if self.salt is None:
            self.salt = f"canary:{self.router.version_of(self.stable_slot)}->{model.version}"
        self._cursor = self.router.n_requests
        self.status_ = "running"
        if self.plan.paired and self.plan.min_labels:
            self._previous_mirror = self.router.mirror
            self.router.mirror = self._mirror
        self._go_to_step(0)
        self._record("start", f"{model.version} at {self.plan.steps[0]:.0%}")
        return self

    def _go_to_step(self, step: int) -> None:
        weight = self.plan.steps[step]
        with self._lock:
            self.router.set_weights({self.canary_slot: weight, self.stable_slot: 1.0 - weight},
                                    salt=self.salt)
            self.step_ = step
            self._step_start = self.router.n_requests
            self.evidence_.new_step()

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
        self._log_analysis(analysis)
        if analysis.decision == "abort":
            self.abort("; ".join(analysis.reasons))
        elif analysis.decision == "promote":
            self._finish("promoted", self.canary_slot)
            self._record("promote", f"all traffic to {self.canary_slot}")
        elif analysis.decision == "continue":
            self._go_to_step(self.step_ + 1)
            self._record("continue", f"{self.plan.steps[self.step_]:.0%}")
        return analysis

    def _log_analysis(self, analysis: CanaryAnalysis) -> None:
        self.timeline_.append({
            "step": analysis.step, "weight": analysis.weight,
            "requests_so_far": self.router.n_requests, **analysis.metrics,
            "decision": analysis.decision, "reasons": list(analysis.reasons),
        })

    def _finish(self, status: str, slot: str) -> None:
        self.router.switch(slot)
        self.status_ = status
        if self.router.mirror == self._mirror:
            self.router.mirror = self._previous_mirror

    def promote(self, *, force: bool = False) -> None:
        """Give the candidate all traffic now: needs a ``"promote"`` analysis unless forced."""
        if self.status_ == "ready":
            raise InputError("no candidate to promote: start the canary release first")
        self._require_running()
        analysis = self.analyze()
        if not force and analysis.decision != "promote":
            raise InputError(f"canary not promoted: analysis says {analysis.decision} "
                             f"({'; '.join(analysis.reasons)})")
        self._finish("promoted", self.canary_slot)
        self._record("promote", "forced by operator" if force else "guardrails hold")

    def abort(self, reason: str = "aborted by operator") -> None:
        """Send all traffic back to the stable slot at once."""
        self._require_running()
        self._finish("aborted", self.stable_slot)
        self._record("abort", reason)

    def rollback(self) -> None:
        """Abort a running canary, or undo a promotion: all traffic back to stable."""
        if self.status_ not in ("running", "promoted"):
            raise InputError(f"nothing to roll back (status {self.status_})")
        self._finish("rolled_back", self.stable_slot)
        self._record("rollback", f"all traffic back to {self.stable_slot}")

    # -------------------------------------------------------------- analysis
    def analyze(self) -> CanaryAnalysis:
        """Judge the current step on the release's evidence so far, without acting.

        Thread-safe; reads only new requests (and those still waiting for a label).
        """
        self._require_running()
        with self._lock:
            self._scan()
            return judge(self.plan, self.evidence_, self.step_)

    def _scan(self) -> None:
        # Caller holds self._lock. Counts requests answered since the cursor, then
        # any waiting request whose label (and, when paired, stable answer) is in.
        n_requests = self.router.n_requests
        horizon = n_requests - LABEL_HORIZON
        for rid in [r for r in self._pending if r < horizon]:
            del self._pending[rid]
        for rid in [r for r in self._stable_answers if r < horizon]:
            del self._stable_answers[rid]
        # Re-read waiting requests only when a label (or a stable answer) came in since
        # the last look: an idle analysis then reads the new requests alone.
        progress = (sum(row["labelled"] for row in self.router.summary()), self._answers_added)
        rescan = bool(self._pending) and progress != self._progress
        self._progress = progress
        since = min([self._cursor, *self._pending]) if rescan else self._cursor
        frame = self.router.events_frame(since)
        if frame.empty:
            return
        ids = frame["request_id"].to_numpy()
        answered = frame["answered"].to_numpy()
        new = ids >= self._cursor
        unanswered = np.flatnonzero(new & ~answered)
        stop = int(unanswered[0]) if len(unanswered) else len(ids)
        columns = [frame[c].tolist() for c in ("key", "slot", "prediction", "latency_s",
                                               "error", "label")]
        accuracy_on = self.plan.min_labels > 0
        ev = self.evidence_
        for i in range(stop):
            rid = int(ids[i])
            key, slot, prediction, latency, error, label = (col[i] for col in columns)
            if rid >= self._cursor:
                if slot == self.canary_slot:
                    ev.canary_requests += 1
                    ev.canary_errors += error is not None
                    if rid >= self._step_start:
                        ev.step_requests += 1
                        ev.step_latencies_s.append(float(latency))
                elif slot != self.stable_slot:
                    continue
                if (error is None and accuracy_on and key not in self._counted_keys
                        and (slot == self.canary_slot or not self.plan.paired)):
                    self._pending[rid] = (key, slot, prediction)
            if rid in self._pending and label is not None:
                self._count_label(rid, label)
        self._cursor = int(ids[stop - 1]) + 1 if stop else self._cursor

    def _count_label(self, rid: int, label: Any) -> None:
        key, slot, prediction = self._pending[rid]
        if key in self._counted_keys:
            del self._pending[rid]
            return
        ev = self.evidence_
        right = bool(prediction == label)
        if self.plan.paired:
            if rid not in self._stable_answers:
                return  # the stable model's answer is still on its way
            stable_right = bool(self._stable_answers.pop(rid) == label)
            ev.pairs += 1
            ev.canary_only += right and not stable_right
            ev.stable_only += stable_right and not right
            ev.both_right += right and stable_right
        elif slot == self.canary_slot:
            ev.canary_labelled += 1
            ev.canary_correct += right
        else:
            ev.stable_labelled += 1
            ev.stable_correct += right
        self._counted_keys.add(key)
        del self._pending[rid]

    def _mirror(self, request_ids: np.ndarray, rows: Any) -> None:
        """The stable model's answers to the canary's requests (paired evidence)."""
        previous = self._previous_mirror
        try:
            self._score_with_stable(request_ids, rows)
        finally:
            if previous is not None:
                previous(request_ids, rows)

    def _score_with_stable(self, request_ids: np.ndarray, rows: Any) -> None:
        if self.status_ != "running" or not len(request_ids):
            return
        frame = self.router.events_frame(int(np.min(request_ids)))
        slot_of = dict(zip(frame["request_id"].tolist(), frame["slot"].tolist(), strict=True))
        mine = np.flatnonzero([slot_of.get(int(r)) == self.canary_slot for r in request_ids])
        if not len(mine):
            return
        held = self.router.slots[self.stable_slot]
        if held is None:
            return
        part = rows.iloc[mine] if isinstance(rows, pd.DataFrame) else np.asarray(rows)[mine]
        answers = np.asarray(held.model.predict(model_input(held.model, part))).tolist()
        if len(answers) != len(mine):
            raise ValueError(f"stable model returned {len(answers)} answers for {len(mine)}")
        with self._lock:
            for rid, answer in zip(np.asarray(request_ids)[mine].tolist(), answers, strict=True):
                self._stable_answers[int(rid)] = answer
                self._answers_added += rid in self._pending  # scanned before its answer came

    # ------------------------------------------------------------ automation
    def run(self, X: Any, y: Sequence[Any] | None = None, keys: Sequence[object] | None = None,
            *, batch_size: int = 50) -> CanaryRelease:
        """Drive the whole release over a data stream in one call.

        Rows are routed in batches of ``batch_size``; their labels (when ``y`` is
        given) arrive right after, and the step is analysed after each batch. Stops
        when the release is promoted or aborted; when the stream ends first, the
        release is ``"inconclusive"`` and traffic goes back to stable. ``keys``
        default to ``"row-<i>"``.
        """
        if len(X) == 0:
            raise InputError("the stream is empty: no rows to send to the canary")
        key_list = self._stream_keys(X, y, keys, batch_size)
        n = len(key_list)
        self._require_running()
        y_arr = None if y is None else np.asarray(y)
        analysis = None
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
        if self.status_ == "running":
            self._end_inconclusive(analysis)
        return self

    def _end_inconclusive(self, analysis: CanaryAnalysis | None) -> None:
        reasons = analysis.reasons if analysis is not None else ("no request",)
        if analysis is not None:
            self._log_analysis(CanaryAnalysis(analysis.step, analysis.weight, "inconclusive",
                                              reasons, analysis.metrics))
        self._finish("inconclusive", self.stable_slot)
        self._record("inconclusive", "stream ended before a decision: " + "; ".join(reasons))

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
