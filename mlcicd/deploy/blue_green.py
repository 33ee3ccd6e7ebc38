"""Blue-green release: deploy to the idle slot, health-check it, switch all traffic at once.

Two complete environments ("blue" and "green") hold a model each; one takes all the
traffic. A new version goes to the idle one, which is checked while users are still
served by the live one. Only a passing check lets the switch happen, and the switch
is one atomic swap of the routing table. The old version stays loaded in the other
slot, so a rollback is another atomic swap: no reload, no warm-up.

The price: twice the resources while both slots are warm, and a switch moves every
user at once (a canary moves them a few at a time).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.deploy.base import Release, as_model_version, live_slot_of
from mlcicd.deploy.router import Router
from mlcicd.deploy.versions import ModelVersion, model_input
from mlcicd.errors import InputError
from mlcicd.markdown import table
from mlcicd.params import Integer, Real, check

__all__ = ["BlueGreenRelease", "CheckResult", "HealthCheck", "HealthReport"]


@dataclass(frozen=True)
class CheckResult:
    """One line of a health report."""

    name: str
    passed: bool
    value: float | None = None
    limit: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class HealthReport:
    """Outcome of a :class:`HealthCheck` on one model version.

    Attributes
    ----------
    version : str
        The version that was checked.
    passed : bool
        True when every check passed.
    checks : list of CheckResult
    """

    version: str
    passed: bool
    checks: list[CheckResult] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per check: name, passed, value, limit, detail."""
        return pd.DataFrame([asdict(c) for c in self.checks],
                            columns=["name", "passed", "value", "limit", "detail"])

    def to_markdown(self) -> str:
        """The checks as a markdown table, then the verdict."""
        rows = [(c.name, "yes" if c.passed else "NO",
                 "" if c.value is None else f"{c.value:.4g}",
                 "" if c.limit is None else f"{c.limit:.4g}", c.detail) for c in self.checks]
        lines = [table(rows, ("check", "passed", "value", "limit", "detail"))]
        verdict = "passed" if self.passed else f"failed: {', '.join(self.failures())}"
        lines += ["", f"Health check of {self.version}: **{verdict}**"]
        return "\n".join(lines)

    def failures(self) -> list[str]:
        """Names of the checks that failed."""
        return [c.name for c in self.checks if not c.passed]


@dataclass(frozen=True)
class HealthCheck:
    """A smoke set and the limits a model must meet on it before it takes traffic.

    Parameters
    ----------
    X_smoke : array-like
        A few representative rows; every one must be answered without an exception.
    y_smoke : array-like, optional
        Their labels; needed for ``min_accuracy``.
    min_accuracy : float, optional
        Lowest accuracy accepted on the smoke set.
    max_latency_ms : float, optional
        Highest accepted 95th percentile of single-row prediction time, measured on up
        to ``latency_probes`` rows.
    latency_probes : int, default 20

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 0, 1]
    >>> m = ModelVersion(DummyClassifier().fit(X, y), "v1")
    >>> report = HealthCheck(X, y, min_accuracy=0.9).run(m)
    >>> report.passed, report.failures()
    (False, ['accuracy'])
    """

    X_smoke: Any
    y_smoke: Any = None
    min_accuracy: float | None = None
    max_latency_ms: float | None = None
    latency_probes: int = 20

    def __post_init__(self) -> None:
        if len(self.X_smoke) == 0:
            raise InputError("the smoke set X_smoke is empty")
        if self.y_smoke is not None and len(self.y_smoke) != len(self.X_smoke):
            raise InputError(
                f"y_smoke has {len(self.y_smoke)} labels for {len(self.X_smoke)} smoke rows"
            )
        if self.min_accuracy is not None:
            if self.y_smoke is None:
                raise InputError("min_accuracy needs y_smoke (labels of the smoke set)")
            check("HealthCheck", "min_accuracy", self.min_accuracy, Real(0, 1))
        if self.max_latency_ms is not None:
            check("HealthCheck", "max_latency_ms", self.max_latency_ms, Real(0, closed="neither"))
        check("HealthCheck", "latency_probes", self.latency_probes, Integer(low=1))

    def run(self, model: ModelVersion) -> HealthReport:
        """Check ``model``; never raises for a misbehaving model, reports it instead."""
        checks = [CheckResult("loads", True, detail=f"version {model.version}")]
        X = self.X_smoke
        try:
            pred = np.asarray(model.model.predict(model_input(model.model, np.asarray(X)
                                                              if isinstance(X, list) else X)))
        except Exception as exc:
            checks.append(CheckResult("answers", False, detail=f"{type(exc).__name__}: {exc}"))
            return HealthReport(model.version, False, checks)
        answered = pred.shape[:1] == (len(X),) and not _has_missing(pred)
        checks.append(CheckResult("answers", answered, float(len(pred)), float(len(X)),
                                  "one non-missing prediction per smoke row"))
        if self.min_accuracy is not None and answered:
            acc = float(np.mean(pred == np.asarray(self.y_smoke)))
            checks.append(CheckResult("accuracy", acc >= self.min_accuracy, acc,
                                      self.min_accuracy))
        if self.max_latency_ms is not None and answered:
            checks.append(self._latency(model))
        return HealthReport(model.version, all(c.passed for c in checks), checks)

    def _latency(self, model: ModelVersion) -> CheckResult:
        probes = min(int(self.latency_probes), len(self.X_smoke))
        times = []
        try:
            for i in range(probes):
                row = (self.X_smoke.iloc[[i]] if isinstance(self.X_smoke, pd.DataFrame)
                       else np.asarray(self.X_smoke)[[i]])
                start = time.perf_counter()
                model.model.predict(model_input(model.model, row))
                times.append((time.perf_counter() - start) * 1000)
        except Exception as exc:
            return CheckResult("latency", False, detail=f"{type(exc).__name__}: {exc}")
        p95 = float(np.percentile(times, 95))
        return CheckResult("latency", p95 <= self.max_latency_ms, p95, self.max_latency_ms,
                           "p95 of single-row predictions, ms")


