"""The monitoring cycle: check drift and accuracy, retrain, gate, promote, remember.

One call of :meth:`Monitor.run` with a new labelled batch does, in order:

1. load the production model (:func:`mlcicd.artifacts.load_model`, hash-checked);
2. test the batch's features for drift against the reference data (:func:`detect_drift`);
3. measure the production model's accuracy on the batch (:func:`mlcicd.training.evaluate`);
4. if drift was found or the accuracy is under ``min_accuracy``, retrain: the batch is
   split (stratified, seeded) into a part added to the training data and a hold-out
   part; the candidate is trained with the configured :class:`~mlcicd.training.TrainConfig`
   on *training data + that part of the batch*, so it learns the new regime while
   keeping the old one, and both models are scored on the hold-out, data neither saw;
5. promote the candidate only when it passes the quality gate
   (:func:`mlcicd.gate.apply_gate`, with the production model's hold-out metrics as
   baseline) *and* is at least as accurate as the production model on the hold-out;
   promotion is :func:`mlcicd.artifacts.save_model`, whose ``metadata.json`` commit
   point makes it all-or-nothing;
6. append the decision, its reasons and its figures to a JSON-lines history.

A failure while retraining or promoting is recorded (outcome ``"failed"``) and leaves
the production model as it was.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

from mlcicd.artifacts import load_model, read_metadata, save_model
from mlcicd.drift.detect import detect_drift
from mlcicd.drift.report import DriftReport
from mlcicd.errors import InputError
from mlcicd.gate import GateResult, GateThresholds, apply_gate
from mlcicd.io import atomic_write_bytes, json_safe, require_columns
from mlcicd.training import TrainConfig, evaluate, train

__all__ = ["Monitor", "MonitorDecision", "OUTCOMES", "append_history", "read_history"]

#: ``no retrain``: nothing wrong; ``promoted``: a retrained model replaced production;
#: ``rejected``: a retrained model failed the gate or was not better; ``failed``: an error
#: stopped the retraining or the promotion (production untouched).
OUTCOMES = ("no retrain", "promoted", "rejected", "failed")


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
    candidate_metrics: dict[str, float] | None = None
    production_holdout_metrics: dict[str, float] | None = None
    gate: dict[str, Any] | None = None
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
        Data the drift of each batch is measured against, usually the training data.
    train_data : DataFrame
        Labelled data a retrained model learns from, together with part of the batch.
    config : TrainConfig, optional
        How to retrain (default ``TrainConfig()``); ``config.target`` is the label column.
    thresholds : GateThresholds, optional
        The candidate's quality gate (default: ``min_accuracy`` only).
    min_accuracy : float
        Retrain when the production model's accuracy on the batch is below this.
    alpha, correction, drift_share
        Drift rule, as in :func:`~mlcicd.drift.detect_drift`.
    holdout_share : float
        Share of the batch kept out of retraining to compare the two models (0.5).
    history : path, optional
        JSON-lines file each decision is appended to (rewritten atomically).

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
    >>> Xb, yb = make_drifted("covariate", 1.0, n=200, seed=1)
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
        history: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(min_accuracy, int | float) or not 0.0 <= min_accuracy <= 1.0:
            raise InputError(f"min_accuracy must be in [0, 1], got {min_accuracy!r}")
        if not isinstance(holdout_share, int | float) or not 0.0 < holdout_share < 1.0:
            raise InputError(f"holdout_share must be in (0, 1), got {holdout_share!r}")
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
        self.history = Path(history) if history is not None else None
        require_columns(train_data, [self.config.target], source="training data")

    def run(self, batch: pd.DataFrame) -> MonitorDecision:
        """One cycle on a new labelled ``batch``; the decision is also in ``decision_``."""
        target = self.config.target
        if not isinstance(batch, pd.DataFrame) or len(batch) < 2:
            raise InputError("batch must be a DataFrame with at least 2 labelled rows")
        require_columns(batch, [target], source="batch")
        production = load_model(self.model_dir)
        before = str(production.metadata["sha256"])
        report = detect_drift(
            self.reference,
            batch,
            alpha=self.alpha,
            correction=self.correction,
            exclude=[target],
            drift_share=self.drift_share,
        )
        batch_metrics = evaluate(production.model, batch, target, source="batch")
        accuracy = batch_metrics["accuracy"]
        triggers = []
        if report.drifted:
            triggers.append("data drift in " + ", ".join(map(str, report.drifted_features)))
        if accuracy < self.min_accuracy:
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
                outcome, why, details = self._retrain_and_maybe_promote(production, batch, before)
                reasons.append(why)
            except Exception as exc:  # any failure must leave production as it was
                outcome = "failed"
                details = {"error": f"{type(exc).__name__}: {exc}"}
                reasons.append("retraining or promotion failed; the production model is unchanged")
        decision = MonitorDecision(
            outcome=outcome,
            retrained=bool(triggers),
            promoted=outcome == "promoted",
            reasons=reasons,
            timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
            batch_rows=len(batch),
            batch_metrics=batch_metrics,
            min_accuracy=self.min_accuracy,
            drift={
                "drifted": report.drifted,
                "summary": report.summary(),
                "drifted_features": report.drifted_features,
                "untested_features": report.untested_features,
            },
            model_before=before,
            model_after=_current_sha(self.model_dir, fallback=before),
            report=report,
            **details,
        )
        self.decision_ = decision
        if self.history is not None:
            append_history(self.history, decision.to_dict())
        return decision

    def _retrain_and_maybe_promote(
        self, production: Any, batch: pd.DataFrame, before: str
    ) -> tuple[str, str, dict[str, Any]]:
        target = self.config.target
        columns = list(self.train_data.columns)
        require_columns(batch, columns, source="batch")
        learn, holdout = _split_batch(batch[columns], target, self.holdout_share, self.config.seed)
        train_df = pd.concat([self.train_data, learn], ignore_index=True)
        candidate = train(self.config, train_df, holdout)
        production_holdout = evaluate(production.model, holdout, target, source="batch hold-out")
        thresholds = self.thresholds or GateThresholds(min_accuracy=self.min_accuracy)
        gate: GateResult = apply_gate(candidate.metrics, thresholds, production_holdout)
        new_acc, old_acc = candidate.metrics["accuracy"], production_holdout["accuracy"]
        details = {
            "candidate_metrics": candidate.metrics,
            "production_holdout_metrics": production_holdout,
            "gate": gate.to_dict(),
        }
        compared = f"{new_acc:.4f} vs production {old_acc:.4f} on {len(holdout)} held-out rows"
        if not gate.passed:
            failed = "; ".join(f"{r.name} {r.metric} {r.value:.4f} < {r.limit:.4f}"
                               for r in gate.failures)
            return "rejected", f"candidate rejected: quality gate failed ({failed})", details
        if new_acc < old_acc:
            return "rejected", f"candidate rejected: less accurate ({compared})", details
        save_model(
            candidate.pipeline,
            self.model_dir,
            config=self.config,
            metrics=candidate.metrics,
            data=train_df,
            extra={"promoted_by": "monitor", "replaces": before, "n_train": candidate.n_train},
        )
        return "promoted", f"candidate promoted: gate passed, accuracy {compared}", details


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


def _current_sha(model_dir: Path, fallback: str) -> str:
    try:
        return str(read_metadata(model_dir)["sha256"])
    except InputError:
        return fallback


def append_history(path: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Add one JSON line to ``path``; the whole file is rewritten atomically."""
    target = Path(path)
    previous = target.read_bytes() if target.is_file() else b""
    if previous and not previous.endswith(b"\n"):
        previous += b"\n"
    line = json.dumps(json_safe(record), sort_keys=True, allow_nan=False) + "\n"
    return atomic_write_bytes(target, previous + line.encode("utf-8"))


def read_history(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The decisions recorded in a JSON-lines history, oldest first."""
    source = Path(path)
    if not source.is_file():
        return []
    records = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{source}:{number}: not valid JSON ({exc})") from None
    return records
