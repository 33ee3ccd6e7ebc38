"""The monitoring cycle: check drift and accuracy, retrain, decide, promote, remember.

One call of :meth:`Monitor.run` with a new labelled batch does, in order:

1. reconcile the history with the production artifact: a promotion committed by a
   run that was killed before writing its history line is recorded now (``recovered``),
   and a torn last line is reported;
2. load the production model (:func:`mlcicd.artifacts.load_model`, hash-checked) and
   the data it was trained on, when its artifact stores them: that data is the drift
   reference, so **the reference moves with every promotion** (and back with a
   rollback); artifacts without stored data use the ``reference`` given;
3. test the batch for drift at the level of this window under alpha-spending
   (:func:`~mlcicd.deploy.monitor_rules.window_alpha`: window ``k`` since the reference
   last moved is tested at ``alpha / (k (k + 1))``, so all windows together raise a
   false alarm with probability at most ``alpha``);
4. measure the production model's accuracy on the batch;
5. on drift or an accuracy under ``min_accuracy``, retrain on the training data plus
   part of the batch, and score both models on the rest (the hold-out, seen by neither);
6. promote only when the candidate passes the quality gate *and* the paired evidence
   of :class:`~mlcicd.deploy.monitor_rules.PromotionRule` says so (a tie is not a
   promotion). Promotion is a new deployment of the artifact folder
   (:func:`mlcicd.artifacts.save_model` with ``action="promote"``): the previous model
   stays in the folder and ``mlcicd rollback`` returns to it (:mod:`mlcicd.registry`);
7. append the decision to the history (:func:`mlcicd.journal.append_record`: one
   ``fsync`` ed line under a lock) *before* returning it, so a reported promotion always
   has its line.

A failure while retraining or promoting is recorded (outcome ``"failed"``) and leaves
the production model as it was.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlcicd.artifacts import (
    data_fingerprint,
    load_model,
    read_metadata,
    read_training_data,
    save_model,
)
from mlcicd.deploy.monitor_rules import PromotionRule, paired_counts, window_alpha
from mlcicd.drift.detect import detect_drift
from mlcicd.drift.report import DriftReport
from mlcicd.errors import InputError
from mlcicd.gate import GateResult, GateThresholds, apply_gate
from mlcicd.io import json_safe, require_columns
from mlcicd.journal import append_record, read_records
from mlcicd.params import Real, check
from mlcicd.training import TrainConfig, evaluate, model_features, split_xy, train
from mlcicd.validation.input_schema import infer_input_schema

__all__ = ["Monitor", "MonitorDecision", "OUTCOMES", "read_history"]

#: ``no retrain``: nothing wrong; ``promoted``: a retrained model replaced production;
#: ``rejected``: a retrained model failed the gate or lacked the evidence; ``failed``:
#: an error stopped the retraining or the promotion (production untouched);
#: ``recovered``: a line written late for a change of production the history missed.
OUTCOMES = ("no retrain", "promoted", "rejected", "failed", "recovered")


@dataclass(frozen=True)
class MonitorDecision:
    """What one monitoring cycle saw and decided (see :class:`Monitor`)."""

    outcome: str
    retrained: bool
    promoted: bool
    reasons: list[str]
    timestamp: str
    batch_rows: int
    batch_metrics: dict[str, float]
    min_accuracy: float
    drift: dict[str, Any]
    model_before: str
    model_after: str
    window: int = 1
    reference: str | None = None
    candidate_metrics: dict[str, float] | None = None
    production_holdout_metrics: dict[str, float] | None = None
    gate: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None
    error: str | None = None
    report: DriftReport | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data: one line of the history."""
        data = {k: v for k, v in self.__dict__.items() if k != "report"}
        return json_safe(data)

    def to_text(self) -> str:
        """A short human-readable account of the decision."""
        lines = [f"decision: {self.outcome}" + (" (retrained)" if self.retrained else "")]
        lines += [f"  - {reason}" for reason in self.reasons]
        lines.append(f"drift: {self.drift.get('summary', '')}")
        accuracy = self.batch_metrics.get("accuracy", math.nan)
        lines.append(f"production accuracy on the batch: {accuracy:.4f} "
                     f"(minimum {self.min_accuracy:.4f}, {self.batch_rows} rows)")
        lines.append(f"model: {self.model_before[:12]} -> {self.model_after[:12]}")
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines) + "\n"