def _has_missing(pred: np.ndarray) -> bool:
    if pred.dtype.kind == "f":
        return bool(np.isnan(pred).any())
    return bool(pd.isna(pred).any())


class BlueGreenRelease(Release):
    """Release a candidate with two slots: check it on the idle one, then switch at once.

    Parameters
    ----------
    router : Router
        Must have both ``slots``; exactly one of them live.
    health_check : HealthCheck
        What the candidate must pass before it takes traffic.
    slots : tuple of two str, default ("blue", "green")

    Attributes
    ----------
    report_ : HealthReport or None
        The last health check.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    >>> v1 = ModelVersion(LogisticRegression().fit(X, y), "v1")
    >>> v2 = ModelVersion(LogisticRegression(C=10.0).fit(X, y), "v2")
    >>> router = Router({"blue": v1, "green": None})
    >>> release = BlueGreenRelease(router, HealthCheck(X, y, min_accuracy=0.75))
    >>> release.deploy(v2).passed
    True
    >>> release.switch()
    >>> router.live_versions()
    {'green': 'v2'}
    >>> release.rollback()
    >>> router.live_versions()
    {'blue': 'v1'}
    """

    def __init__(
        self, router: Router, health_check: HealthCheck, slots: tuple[str, str] = ("blue", "green")
    ) -> None:
        super().__init__(router)
        if not isinstance(health_check, HealthCheck):
            raise InputError("health_check must be a HealthCheck")
        if len(slots) != 2 or slots[0] == slots[1]:
            raise InputError(f"slots must be two different slot names, got {slots!r}")
        for slot in slots:
            router.version_of(slot)  # InputError for an unknown slot
        if live_slot_of(router) not in slots:
            raise InputError(f"the live slot must be one of {slots}")
        self.health_check = health_check
        self.slots = tuple(slots)
        self.report_: HealthReport | None = None
        self._checked: str | None = None
        self._before_switch: tuple[str, str | None] | None = None

    @property
    def live_slot(self) -> str:
        """The slot taking all traffic."""
        return live_slot_of(self.router)

    @property
    def idle_slot(self) -> str:
        """The other slot: where candidates go, and where the previous version stays warm."""
        return self.slots[1] if self.live_slot == self.slots[0] else self.slots[0]

    def start(self) -> BlueGreenRelease:
        """Nothing to prepare: a blue-green release begins with :meth:`deploy`."""
        return self

    def deploy(self, candidate: ModelVersion | str | Path) -> HealthReport:
        """Load ``candidate`` into the idle slot and health-check it.

        A failing check puts the idle slot back as it was (the previous version stays
        warm), so a bad candidate changes nothing. An artifact failing its hash check
        raises :class:`~mlcicd.errors.ArtifactError` before anything changes.
        """
        model = as_model_version(candidate)
        idle = self.idle_slot
        previous = self.router.slots[idle]
        self.router.deploy(idle, model)
        report = self.health_check.run(model)
        self.report_ = report
        if report.passed:
            self._checked = model.version
            self.status_ = "checked"
            self._record("deploy", f"{model.version} to {idle}: health check passed")
        else:
            if previous is None:
                self.router.clear(idle)
            else:
                self.router.deploy(idle, previous)
            self._checked = None
            self.status_ = "check_failed"
            self._record("deploy", f"{model.version} refused: failed {report.failures()}")
        return report

    def switch(self) -> None:
        """Send all traffic to the checked idle slot, atomically."""
        idle = self.idle_slot
        held = self.router.version_of(idle)
        if self._checked is None or held != self._checked:
            raise InputError("no checked candidate to switch to: deploy one that passes first")
        before = (self.live_slot, self.router.version_of(self.live_slot))
        self.router.switch(idle)
        self._before_switch = before
        self._checked = None
        self.status_ = "switched"
        self._record("switch", f"all traffic to {idle} ({held})")

    def release(self, candidate: ModelVersion | str | Path) -> HealthReport:
        """:meth:`deploy` then :meth:`switch` when the check passed."""
        report = self.deploy(candidate)
        if report.passed:
            self.switch()
        return report

    def rollback(self) -> None:
        """Send all traffic back to the slot live before the last switch (still warm)."""
        if self._before_switch is None:
            raise InputError("nothing to roll back: no switch has happened")
        slot, version = self._before_switch
        if self.router.version_of(slot) != version:
            raise InputError(f"cannot roll back: slot {slot!r} no longer holds {version}")
        self.router.switch(slot)
        self._before_switch = None
        self._checked = None
        self.status_ = "rolled_back"
        self._record("rollback", f"all traffic back to {slot} ({version})")
