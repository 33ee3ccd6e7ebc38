"""Shadow release: the candidate sees every request, users only see production's answer.

Each request is answered by the production slot as usual; a copy of it is handed to
a small bounded thread pool that asks the shadow model, off the request path. The
user's answer never waits for the shadow: a shadow that raises is counted as an
error, one that is slow is counted as late, and when the pool's queue is full the
copy is dropped and counted. Once labels arrive, both models are compared on the
same requests (each request key once: a replayed row is not new evidence), and
:class:`~mlcicd.deploy.shadow_rule.ShadowRule` decides after a minimum sample: by
default with an always-valid paired confidence sequence and a non-inferiority rule,
so the report may be read after every batch at the error rates it states; or with
the fixed-horizon exact McNemar test, valid only when read once. The report says
which analysis decided.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.deploy.base import Release, live_slot_of
from mlcicd.deploy.router import Router
from mlcicd.deploy.shadow_rule import ShadowRule
from mlcicd.deploy.versions import ModelVersion, model_input
from mlcicd.errors import InputError
from mlcicd.markdown import table
from mlcicd.params import Integer, Real, check
from mlcicd.sequential import SequentialInterval
from mlcicd.stats import McNemarResult

__all__ = ["MAX_SHADOW_RESULTS", "ShadowRelease", "ShadowReport"]

#: Shadow answers kept for the comparison (the oldest are forgotten beyond it), so a
#: long-running shadow holds bounded memory.
MAX_SHADOW_RESULTS = 200_000


@dataclass(frozen=True)
class ShadowReport:
    """Production and shadow compared on the same requests.

    ``agreement`` is over requests both answered; accuracies, the McNemar test and
    ``interval`` (always-valid, shadow minus production accuracy) over those that also
    have a label, each request key counted once (``replays_ignored`` counts the labelled
    repeats left out). ``decision`` is ``"promote"``, ``"keep"`` (production stays:
    the shadow is shown worse, or, fixed-horizon, shows no significant gain) or
    ``"wait"``; ``analysis`` names the analysis that decided.
    """

    production_version: str
    shadow_version: str
    requests: int
    compared: int
    agreement: float
    labelled: int
    production_accuracy: float
    shadow_accuracy: float
    production_p50_ms: float
    production_p99_ms: float
    shadow_p50_ms: float
    shadow_p99_ms: float
    shadow_errors: int
    late: int
    dropped: int
    mcnemar: McNemarResult | None
    decision: str
    reason: str
    analysis: str = "sequential"
    interval: SequentialInterval | None = None
    replays_ignored: int = 0

    def to_frame(self) -> pd.DataFrame:
        """Side by side: accuracy and latency of production and shadow."""
        return pd.DataFrame({
            "production": [self.production_version, self.production_accuracy,
                           self.production_p50_ms, self.production_p99_ms],
            "shadow": [self.shadow_version, self.shadow_accuracy, self.shadow_p50_ms,
                       self.shadow_p99_ms],
        }, index=["version", "accuracy", "p50_ms", "p99_ms"])

    def to_markdown(self) -> str:
        """A short markdown summary: both models side by side, then the decision."""
        def num(x: float, fmt: str) -> str:
            return "n/a" if x != x else format(x, fmt)  # NaN when nothing to measure

        sides = [
            ("version", self.production_version, self.shadow_version),
            (f"accuracy ({self.labelled} labelled)", num(self.production_accuracy, ".3f"),
             num(self.shadow_accuracy, ".3f")),
            ("p50 / p99 latency (ms)",
             f"{num(self.production_p50_ms, '.2f')} / {num(self.production_p99_ms, '.2f')}",
             f"{num(self.shadow_p50_ms, '.2f')} / {num(self.shadow_p99_ms, '.2f')}"),
        ]
        rows = [
            table(sides, ("", "production", "shadow")), "",
            f"Agreement {num(self.agreement, '.1%')} on {self.compared} requests; shadow "
            f"errors {self.shadow_errors}, late {self.late}, dropped {self.dropped}; "
            f"labelled repeats not counted again: {self.replays_ignored}.", "",
            f"Analysis: {self.analysis}. **{self.decision}**: {self.reason}",
        ]
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


class ShadowRelease(Release):
    """Mirror production traffic to a candidate and compare, without users noticing.

    Parameters
    ----------
    router : Router
        Exactly one live slot (production) and an idle ``shadow_slot``.
    candidate : ModelVersion or path
    shadow_slot : str, default "shadow"
    max_workers : int, default 2
        Threads asking the shadow model.
    max_pending : int, default 64
        Mirrored calls allowed to wait or run at once; beyond that they are dropped.
    timeout_s : float, default 1.0
        A shadow answer arriving later than this after the request is counted as late
        and left out of the comparison.
    min_samples : int, default 200
        Labelled pairs needed before any decision.
    alpha : float, default 0.05
        Sequential: risk of keeping production against an equally accurate shadow.
        Fixed-horizon: level of the McNemar test.
    analysis : {"sequential", "fixed-horizon"}, default "sequential"
        How the report decides (:class:`~mlcicd.deploy.shadow_rule.ShadowRule`).
    margin : float, default 0.05
        Sequential: accuracy the shadow may lose and still count as good enough;
        a shadow ``2 * margin`` worse is promoted with probability at most ``beta``.
    beta : float, default 0.05

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.dummy import DummyClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2)); y = (X[:, 0] > 0).astype(int)
    >>> weak = ModelVersion(DummyClassifier().fit(X, y), "v1")
    >>> strong = ModelVersion(LogisticRegression().fit(X, y), "v2")
    >>> router = Router({"live": weak, "shadow": None})
    >>> release = ShadowRelease(router, strong, min_samples=100).run(X, y)
    >>> release.report_.decision, release.report_.analysis, router.live_versions()
    ('promote', 'sequential', {'live': 'v1'})
    >>> release.promote(); router.live_versions()
    {'shadow': 'v2'}
    """

    def __init__(self, router: Router, candidate: ModelVersion | str | Path, *,
                 shadow_slot: str = "shadow", max_workers: int = 2, max_pending: int = 64,
                 timeout_s: float = 1.0, min_samples: int = 200, alpha: float = 0.05,
                 analysis: str = "sequential", margin: float = 0.05,
                 beta: float = 0.05) -> None:
        super().__init__(router)
        router.version_of(shadow_slot)  # InputError for an unknown slot
        self.production_slot = live_slot_of(router)
        if shadow_slot == self.production_slot:
            raise InputError(f"shadow slot {shadow_slot!r} is the live slot; pick an idle one")
        for name, value in (("max_workers", max_workers), ("max_pending", max_pending),
                            ("min_samples", min_samples)):
            check("ShadowRelease", name, value, Integer(low=1))
        check("ShadowRelease", "timeout_s", timeout_s, Real(0, closed="neither"))
        self.rule = ShadowRule(analysis=analysis, min_samples=int(min_samples),
                               margin=margin, alpha=alpha, beta=beta)
        self.candidate = candidate
        self.shadow_slot = shadow_slot
        self.max_workers = int(max_workers)
        self.max_pending = int(max_pending)
        self.timeout_s = float(timeout_s)
        self.min_samples = int(min_samples)
        self.alpha = float(alpha)
        self.report_: ShadowReport | None = None
        self.dropped_ = 0
        self.late_ = 0
        self._pending = 0
        self._results: dict[int, tuple[Any, str | None, float]] = {}
        self._cond = threading.Condition()
        self._executor: ThreadPoolExecutor | None = None
        self._first_request = 0

    # --------------------------------------------------------------- actions
    def start(self) -> ShadowRelease:
        """Load the candidate into the shadow slot and start mirroring requests to it."""
        model = self._load_candidate(self.shadow_slot, "shadow release")
        self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="shadow")
        self._first_request = self.router.n_requests
        self.router.mirror = self._mirror
        self.status_ = "running"
        self._record("start", f"mirroring to {model.version}")
        return self

    def stop(self) -> None:
        """Stop mirroring; shadow calls still running finish in the background."""
        if self.router.mirror == self._mirror:
            self.router.mirror = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        with self._cond:
            self._pending = 0
            self._cond.notify_all()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait up to ``timeout`` seconds for queued shadow calls; True when none is left."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)

    def promote(self, *, force: bool = False) -> None:
        """Send all traffic to the shadow model (needs a ``"promote"`` report unless forced)."""
        if self.status_ == "ready":
            raise InputError("no candidate to promote: start the shadow release first")
        if self.status_ != "running":
            raise InputError(f"the shadow release is not running (status {self.status_})")
        report = self.report()
        if not force and report.decision != "promote":
            raise InputError(f"shadow not promoted: {report.reason}")
        self.stop()
        self.router.switch(self.shadow_slot)
        self.status_ = "promoted"
        self._record("promote", report.reason)

    def rollback(self) -> None:
        """Stop shadowing, or undo a promotion: all traffic back to production."""
        if self.status_ == "running":
            self.stop()
        elif self.status_ == "promoted":
            self.router.switch(self.production_slot)
        else:
            raise InputError(f"nothing to roll back (status {self.status_})")
        self.status_ = "rolled_back"
        self._record("rollback", f"production {self.production_slot} serves everything")

    # ------------------------------------------------------------- mirroring
    def _mirror(self, request_ids: np.ndarray, X: Any) -> None:
        with self._cond:
            if self._pending >= self.max_pending or self._executor is None:
                self.dropped_ += len(request_ids)
                return
            self._pending += 1
        rows = X.copy() if isinstance(X, pd.DataFrame) else np.array(X, copy=True)
        try:
            self._executor.submit(self._call, request_ids.copy(), rows, time.perf_counter())
        except RuntimeError:  # the pool was shut down meanwhile
            with self._cond:
                self._pending = max(self._pending - 1, 0)
                self.dropped_ += len(request_ids)
                self._cond.notify_all()

    def _call(self, request_ids: np.ndarray, rows: Any, submitted: float) -> None:
        model = self.candidate
        assert isinstance(model, ModelVersion)
        start = time.perf_counter()
        try:
            preds: list[Any] = np.asarray(model.model.predict(model_input(model.model, rows))
                                          ).tolist()
            if len(preds) != len(request_ids):
                raise ValueError(f"{len(preds)} predictions for {len(request_ids)} rows")
            error = None
        except Exception as exc:
            preds, error = [None] * len(request_ids), f"{type(exc).__name__}: {exc}"
        done = time.perf_counter()
        per_row = (done - start) / len(request_ids)
        with self._cond:
            self._pending = max(self._pending - 1, 0)
            if done - submitted > self.timeout_s:
                self.late_ += len(request_ids)
            else:
                for rid, p in zip(request_ids.tolist(), preds, strict=True):
                    self._results[rid] = (p, error, per_row)
                while len(self._results) > MAX_SHADOW_RESULTS:
                    del self._results[next(iter(self._results))]  # the oldest answer
            self._cond.notify_all()

    # -------------------------------------------------------------- analysis
    def report(self) -> ShadowReport:
        """Compare production and shadow on the requests seen so far."""
        events = self.router.events_frame(self._first_request)
        events = events[events["answered"] & (events["slot"] == self.production_slot)]
        with self._cond:
            results = dict(self._results)
            dropped, late = self.dropped_, self.late_
        shadow = pd.DataFrame.from_dict(results, orient="index",
                                        columns=["shadow_prediction", "shadow_error", "shadow_s"])
        both = events.join(shadow, on="request_id", how="inner")
        ok = both[both["error"].isna() & both["shadow_error"].isna()]
        agree = [a == b for a, b in zip(ok["prediction"], ok["shadow_prediction"], strict=True)]
        labelled = ok[ok["label"].notna()]
        lab = labelled.drop_duplicates("key", keep="first")
        y = lab["label"].tolist()
        right_p = np.array([a == b for a, b in zip(y, lab["prediction"], strict=True)], bool)
        right_s = np.array([a == b for a, b in zip(y, lab["shadow_prediction"], strict=True)],
                           bool)
        acc_p = float(right_p.mean()) if len(y) else float("nan")
        acc_s = float(right_s.mean()) if len(y) else float("nan")
        verdict = self.rule.decide(int((right_p & ~right_s).sum()),
                                   int((right_s & ~right_p).sum()), len(lab))
        return self._remember(ShadowReport(
            production_version=str(self.router.version_of(self.production_slot)),
            shadow_version=str(self.router.version_of(self.shadow_slot)),
            requests=len(events), compared=len(ok),
            agreement=float(np.mean(agree)) if agree else float("nan"),
            labelled=len(lab), production_accuracy=acc_p, shadow_accuracy=acc_s,
            production_p50_ms=_pct(both["latency_s"], 50), production_p99_ms=_pct(
                both["latency_s"], 99), shadow_p50_ms=_pct(both["shadow_s"], 50),
            shadow_p99_ms=_pct(both["shadow_s"], 99),
            shadow_errors=int(both["shadow_error"].notna().sum()), late=late, dropped=dropped,
            mcnemar=verdict.mcnemar, decision=verdict.decision, reason=verdict.reason,
            analysis=self.rule.analysis, interval=verdict.interval,
            replays_ignored=len(labelled) - len(lab)))

    def _remember(self, report: ShadowReport) -> ShadowReport:
        self.report_ = report
        return report

    # ------------------------------------------------------------ automation
    def run(self, X: Any, y: Sequence[Any] | None = None, keys: Sequence[object] | None = None,
            *, batch_size: int = 50, drain_timeout: float = 10.0) -> ShadowRelease:
        """Route a labelled stream through production while shadowing it; sets ``report_``.

        A request key (default ``"row-<i>"``) seen again is answered and mirrored, but its
        label counts once in the comparison. An empty stream is an InputError.
        """
        if len(X) == 0:
            raise InputError("the stream is empty: no request to shadow")
        key_list = self._stream_keys(X, y, keys, batch_size)
        n = len(key_list)
        for lo in range(0, n, int(batch_size)):
            hi = min(lo + int(batch_size), n)
            rows = X.iloc[lo:hi] if isinstance(X, pd.DataFrame) else np.asarray(X)[lo:hi]
            answer = self.router.route_batch(rows, key_list[lo:hi])
            if y is not None:
                self.router.record_labels(answer.request_ids, np.asarray(y)[lo:hi].tolist())
        self.drain(drain_timeout)
        self.report()
        return self


def _pct(seconds: pd.Series, q: float) -> float:
    values = pd.to_numeric(seconds, errors="coerce").dropna().to_numpy(dtype=float)
    return float(np.percentile(values, q) * 1000) if len(values) else float("nan")
