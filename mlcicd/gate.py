"""The quality gate: clear thresholds a model must meet before it may ship.

A gate is a short YAML file, for example::

    min_accuracy: 0.90
    min_recall: 0.90
    max_regression: 0.01   # no metric may drop more than 1 point below the baseline
    regression_metrics: [accuracy, precision, recall, f1]   # the metrics that rule covers

:func:`apply_gate` checks a model's metrics against it and returns a
:class:`GateResult` listing every rule, passed or not, so a failing gate says at once
everything that is wrong, not just the first thing.

The file is the one statement of the release policy: the quality gate
(:func:`apply_gate`, ``mlcicd gate``), the pull-request comparison
(:func:`mlcicd.compare.compare_models` with ``thresholds=``, ``mlcicd compare
--thresholds``) and the pipeline (``ci/pr_check.sh``, ``ci/pipeline.sh``) all read
``max_regression`` and ``regression_metrics`` from it, so they cannot disagree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcicd.errors import CheckFailed, InputError
from mlcicd.io import read_json, read_yaml
from mlcicd.markdown import table
from mlcicd.params import Real, check

if TYPE_CHECKING:  # only to_frame needs pandas: `mlcicd gate` reads JSON and YAML
    import pandas as pd

__all__ = [
    "GATED_METRICS",
    "REGRESSION_METRIC_CHOICES",
    "GateRule",
    "GateResult",
    "GateThresholds",
    "apply_gate",
    "as_thresholds",
]

#: Metrics with a ``min_<metric>`` rule, and those ``max_regression`` covers by default.
GATED_METRICS = ("accuracy", "precision", "recall", "f1")
#: Metrics ``regression_metrics`` may name: every score of
#: :func:`mlcicd.metrics.classification_metrics` (``roc_auc`` when the model has scores).
REGRESSION_METRIC_CHOICES = (
    "accuracy", "precision", "recall", "f1", "precision_weighted", "recall_weighted",
    "f1_weighted", "roc_auc",
)

# Float noise must not fail a model that sits exactly on a threshold.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class GateThresholds:
    """Thresholds of the quality gate; every field is optional (``None`` = no rule).

    Parameters
    ----------
    min_accuracy, min_precision, min_recall, min_f1 : float or None
        Lowest acceptable value of each metric, in [0, 1].
    max_regression : float or None
        Largest absolute drop allowed below the baseline (0.01 = one percentage point),
        applied to each of ``regression_metrics``. Needs baseline metrics.
    regression_metrics : sequence of str or None
        The metrics ``max_regression`` covers, from :data:`REGRESSION_METRIC_CHOICES`;
        ``None`` means :data:`GATED_METRICS`. The pull-request comparison marks exactly
        these metrics pass or fail, so its verdict and the gate's always agree.

    Examples
    --------
    >>> GateThresholds.from_dict({"min_accuracy": 0.9, "max_regression": 0.01})
    GateThresholds(min_accuracy=0.9, min_precision=None, min_recall=None, min_f1=None, \
max_regression=0.01, regression_metrics=None)
    >>> GateThresholds(max_regression=0.02, regression_metrics=["accuracy"]).checked_metrics
    ('accuracy',)
    >>> GateThresholds.from_dict({"min_acuracy": 0.9})
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: thresholds: unknown key 'min_acuracy'; expected ...
    """

    min_accuracy: float | None = None
    min_precision: float | None = None
    min_recall: float | None = None
    min_f1: float | None = None
    max_regression: float | None = None
    regression_metrics: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self._check_regression_metrics()
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None or item.name == "regression_metrics":
                continue
            object.__setattr__(self, item.name, check("thresholds", item.name, value, Real(0, 1)))

    def _check_regression_metrics(self) -> None:
        names = self.regression_metrics
        if names is None:
            return
        if isinstance(names, str) or not isinstance(names, list | tuple):
            raise InputError(
                f"thresholds: regression_metrics must be a list of metric names, got {names!r}"
            )
        unknown = [n for n in names if n not in REGRESSION_METRIC_CHOICES]
        if not names or unknown:
            raise InputError(
                f"thresholds: regression_metrics has unknown or no names {unknown or names!r}; "
                f"expected some of {', '.join(REGRESSION_METRIC_CHOICES)}"
            )
        if len(set(names)) != len(names):
            raise InputError(f"thresholds: regression_metrics repeats a name: {list(names)}")
        object.__setattr__(self, "regression_metrics", tuple(names))

    @property
    def checked_metrics(self) -> tuple[str, ...]:
        """The metrics ``max_regression`` applies to (:data:`GATED_METRICS` by default)."""
        return self.regression_metrics or GATED_METRICS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "thresholds") -> GateThresholds:
        """Build thresholds from a mapping; an unknown key is an :class:`InputError`."""
        if not isinstance(data, Mapping):
            raise InputError(f"{source}: expected a mapping of threshold names to numbers")
        known = [item.name for item in fields(cls)]
        for key in data:
            if key not in known:
                raise InputError(
                    f"{source}: unknown key {key!r}; expected one of {', '.join(known)}"
                )
        try:
            thresholds = cls(**dict(data))
        except InputError as exc:
            raise InputError(str(exc).replace("thresholds:", f"{source}:", 1)) from None
        rules = {k: v for k, v in thresholds.to_dict().items() if k != "regression_metrics"}
        if all(value is None for value in rules.values()):
            raise InputError(f"{source}: no threshold set; expected at least one of "
                             f"{', '.join(known)}")
        return thresholds

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> GateThresholds:
        """Read thresholds from a YAML file (a flat mapping, as in the module docstring)."""
        source = Path(path)
        data = read_yaml(source)
        return cls.from_dict(data if data is not None else {}, source=str(source))

    def to_dict(self) -> dict[str, float | None]:
        """Plain dict of every field (``None`` for unset rules)."""
        return asdict(self)


@dataclass(frozen=True)
class GateRule:
    """One rule of the gate, checked.

    ``name`` is the threshold's key (``min_f1``, ``max_regression``); ``limit`` is the
    lowest acceptable ``value`` (for a regression rule: baseline minus the allowed drop).
    """

    name: str
    metric: str
    value: float
    limit: float
    passed: bool
    baseline: float | None = None

    @property
    def description(self) -> str:
        """The rule in words, e.g. ``accuracy >= 0.9000``."""
        if self.baseline is None:
            return f"{self.metric} >= {self.limit:.4f}"
        return f"{self.metric} >= baseline {self.baseline:.4f} - {self.baseline - self.limit:.4f}"


@dataclass(frozen=True)
class GateResult:
    """Outcome of :func:`apply_gate`: every rule with its value, limit and verdict."""

    passed: bool
    rules: list[GateRule]
    skipped: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[GateRule]:
        """The rules that failed."""
        return [rule for rule in self.rules if not rule.passed]

    def to_frame(self) -> pd.DataFrame:
        """One row per rule: rule, metric, value, limit, passed."""
        columns = ["rule", "metric", "value", "limit", "passed"]
        rows = [[r.name, r.metric, r.value, r.limit, r.passed] for r in self.rules]
        import pandas as pd

        return pd.DataFrame(rows, columns=columns)

    def to_markdown(self) -> str:
        """A heading with the verdict and a table of the rules (✅ / ❌)."""
        verdict = "passed ✅" if self.passed else "failed ❌"
        rows = [(rule.name, rule.metric, f"{rule.value:.4f}", f"{rule.limit:.4f}",
                 "✅" if rule.passed else "❌") for rule in self.rules]
        lines = [f"### Quality gate {verdict}", "",
                 table(rows, ("Rule", "Metric", "Value", "Limit", "Result"), align="llrrc")]
        lines += [f"\n_Skipped: {note}_" for note in self.skipped]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {
            "passed": self.passed,
            "rules": [asdict(rule) for rule in self.rules],
            "skipped": list(self.skipped),
        }

    def raise_if_failed(self) -> None:
        """Raise :class:`~mlcicd.errors.CheckFailed` naming the failed rules."""
        if not self.passed:
            failed = "; ".join(f"{r.name}: {r.metric} {r.value:.4f} < {r.limit:.4f}"
                               for r in self.failures)
            raise CheckFailed(f"quality gate failed: {failed}")


def apply_gate(
    metrics: Mapping[str, Any] | str | os.PathLike[str],
    thresholds: GateThresholds | Mapping[str, Any] | str | os.PathLike[str],
    baseline_metrics: Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> GateResult:
    """Check ``metrics`` against ``thresholds`` (and against a baseline's metrics).

    Parameters
    ----------
    metrics
        The candidate's metrics: a mapping, a JSON file, an artifact folder or its
        ``metadata.json`` (the artifact's metrics, read through its metadata;
        ``DIR/metrics.json`` of an artifact folder is read the same way).
    thresholds
        A :class:`GateThresholds`, a mapping or a YAML file.
    baseline_metrics
        The baseline's metrics, same forms as ``metrics``. Without them a
        ``max_regression`` rule is skipped (and listed in ``GateResult.skipped``).

    Returns
    -------
    GateResult

    Raises
    ------
    InputError
        A gated metric is missing or not a finite number, or the thresholds are invalid.

    Examples
    --------
    >>> gate = {"min_accuracy": 0.9, "max_regression": 0.01}
    >>> result = apply_gate({"accuracy": 0.93, "precision": 0.9, "recall": 0.95, "f1": 0.92},
    ...                     gate, baseline_metrics={"accuracy": 0.95, "precision": 0.9,
    ...                                             "recall": 0.95, "f1": 0.92})
    >>> result.passed, [rule.metric for rule in result.failures]
    (False, ['accuracy'])
    """
    gate = as_thresholds(thresholds)
    regression = gate.max_regression is not None and baseline_metrics is not None
    minimums = {m: getattr(gate, f"min_{m}") for m in GATED_METRICS}
    needed = [m for m in GATED_METRICS if minimums[m] is not None]
    if regression:
        needed += [m for m in gate.checked_metrics if m not in needed]
    values = _metric_values(_as_metrics(metrics, "metrics"), needed)
    rules: list[GateRule] = []
    skipped: list[str] = []
    for metric, limit in minimums.items():
        if limit is not None:
            value = values[metric]
            rules.append(GateRule(f"min_{metric}", metric, value, limit,
                                  value >= limit - _TOLERANCE))
    if gate.max_regression is not None:
        if baseline_metrics is None:
            skipped.append("max_regression (no baseline metrics given)")
        else:
            base = _metric_values(_as_metrics(baseline_metrics, "baseline metrics"), needed)
            for metric in gate.checked_metrics:
                value, reference = values[metric], base[metric]
                limit = reference - gate.max_regression
                rules.append(GateRule("max_regression", metric, value, limit,
                                      value >= limit - _TOLERANCE, baseline=reference))
    return GateResult(passed=all(rule.passed for rule in rules), rules=rules, skipped=skipped)


def as_thresholds(thresholds: Any) -> GateThresholds:
    """A :class:`GateThresholds` from itself, a mapping or a YAML path."""
    if isinstance(thresholds, GateThresholds):
        return thresholds
    if isinstance(thresholds, Mapping):
        return GateThresholds.from_dict(thresholds)
    if isinstance(thresholds, str | os.PathLike):
        return GateThresholds.from_yaml(thresholds)
    raise InputError(
        f"thresholds must be GateThresholds, a mapping or a YAML path, "
        f"got {type(thresholds).__name__}"
    )


def _as_metrics(metrics: Any, label: str) -> Mapping[str, Any]:
    if isinstance(metrics, str | os.PathLike):
        label = str(metrics)
        metrics = _read_metrics_file(Path(metrics))
    if not isinstance(metrics, Mapping):
        raise InputError(f"{label}: expected a mapping of metric names to numbers")
    nested = metrics.get("metrics")
    # An artifact's metadata.json holds the metrics under "metrics": accept it as is.
    if isinstance(nested, Mapping) and not any(m in metrics for m in GATED_METRICS):
        metrics = nested
    return _Labelled(metrics, label)


def _read_metrics_file(path: Path) -> Any:
    # An artifact folder (or its DIR/metrics.json): read the metrics through the
    # metadata, which checks them against the SHA-256 the commit recorded.
    from mlcicd.artifacts import METADATA_FILE, read_metrics

    if path.is_dir():
        return read_metrics(path)
    beside = path.parent / METADATA_FILE
    if path.name == "metrics.json" and beside.is_file():
        return read_metrics(path.parent)
    return read_json(path)


class _Labelled(dict):
    """A metrics mapping that remembers where it came from, for error messages."""

    def __init__(self, data: Mapping[str, Any], label: str) -> None:
        super().__init__(data)
        self.label = label


def _metric_values(metrics: Mapping[str, Any], names: list[str]) -> dict[str, float]:
    label = getattr(metrics, "label", "metrics")
    missing = [name for name in names if name not in metrics]
    if missing:
        keys = "key" if len(missing) == 1 else "keys"
        raise InputError(
            f"{label}: missing {keys} {', '.join(map(repr, missing))} needed by the gate; "
            f"found {', '.join(map(repr, sorted(metrics))) or 'no keys'}"
        )
    values = {}
    for name in names:
        # Every gated metric is a share of rows: 7.5 is a broken metrics file, not a great model.
        values[name] = check(label, repr(name), metrics[name], Real(0, 1))
    return values
