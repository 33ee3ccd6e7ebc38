"""What the router holds: model versions, the inputs they accept, and the traffic split.

A request whose features a model cannot take is the client's fault, not the model's:
:class:`FeatureLimits` says which rows a version accepts, so a server can refuse a bad
row (HTTP 422) before any model runs and never count it as a model error.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlcicd.errors import InputError
from mlcicd.params import Real, check, is_number

__all__ = ["FeatureLimits", "MAX_ABS_FEATURE", "ModelVersion", "RoutingTable"]

#: Largest magnitude accepted for a feature without a schema bound: the largest float32,
#: since many models (trees, for one) compute in float32 and fail beyond it.
MAX_ABS_FEATURE = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class ModelVersion:
    """A model (anything with ``predict``) and the version string that names it.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> m = DummyClassifier().fit([[0], [1]], [0, 1])
    >>> ModelVersion(m, "v1").version
    'v1'
    >>> ModelVersion(object(), "v1")
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: model for version 'v1' has no predict method
    """

    model: Any
    version: str
    #: The model's input schema (``Schema.to_dict()`` form), when its artifact has one.
    input_schema: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version.strip():
            raise InputError(f"model version must be a non-empty string, got {self.version!r}")
        if not callable(getattr(self.model, "predict", None)):
            raise InputError(f"model for version {self.version!r} has no predict method")

    @classmethod
    def from_artifact(cls, directory: str | Path, version: str | None = None) -> ModelVersion:
        """Load a model saved by :func:`mlcicd.artifacts.save_model`, checking its hash.

        An artifact that fails its SHA-256 check raises
        :class:`~mlcicd.errors.ArtifactError` (an ``InputError``). The version defaults
        to ``"sha-"`` and the first 12 hex digits of the model file's hash.
        """
        from mlcicd.artifacts import load_model

        loaded = load_model(directory)
        if version is None:
            version = f"sha-{str(loaded.metadata.get('sha256', ''))[:12]}"
        meta = loaded.metadata
        extra = meta.get("extra") if isinstance(meta.get("extra"), Mapping) else {}
        schema = meta.get("input_schema") or extra.get("input_schema")
        return cls(loaded.model, version, schema if isinstance(schema, Mapping) else None)

    @functools.cached_property
    def limits(self) -> FeatureLimits:
        """The rows this version accepts (computed once)."""
        return FeatureLimits.of(self)


@dataclass(frozen=True, eq=False)
class FeatureLimits:
    """Which rows of features a model accepts: width, bounds and missing values.

    From the model's input schema when it has one (per column ``min``, ``max`` and
    ``nullable``, matched to the model's feature names); otherwise only the width the
    model was fitted on and finite values within :data:`MAX_ABS_FEATURE`.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> m = DummyClassifier().fit([[0.0, 1.0], [1.0, 2.0]], [0, 1])
    >>> schema = {"columns": {"a": {"min": 0, "max": 1}, "b": {"nullable": False}}}
    >>> limits = ModelVersion(m, "v1", input_schema=schema).limits
    >>> limits.problem(np.array([0.5, 3.0])) is None
    True
    >>> limits.problem(np.array([2.0, 3.0]))
    'feature 0 (a) = 2 is above its maximum 1'
    >>> limits.problem(np.array([0.5, np.nan]))
    'feature 1 (b) is missing and may not be'
    >>> ModelVersion(m, "v2").limits.problem(np.array([1e308, 0.0]))
    'feature 0 = 1e+308 is beyond +-3.40282e+38'
    """

    width: int | None
    low: np.ndarray
    high: np.ndarray
    nullable: np.ndarray
    names: tuple[str, ...] | None = None

    @classmethod
    def of(cls, held: ModelVersion) -> FeatureLimits:
        """The limits of a model version (see the class docstring)."""
        model = held.model
        names = getattr(model, "feature_names_in_", None)
        names = None if names is None else tuple(str(n) for n in names)
        width = getattr(model, "n_features_in_", None)
        columns = (held.input_schema or {}).get("columns")
        if isinstance(columns, Mapping) and columns:
            order = names if names is not None else tuple(str(c) for c in columns)
            rules = [columns.get(name) or {} for name in order]
            rules = [r if isinstance(r, Mapping) else {} for r in rules]
            return cls(len(order) if width is None else int(width),
                       np.array([_bound(r.get("min"), -MAX_ABS_FEATURE) for r in rules]),
                       np.array([_bound(r.get("max"), MAX_ABS_FEATURE) for r in rules]),
                       np.array([r.get("nullable", True) is not False for r in rules]),
                       order)
        n = None if width is None else int(width)
        return cls(n, np.array([-MAX_ABS_FEATURE]), np.array([MAX_ABS_FEATURE]),
                   np.array([True]), names)

    def problem(self, row: np.ndarray) -> str | None:
        """What is wrong with ``row`` (a float array, NaN = missing), or ``None``."""
        if self.width is not None and len(row) != self.width:
            return f"expected {self.width} features, got {len(row)}"
        if len(self.low) != len(row) and len(self.low) != 1:
            return f"expected {len(self.low)} features, got {len(row)}"
        present = ~np.isnan(row)
        missing = np.flatnonzero(~present & ~self.nullable)
        if len(missing):
            return f"{self._name(missing[0])} is missing and may not be"
        with np.errstate(invalid="ignore"):
            low = np.flatnonzero(present & (row < self.low))
            high = np.flatnonzero(present & (row > self.high))
        for index, side, bound in ((low, "below its minimum", self.low),
                                   (high, "above its maximum", self.high)):
            if len(index):
                i = int(index[0])
                limit = float(bound[i if len(bound) > 1 else 0])
                if abs(limit) == MAX_ABS_FEATURE:
                    return f"{self._name(i)} = {row[i]:.6g} is beyond +-{MAX_ABS_FEATURE:.6g}"
                return f"{self._name(i)} = {row[i]:.6g} is {side} {limit:.6g}"
        return None

    def _name(self, i: int) -> str:
        named = self.names is not None and i < len(self.names)
        return f"feature {i} ({self.names[i]})" if named else f"feature {i}"


def _bound(value: Any, default: float) -> float:
    return float(value) if is_number(value) else default


@dataclass(frozen=True)
class RoutingTable:
    """Ordered ``(slot, weight)`` pairs summing to 1, and the hash salt.

    Examples
    --------
    >>> t = RoutingTable((("canary", 0.1), ("stable", 0.9)), salt="c")
    >>> t.slot_for(0.05), t.slot_for(0.5)
    ('canary', 'stable')
    """

    weights: tuple[tuple[str, float], ...]
    salt: str = ""

    def __post_init__(self) -> None:
        if not self.weights:
            raise InputError("a routing table needs at least one slot")
        names = [name for name, _ in self.weights]
        if len(set(names)) != len(names):
            raise InputError(f"routing table names a slot twice: {names}")
        for name, w in self.weights:
            check("RoutingTable", f"weight of slot {name!r}", w, Real(0, 1))
        total = sum(w for _, w in self.weights)
        if abs(total - 1.0) > 1e-9:
            raise InputError(f"slot weights must sum to 1, got {total:g}")

    @property
    def live(self) -> dict[str, float]:
        """Slots that receive traffic, with their weights."""
        return {name: w for name, w in self.weights if w > 0}

    def _edges(self) -> np.ndarray:
        edges = np.cumsum([w for _, w in self.weights])
        edges[-1] = np.inf  # rounding must never leave a bucket without a slot
        return edges

    def slot_for(self, bucket: float) -> str:
        """The slot that serves a request whose bucket is ``bucket``."""
        return self.weights[int(np.searchsorted(self._edges(), bucket, side="right"))][0]

    def slots_for(self, buckets: np.ndarray) -> np.ndarray:
        """Index (into ``weights``) of the slot serving each bucket."""
        return np.searchsorted(self._edges(), buckets, side="right")


def model_input(model: Any, rows: Any) -> Any:
    """``rows`` as the model expects them: a bare 2-D array gets the model's feature names.

    A pipeline fitted on a DataFrame warns on (and may mis-read) unnamed arrays; naming
    the columns keeps predictions identical and quiet. Anything else passes unchanged.

    >>> import pandas as pd
    >>> from sklearn.dummy import DummyClassifier
    >>> m = DummyClassifier().fit(pd.DataFrame({"a": [0.0, 1.0]}), [0, 1])
    >>> list(model_input(m, np.array([[0.5]])).columns)
    ['a']
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None or not isinstance(rows, np.ndarray) or rows.ndim != 2:
        return rows
    if rows.shape[1] != len(names):
        return rows
    import pandas as pd

    return pd.DataFrame(rows, columns=list(names))
