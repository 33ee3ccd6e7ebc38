"""Safe saving and loading of models: skops files, SHA-256 checks and provenance.

A model artifact is a folder::

    model-<sha12>.skops   the model, serialised with skops (never pickle); the name
                          holds the first 12 hex digits of the file's SHA-256, so a new
                          save never overwrites the file the current metadata points at
    metrics.json          the model's metrics alone, for the quality gate
    metadata.json         the commit point, written last and atomically: the model
                          file's name, size and SHA-256, library versions, training
                          config, data fingerprint, metrics, feature names and classes

A crash at any point of :func:`save_model` leaves the previous artifact loadable and
unchanged. :func:`load_model` checks the size and the SHA-256 of the model file before
it reads a byte of it as a model, and loads it with skops against an explicit
allow-list (:data:`ALLOWED_TYPES`): a file that was edited, truncated or that holds an
unexpected type is refused with an :class:`~mlcicd.errors.ArtifactError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import skops
import skops.io as sio

from mlcicd import __version__
from mlcicd.errors import ArtifactError, InputError
from mlcicd.io import atomic_write_bytes, read_json, write_json

__all__ = [
    "ALLOWED_TYPES",
    "METADATA_FILE",
    "METRICS_FILE",
    "METADATA_KEYS",
    "LoadedModel",
    "save_model",
    "load_model",
    "read_metadata",
    "read_metrics",
    "data_fingerprint",
    "library_versions",
]

METADATA_FILE = "metadata.json"
METRICS_FILE = "metrics.json"

#: Keys every ``metadata.json`` carries.
METADATA_KEYS = (
    "model_file",
    "sha256",
    "size_bytes",
    "created_at",
    "versions",
    "config",
    "data_fingerprint",
    "metrics",
    "feature_names",
    "classes",
    "extra",
)

#: Types skops does not trust by default that our pipelines need, found by running
#: ``skops.io.get_untrusted_types`` on a fitted pipeline of each model in
#: :data:`mlcicd.training.MODELS`: the random forest and gradient boosting report
#: ``numpy.dtype`` and ``sklearn.tree._tree.Tree``, the logistic regression reports
#: ``numpy.dtype``. The estimators themselves (Pipeline, SimpleImputer, StandardScaler,
#: the classifiers, their trees, RandomState and loss objects) are on skops' own
#: default trusted list. Anything else is refused.
ALLOWED_TYPES: tuple[str, ...] = ("numpy.dtype", "sklearn.tree._tree.Tree")

_MODEL_FILE_RE = re.compile(r"^model-[0-9a-f]{12}\.skops$")


@dataclass(frozen=True)
class LoadedModel:
    """A model read back from an artifact folder, with what we know about it.

    Attributes
    ----------
    model : Any
        The fitted estimator (usually a scikit-learn ``Pipeline``).
    metadata : dict
        The content of ``metadata.json``.
    path : Path
        The model file that was loaded (its folder is :attr:`directory`).
    """

    model: Any
    metadata: dict[str, Any]
    path: Path

    @property
    def directory(self) -> Path:
        """The artifact folder."""
        return self.path.parent

    @property
    def metrics(self) -> dict[str, Any]:
        """The metrics recorded when the model was saved."""
        return dict(self.metadata.get("metrics") or {})

    @property
    def version_mismatches(self) -> dict[str, tuple[str, str]]:
        """Libraries whose version differs now from save time: name -> (saved, running).

        A model saved with another scikit-learn may predict differently; deployment
        code can refuse or warn on a non-empty answer.
        """
        saved = self.metadata.get("versions") or {}
        running = library_versions()
        return {
            name: (str(saved[name]), version)
            for name, version in running.items()
            if name in saved and str(saved[name]) != version
        }


def library_versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on.

    >>> sorted(library_versions())
    ['mlcicd', 'numpy', 'pandas', 'python', 'scikit-learn', 'skops']
    """
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "mlcicd": __version__,
    }


def data_fingerprint(df: pd.DataFrame) -> str:
    """SHA-256 of the data's canonical CSV bytes (header, no index, ``\\n`` line ends).

    Two frames with the same columns, order and values have the same fingerprint,
    whatever their index; a single changed cell changes it.

    >>> a = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    >>> data_fingerprint(a) == data_fingerprint(a.set_axis([10, 11]))
    True
    >>> data_fingerprint(a) == data_fingerprint(a.assign(x=[1.0, 2.5]))
    False
    >>> len(data_fingerprint(a))
    64
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"data_fingerprint needs a pandas DataFrame, got {type(df).__name__}")
    csv = df.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(csv.encode("utf-8")).hexdigest()


def save_model(
    model: Any,
    directory: str | os.PathLike[str],
    *,
    config: Mapping[str, Any] | Any | None = None,
    metrics: Mapping[str, Any] | None = None,
    data: pd.DataFrame | str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save a fitted model and its provenance into ``directory``; return the model file.

    Parameters
    ----------
    model
        A fitted scikit-learn estimator made only of types skops trusts plus
        :data:`ALLOWED_TYPES` (checked before anything is written).
    directory
        The artifact folder; created when missing. A previous artifact in it is
        replaced only when the new ``metadata.json`` is in place.
    config
        The training configuration: a mapping, or an object with ``to_dict()`` such as
        :class:`~mlcicd.training.TrainConfig`.
    metrics
        Metrics to record in ``metadata.json`` and ``metrics.json``.
    data
        The training data (its :func:`data_fingerprint` is recorded) or a fingerprint.
    extra
        Free-form, JSON-friendly provenance (file names, notes).

    Returns
    -------
    Path
        The content-addressed model file ``directory/model-<sha12>.skops``.
    """
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise ArtifactError(f"{folder}: exists and is not a folder")
    payload = _dumps_checked(model)
    digest = hashlib.sha256(payload).hexdigest()
    model_path = folder / f"model-{digest[:12]}.skops"
    metadata = {
        "model_file": model_path.name,
        "sha256": digest,
        "size_bytes": len(payload),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": library_versions(),
        "config": _config_dict(config),
        "data_fingerprint": _fingerprint_of(data),
        "metrics": dict(metrics) if metrics is not None else {},
        "feature_names": _feature_names(model),
        "classes": _classes(model),
        "extra": dict(extra) if extra is not None else {},
    }
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(model_path, payload)
    metrics_path = folder / METRICS_FILE
    previous_metrics = metrics_path.read_bytes() if metrics_path.is_file() else None
    try:
        write_json(metrics_path, metadata["metrics"])
        write_json(folder / METADATA_FILE, metadata)
    except BaseException:
        # The commit did not happen: put the old metrics back beside the old metadata.
        if previous_metrics is not None:
            atomic_write_bytes(metrics_path, previous_metrics)
        else:
            with contextlib.suppress(FileNotFoundError):
                metrics_path.unlink()
        raise
    _remove_stale_models(folder, keep=model_path.name)
    return model_path


