"""What the router holds: model versions, and the table that splits traffic between slots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlcicd.errors import InputError

__all__ = ["ModelVersion", "RoutingTable"]


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
        return cls(loaded.model, version)


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
            if not np.isfinite(w) or w < 0 or w > 1:
                raise InputError(f"weight of slot {name!r} must be in [0, 1], got {w!r}")
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