class Monitor:
    """Watch a production model with new labelled batches and retrain it when needed.

    Parameters
    ----------
    model_dir : path
        The production artifact folder (written by :func:`mlcicd.artifacts.save_model`).
    reference : DataFrame
        Drift reference while the production artifact stores no training data (a model
        this monitor promoted stores its own, which then takes over).
    train_data : DataFrame
        Labelled data a retrained model learns from (same rule as ``reference``).
    config : TrainConfig, optional
        How to retrain (default ``TrainConfig()``); ``config.target`` is the label column.
    thresholds : GateThresholds, optional
        The candidate's quality gate (default: ``min_accuracy`` only).
    min_accuracy : float
        Retrain when the production model's accuracy on the batch is below this.
    alpha, correction, drift_share
        Drift rule, as in :func:`~mlcicd.drift.detect_drift`; ``alpha`` is the budget
        spent over all windows of one reference.
    holdout_share : float
        Share of the batch kept out of retraining to compare the two models (0.5).
    rule : PromotionRule, optional
        The promotion rule (default ``PromotionRule()``: margin 0.05, alpha = beta = 0.05).
    history : path, optional
        JSON-lines file each decision is appended to; checked here, before any change.

    Examples
    --------
    >>> import tempfile
    >>> from mlcicd.artifacts import save_model
    >>> from mlcicd.drift import make_drifted
    >>> from mlcicd.training import TrainConfig, train
    >>> X, y = make_drifted("covariate", 0.0, n=400, seed=0)
    >>> train_df = X.assign(target=y)
    >>> config = TrainConfig(params={"n_estimators": 20}, cv_folds=2)
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_model(train(config, train_df).pipeline, folder)
    >>> Xb, yb = make_drifted("covariate", 1.0, n=400, seed=1)
    >>> monitor = Monitor(folder, reference=X, train_data=train_df, config=config)
    >>> decision = monitor.run(Xb.assign(target=yb))
    >>> decision.outcome, decision.retrained
    ('promoted', True)
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        *,
        reference: pd.DataFrame,
        train_data: pd.DataFrame,
        config: TrainConfig | None = None,
        thresholds: GateThresholds | None = None,
        min_accuracy: float = 0.9,
        alpha: float = 0.05,
        correction: str = "bh",
        drift_share: float | None = None,
        holdout_share: float = 0.5,
        rule: PromotionRule | None = None,
        history: str | os.PathLike[str] | None = None,
    ) -> None:
        check("Monitor", "min_accuracy", min_accuracy, Real(0, 1))
        check("Monitor", "holdout_share", holdout_share, Real(0, 1, closed="neither"))
        window_alpha(alpha, 1)
        for name, frame in (("reference", reference), ("train_data", train_data)):
            if not isinstance(frame, pd.DataFrame) or frame.empty:
                raise InputError(f"{name} must be a non-empty DataFrame")
        self.model_dir = Path(model_dir)
        self.reference = reference
        self.train_data = train_data
        self.config = config if config is not None else TrainConfig()
        self.thresholds = thresholds
        self.min_accuracy = float(min_accuracy)
        self.alpha = alpha
        self.correction = correction
        self.drift_share = drift_share
        self.holdout_share = float(holdout_share)
        self.rule = rule if rule is not None else PromotionRule()
        self.history = _checked_history_path(history, self.model_dir)
        self._windows: dict[str, int] = {}
        require_columns(train_data, [self.config.target], source="training data")

    def run(self, batch: pd.DataFrame) -> MonitorDecision:
        """One cycle on a new labelled ``batch``; the decision is also in ``decision_``."""
        target = self.config.target
        if not isinstance(batch, pd.DataFrame) or len(batch) < 2:
            raise InputError("batch must be a DataFrame with at least 2 labelled rows")
        require_columns(batch, [target], source="batch")
        notes = self.reconcile_history()
        production = load_model(self.model_dir)
        before = str(production.metadata["sha256"])
        reference, train_data = self._reference_data()
        fingerprint = data_fingerprint(reference)
        window = self._next_window(fingerprint)
        report = detect_drift(reference, batch, alpha=window_alpha(self.alpha, window),
                              correction=self.correction, exclude=[target],
                              drift_share=self.drift_share)
        batch_metrics = evaluate(production.model, batch, target, source="batch")
        accuracy = batch_metrics["accuracy"]
        production_ok = accuracy >= self.min_accuracy
        triggers = []
        if report.drifted:
            triggers.append("data drift in " + ", ".join(map(str, report.drifted_features))
                            + f" (window {window}, level {window_alpha(self.alpha, window):.3g})")
        if not production_ok:
            triggers.append(f"accuracy {accuracy:.4f} is below the minimum {self.min_accuracy:.4f}")
        details: dict[str, Any] = {}
        if not triggers:
            outcome, reasons = "no retrain", [
                f"no drift ({report.reason})",
                f"accuracy {accuracy:.4f} meets the minimum {self.min_accuracy:.4f}",
            ]
        else:
            reasons = list(triggers)
            try:
                outcome, why, details = self._retrain_and_maybe_promote(
                    production, batch, train_data, before, production_ok)
                reasons.append(why)
            except Exception as exc:  # any failure must leave production as it was
                outcome = "failed"
                details = {"error": f"{type(exc).__name__}: {exc}"}
                reasons.append("retraining or promotion failed; the production model is unchanged")
        decision = MonitorDecision(
            outcome=outcome, retrained=bool(triggers), promoted=outcome == "promoted",
            reasons=notes + reasons, timestamp=_now(), batch_rows=len(batch),
            batch_metrics=batch_metrics, min_accuracy=self.min_accuracy,
            drift={"drifted": report.drifted, "summary": report.summary(),
                   "drifted_features": report.drifted_features,
                   "untested_features": report.untested_features},
            model_before=before, model_after=_current_sha(self.model_dir, fallback=before),
            window=window, reference=fingerprint, report=report, **details,
        )
        self._windows[fingerprint] = window
        if self.history is not None:
            # Written, and fsync'ed, before the decision is returned (and so reported).
            append_record(self.history, decision.to_dict())
        self.decision_ = decision
        return decision

    def _reference_data(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        stored = read_training_data(self.model_dir)
        target = self.config.target
        if stored is None:
            return self.reference.drop(columns=[target], errors="ignore"), self.train_data
        return stored.drop(columns=[target], errors="ignore"), stored

    def _next_window(self, fingerprint: str) -> int:
        if self.history is None:
            return self._windows.get(fingerprint, 0) + 1
        records = read_records(self.history).records
        return 1 + sum(1 for r in records if r.get("reference") == fingerprint)

    def reconcile_history(self) -> list[str]:
        """Repair what an interrupted run left: a promotion without its line, a torn line."""
        if self.history is None:
            return []
        journal = read_records(self.history)
        notes = []
        if journal.truncated_tail:
            notes.append(f"history: torn line(s) {journal.skipped_lines} from a killed "
                         "writer skipped")
        known = [r for r in journal.records if isinstance(r.get("model_after"), str)]
        try:
            current = read_metadata(self.model_dir)
        except InputError:
            return notes
        if not known or known[-1]["model_after"] == current["sha256"]:
            return notes
        lineage = current.get("lineage") or {}
        how = lineage.get("action", "an unrecorded save")
        record = {"outcome": "recovered", "timestamp": _now(), "recovered": True,
                  "model_before": known[-1]["model_after"], "model_after": current["sha256"],
                  "promoted": how == "promote",
                  "reasons": [f"production changed by a {how} that has no history line "
                              "(an interrupted run, or a change outside the monitor); "
                              "recorded now"]}
        append_record(self.history, record)
        return notes + record["reasons"]

    def _retrain_and_maybe_promote(
        self, production: Any, batch: pd.DataFrame, train_data: pd.DataFrame, before: str,
        production_ok: bool,
    ) -> tuple[str, str, dict[str, Any]]:
        target = self.config.target
        columns = list(train_data.columns)
        require_columns(batch, columns, source="batch")
        learn, holdout = _split_batch(batch[columns], target, self.holdout_share, self.config.seed)
        train_df = pd.concat([train_data, learn], ignore_index=True)
        candidate = train(self.config, train_df, holdout)
        production_holdout = evaluate(production.model, holdout, target, source="batch hold-out")
        thresholds = self.thresholds or GateThresholds(min_accuracy=self.min_accuracy)
        gate: GateResult = apply_gate(candidate.metrics, thresholds, production_holdout)
        cand_right, prod_right = _right(candidate.pipeline, production.model, holdout, target)
        cand_only, prod_only = paired_counts(cand_right, prod_right)
        verdict = self.rule.decide(cand_only, prod_only, len(holdout),
                                   production_ok=production_ok)
        details = {
            "candidate_metrics": candidate.metrics,
            "production_holdout_metrics": production_holdout,
            "gate": gate.to_dict(),
            "evidence": {"candidate_only": cand_only, "production_only": prod_only,
                         "n": len(holdout), "low": verdict.interval.low,
                         "high": verdict.interval.high, "production_ok": production_ok},
        }
        if not gate.passed:
            failed = "; ".join(f"{r.name} {r.metric} {r.value:.4f} < {r.limit:.4f}"
                               for r in gate.failures)
            return "rejected", f"candidate rejected: quality gate failed ({failed})", details
        if not verdict.promote:
            return "rejected", f"candidate rejected: {verdict.reason}", details
        save_model(
            candidate.pipeline, self.model_dir, config=self.config, metrics=candidate.metrics,
            data=train_df, keep_data=True, action="promote", expect_sha256=before,
            extra={"promoted_by": "monitor", "replaces": before, "n_train": candidate.n_train,
                   # The promoted model serves the rows it was trained on, as `mlcicd train`'s.
                   "input_schema": infer_input_schema(split_xy(train_df, target)[0])},
        )
        return "promoted", f"candidate promoted: gate passed, {verdict.reason}", details


def _right(candidate: Any, production: Any, holdout: pd.DataFrame,
           target: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = split_xy(holdout, target, source="batch hold-out")
    truth = np.asarray(y)
    answers = [np.asarray(model.predict(model_features(model, X, source="batch hold-out")))
               for model in (candidate, production)]
    return answers[0] == truth, answers[1] == truth


def _split_batch(
    batch: pd.DataFrame, target: str, holdout_share: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = batch[target].value_counts()
    stratify = batch[target] if len(counts) > 1 and counts.min() >= 2 else None
    try:
        learn, holdout = train_test_split(
            batch, test_size=holdout_share, random_state=seed, stratify=stratify
        )
    except ValueError as exc:
        raise InputError(f"batch of {len(batch)} rows is too small to split: {exc}") from None
    return learn, holdout


def _checked_history_path(history: Any, model_dir: Path) -> Path | None:
    """Refuse a history path that cannot be appended to, before anything changes."""
    if history is None:
        return None
    path = Path(history)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{path}: history path is a folder, expected a JSON-lines file")
    if path.exists() and not path.is_file():  # appending to a fifo would block forever
        raise InputError(f"{path}: history path is not a regular file, expected a JSON-lines file")
    if not parent.is_dir():
        raise InputError(f"{path}: cannot write the history (folder {parent} not found)")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"{path}: cannot write the history (permission denied)")
    try:
        inside = path.resolve().is_relative_to(model_dir.resolve())
    except OSError:
        inside = False
    if inside:
        raise InputError(f"{path}: the history may not live inside the artifact folder")
    read_records(path)  # a corrupt history is refused now, not after a promotion
    return path


def _current_sha(model_dir: Path, fallback: str) -> str:
    try:
        return str(read_metadata(model_dir)["sha256"])
    except InputError:
        return fallback


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_history(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The decisions recorded in a JSON-lines history, oldest first (torn lines skipped)."""
    return read_records(path).records