def read_metadata(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``metadata.json`` of an artifact folder (without loading the model)."""
    folder = Path(directory)
    meta_path = folder / METADATA_FILE
    if not folder.is_dir():
        raise ArtifactError(f"{folder}: no model artifact here (folder not found)")
    if not meta_path.is_file():
        raise ArtifactError(f"{folder}: no model artifact here ({METADATA_FILE} not found)")
    try:
        metadata = read_json(meta_path)
    except InputError as exc:
        raise ArtifactError(f"{exc} (corrupt artifact metadata)") from None
    if not isinstance(metadata, dict):
        raise ArtifactError(f"{meta_path}: corrupt artifact metadata (not a JSON object)")
    missing = [key for key in METADATA_KEYS if key not in metadata]
    if missing:
        raise ArtifactError(f"{meta_path}: missing key(s) {', '.join(map(repr, missing))}")
    if not isinstance(metadata["size_bytes"], int) or not isinstance(metadata["sha256"], str):
        raise ArtifactError(f"{meta_path}: invalid size_bytes or sha256")
    model_file = metadata["model_file"]
    if not isinstance(model_file, str) or not _MODEL_FILE_RE.match(model_file):
        raise ArtifactError(f"{meta_path}: invalid model_file {model_file!r}")
    return metadata


def read_metrics(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The metrics of the committed artifact in ``directory`` (from ``metadata.json``)."""
    return dict(read_metadata(directory).get("metrics") or {})


def load_model(directory: str | os.PathLike[str]) -> LoadedModel:
    """Load the model of an artifact folder after checking its size and SHA-256.

    Raises
    ------
    ArtifactError
        When the folder, ``metadata.json`` or the model file is missing or corrupt,
        when the model file's size or hash differs from the metadata (edited or
        truncated file), or when it holds a type outside the allow-list.
    """
    metadata = read_metadata(directory)
    model_path = Path(directory) / metadata["model_file"]
    if not model_path.is_file():
        raise ArtifactError(f"{model_path}: model file not found")
    payload = model_path.read_bytes()
    expected = str(metadata["sha256"])
    actual = hashlib.sha256(payload).hexdigest()
    if len(payload) != metadata["size_bytes"]:
        raise ArtifactError(
            f"{model_path}: size {len(payload)} bytes, expected {metadata['size_bytes']} "
            f"(truncated or replaced; sha256 {actual[:12]}..., expected {expected[:12]}...)"
        )
    if actual != expected:
        raise ArtifactError(
            f"{model_path}: sha256 mismatch, file was changed "
            f"(expected {expected[:12]}..., got {actual[:12]}...)"
        )
    # The bytes we hashed are the bytes we load: no window for a swap in between.
    _check_types(payload, source=str(model_path))
    try:
        model = sio.loads(payload, trusted=list(ALLOWED_TYPES))
    except Exception as exc:  # skops raises many kinds on a malformed file
        reason = f"{type(exc).__name__}: {exc}"
        raise ArtifactError(f"{model_path}: cannot load model ({reason})") from None
    return LoadedModel(model=model, metadata=metadata, path=model_path)


def _dumps_checked(model: Any) -> bytes:
    try:
        payload = sio.dumps(model)
    except Exception as exc:  # skops refuses objects it cannot represent
        raise ArtifactError(f"cannot serialise {type(model).__name__} with skops: {exc}") from None
    _check_types(payload, source=f"model {type(model).__name__}")
    return payload


def _check_types(payload: bytes, *, source: str) -> None:
    try:
        untrusted = sio.get_untrusted_types(data=payload)
    except Exception as exc:
        raise ArtifactError(f"{source}: not a valid skops file ({type(exc).__name__})") from None
    refused = sorted(set(untrusted) - set(ALLOWED_TYPES))
    if refused:
        raise ArtifactError(
            f"{source}: holds type(s) outside the allow-list: {', '.join(refused)}"
        )


def _config_dict(config: Any) -> dict[str, Any] | None:
    if config is None:
        return None
    if hasattr(config, "to_dict"):
        return dict(config.to_dict())
    return dict(config)


def _fingerprint_of(data: pd.DataFrame | str | None) -> str | None:
    if data is None or isinstance(data, str):
        return data
    return data_fingerprint(data)


def _feature_names(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _classes(model: Any) -> list[Any] | None:
    classes = getattr(model, "classes_", None)
    if classes is None:
        return None
    return [c.item() if isinstance(c, np.generic) else c for c in np.asarray(classes)]


def _remove_stale_models(folder: Path, *, keep: str) -> None:
    for path in folder.glob("model-*.skops"):
        if path.name != keep:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
