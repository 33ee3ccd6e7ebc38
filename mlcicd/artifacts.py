"""Safe saving and loading of models: skops files, SHA-256 checks and provenance.

A model artifact is a folder::

    model-<sha12>.skops     the model, serialised with skops (never pickle) and rewritten
                            canonically (:mod:`mlcicd.canonical`): the same config, data
                            and seed give the same bytes, hence the same SHA-256 and name
    metrics-<sha12>.json    the model's metrics, named after the SHA-256 of its bytes
    data-<sha12>.csv        the training data (optional, ``keep_data=True``): the
                            monitor's drift reference follows the model it came with
    deployment-<n>/         one folder per commit: its metadata.json and metrics.json,
                            never changed afterwards (the lineage a rollback goes back on)
    current                 symlink to the committed deployment: the commit point
    metadata.json           -> current/metadata.json: names the model, metrics and data
                            files it owns (with their SHA-256), library versions, config,
                            data fingerprint, metrics, feature names, classes, lineage
    metrics.json            -> current/metrics.json: always the committed model's metrics
    .lock                   the writers' lock

Why it cannot lose a commit:

* **One writer at a time.** :func:`save_model` (and :func:`commit_metadata`, which the
  registry's promote and rollback use) hold an ``flock`` on ``.lock``; a second writer
  waits up to :data:`~mlcicd.journal.LOCK_TIMEOUT` seconds, then fails with an
  :class:`~mlcicd.errors.ArtifactError`. A killed writer's lock dies with it.
* **Nothing named by a commit is ever half-written.** Every file is content-addressed
  and written atomically *before* the commit names it, and the commit is one atomic
  rename of the ``current`` link, which ``metadata.json`` and ``metrics.json`` both go
  through: after a crash at any point the folder holds the previous commit or the new
  one, and the two names never disagree (:mod:`mlcicd.artifact_store`).
  :func:`read_metrics` and the gate read the metrics through the metadata.
* **Pruning never removes what a reader may open.** Under the lock a writer deletes
  temp files of dead writers and files no recent deployment names; the files of the
  last :data:`KEEP_DEPLOYMENTS` deployments (so the model a rollback returns to, and
  the one a slow reader has just read the name of) are kept. :func:`load_model`
  re-reads the metadata when a commit happened between its two reads.

:func:`load_model` checks the size and the SHA-256 of the model file before it reads a
byte of it as a model, and loads it with skops against an explicit allow-list
(:data:`ALLOWED_TYPES`): a file that was edited, truncated or that holds an unexpected
type is refused with an :class:`~mlcicd.errors.ArtifactError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcicd.artifact_store import bookkeeping_problem, commit
from mlcicd.canonical import canonical_skops
from mlcicd.errors import ArtifactError, InputError
from mlcicd.io import json_safe, read_json
from mlcicd.journal import LOCK_TIMEOUT
from mlcicd.params import Choice, check, is_integer
from mlcicd.provenance import (
    canonical_csv,
    classes,
    config_dict,
    data_fingerprint,
    feature_names,
    fingerprint_of,
    library_versions,
)
from mlcicd.safe_parse import short_repr

if TYPE_CHECKING:  # imported where a frame is handled: `mlcicd gate` reads metadata only
    import pandas as pd

__all__ = [
    "ALLOWED_TYPES",
    "ACTIONS",
    "METADATA_FILE",
    "METADATA_KEYS",
    "LoadedModel",
    "save_model",
    "load_model",
    "read_metadata",
    "read_metrics",
    "read_training_data",
    "read_regular_file",
    "lineage",
    "data_fingerprint",
    "library_versions",
]

METADATA_FILE = "metadata.json"
#: What a commit did, recorded in its lineage: a plain save, a promotion of a retrained
#: or released model, a rollback to an earlier deployment.
ACTIONS = ("save", "promote", "rollback")

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
_METRICS_FILE_RE = re.compile(r"^(metrics-[0-9a-f]{12}\.json|deployment-[0-9]{6}/metrics\.json)$")
_DATA_FILE_RE = re.compile(r"^data-[0-9a-f]{12}\.csv$")
#: How often :func:`load_model` re-reads the metadata when a commit raced its read.
_LOAD_ATTEMPTS = 5


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


def save_model(
    model: Any,
    directory: str | os.PathLike[str],
    *,
    config: Mapping[str, Any] | Any | None = None,
    metrics: Mapping[str, Any] | None = None,
    data: pd.DataFrame | str | None = None,
    extra: Mapping[str, Any] | None = None,
    keep_data: bool = False,
    action: str = "save",
    expect_sha256: str | None = None,
    timeout: float = LOCK_TIMEOUT,
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
        Metrics to record (in ``metadata.json`` and ``metrics-<sha12>.json``).
    data
        The training data (its :func:`data_fingerprint` is recorded) or a fingerprint.
    extra
        Free-form, JSON-friendly provenance (file names, notes).
    keep_data
        Store the training data (a DataFrame ``data``) in the artifact, so that what
        the model learned from travels with it (:func:`read_training_data`).
    action
        How this commit is recorded in the lineage: ``"save"``, ``"promote"``.
    expect_sha256
        Commit only if the committed model still has this SHA-256 (see
        :func:`mlcicd.artifact_store.commit`).
    timeout
        Seconds to wait for another writer of the folder before failing.

    Returns
    -------
    Path
        The content-addressed model file ``directory/model-<sha12>.skops``.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}); y = [0, 0, 1, 1]
    >>> folder = tempfile.mkdtemp()
    >>> first = save_model(LogisticRegression().fit(X, y), folder, metrics={"accuracy": 1.0})
    >>> again = save_model(LogisticRegression().fit(X, y), folder, metrics={"accuracy": 1.0})
    >>> first == again  # same model, same bytes, same name
    True
    >>> read_metadata(folder)["deployment"], read_metrics(folder)
    (2, {'accuracy': 1.0})
    """
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise ArtifactError(f"{folder}: exists and is not a folder")
    check("save_model", "action", action, Choice(ACTIONS))
    import pandas as pd

    if keep_data and not isinstance(data, pd.DataFrame):
        raise InputError("keep_data=True needs the training data as a DataFrame in data=")
    payload = _dumps_checked(model)
    digest = hashlib.sha256(payload).hexdigest()
    metrics_dict = dict(metrics) if metrics is not None else {}
    metrics_payload = _metrics_bytes(metrics_dict)
    metrics_digest = hashlib.sha256(metrics_payload).hexdigest()
    files = {
        f"model-{digest[:12]}.skops": payload,
        f"metrics-{metrics_digest[:12]}.json": metrics_payload,
    }
    fingerprint = fingerprint_of(data)
    data_file = None
    if keep_data:
        data_payload = canonical_csv(data)
        fingerprint = hashlib.sha256(data_payload).hexdigest()
        data_file = f"data-{fingerprint[:12]}.csv"
        files[data_file] = data_payload
    fields = {
        "model_file": f"model-{digest[:12]}.skops",
        "sha256": digest,
        "size_bytes": len(payload),
        "created_at": _now(),
        "versions": library_versions(),
        "config": config_dict(config),
        "data_fingerprint": fingerprint,
        "data_file": data_file,
        "metrics": metrics_dict,
        "metrics_file": f"metrics-{metrics_digest[:12]}.json",
        "metrics_sha256": metrics_digest,
        "feature_names": feature_names(model),
        "classes": classes(model),
        "extra": dict(extra) if extra is not None else {},
    }

    def build(current: dict[str, Any] | None, number: int) -> dict[str, Any]:
        return {**fields, "lineage": lineage(action, current)}

    commit(folder, files, build, expect_sha256=expect_sha256, timeout=timeout)
    return folder / fields["model_file"]


def lineage(action: str, current: Mapping[str, Any] | None, **more: Any) -> dict[str, Any]:
    """The lineage entry of a new commit: what it did and which deployment it replaced."""
    previous = None
    if current is not None and isinstance(current.get("sha256"), str):
        previous = {"deployment": current.get("deployment"), "sha256": current["sha256"]}
    return {"action": action, "committed_at": _now(), "previous": previous, **more}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _metrics_bytes(metrics: Mapping[str, Any]) -> bytes:
    return (json.dumps(json_safe(dict(metrics)), indent=2, sort_keys=True) + "\n").encode()


def read_metadata(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``metadata.json`` of an artifact folder (without loading the model)."""
    folder = Path(directory)
    meta_path = folder / METADATA_FILE
    if not folder.is_dir():
        raise ArtifactError(f"{folder}: no model artifact here (folder not found)")
    if not meta_path.is_file():
        raise ArtifactError(f"{folder}: no model artifact here ({METADATA_FILE} not found)")
    if not meta_path.resolve().is_relative_to(folder.resolve()):
        # metadata.json goes through the ``current`` link, which must stay in the folder.
        raise ArtifactError(f"{meta_path}: points outside the artifact folder (corrupt artifact)")
    try:
        metadata = read_json(meta_path)
    except InputError as exc:
        raise ArtifactError(f"{exc} (corrupt artifact metadata)") from None
    if not isinstance(metadata, dict):
        raise ArtifactError(f"{meta_path}: corrupt artifact metadata (not a JSON object)")
    missing = [key for key in METADATA_KEYS if key not in metadata]
    if missing:
        raise ArtifactError(f"{meta_path}: missing key(s) {', '.join(map(repr, missing))}")
    size = metadata["size_bytes"]
    if not (is_integer(size) and 0 < size < 2**40) or not isinstance(metadata["sha256"], str):
        raise ArtifactError(f"{meta_path}: invalid size_bytes or sha256")
    model_file = metadata["model_file"]
    if not isinstance(model_file, str) or not _MODEL_FILE_RE.match(model_file):
        raise ArtifactError(f"{meta_path}: invalid model_file {short_repr(model_file)}")
    problem = bookkeeping_problem(metadata)
    if problem is not None:
        raise ArtifactError(f"{meta_path}: {problem} (corrupt artifact metadata)")
    return metadata


def read_metrics(directory: str | os.PathLike[str], *,
                 metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The metrics of the committed artifact in ``directory``, read through its metadata.

    The metrics file is the one ``metadata.json`` names, checked against the SHA-256 the
    metadata records, so the metrics always belong to the committed model. Pass the
    ``metadata`` of a :class:`LoadedModel` to get the metrics of *that* model even if a
    writer commits another one meanwhile. (Artifacts of the older layout, without a
    metrics file, give the metrics inside the metadata.)
    """
    folder = Path(directory)
    metadata = read_metadata(folder) if metadata is None else metadata
    name = metadata.get("metrics_file")
    if name is None:
        return dict(metadata.get("metrics") or {})
    number = metadata.get("deployment")
    own_copy = f"deployment-{number:06d}/metrics.json" if isinstance(number, int) else None
    if own_copy is not None and (folder / own_copy).is_file():
        # A deployment's own copy is never pruned: a slow reader still finds it.
        name = own_copy
    payload = _read_owned(folder, name, _METRICS_FILE_RE, metadata.get("metrics_sha256"))
    return dict(json.loads(payload))


def read_training_data(directory: str | os.PathLike[str]) -> pd.DataFrame | None:
    """The training data stored with the committed model (``keep_data=True``), or None.

    The bytes are checked against the recorded data fingerprint before parsing.
    """
    import io

    import pandas as pd

    folder = Path(directory)
    metadata = read_metadata(folder)
    name = metadata.get("data_file")
    if name is None:
        return None
    payload = _read_owned(folder, name, _DATA_FILE_RE, metadata.get("data_fingerprint"))
    return pd.read_csv(io.BytesIO(payload))


def _read_owned(folder: Path, name: Any, pattern: re.Pattern[str], sha256: Any) -> bytes:
    if not isinstance(name, str) or not pattern.match(name):
        raise ArtifactError(f"{folder / METADATA_FILE}: invalid file name {name!r}")
    path = folder / name
    try:
        payload = read_regular_file(path)
    except FileNotFoundError:
        raise ArtifactError(f"{path}: file named by the metadata not found") from None
    if hashlib.sha256(payload).hexdigest() != sha256:
        raise ArtifactError(f"{path}: sha256 differs from the metadata (file was changed)")
    return payload


def read_regular_file(path: Path, *, limit: int | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file, at most ``limit`` of them.

    A file named by the metadata that was replaced by a fifo or a link to a device
    (``/dev/zero``) would otherwise block or fill the memory before any hash check:
    it is opened without blocking, refused unless regular, and read up to ``limit``
    bytes (one more than the recorded size is enough to see it is too long).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ArtifactError(f"{path}: not a regular file (replaced by a fifo or device?)")
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read() if limit is None else handle.read(limit)
    finally:
        os.close(fd)


def load_model(directory: str | os.PathLike[str]) -> LoadedModel:
    """Load the model of an artifact folder after checking its size and SHA-256.

    Raises
    ------
    ArtifactError
        When the folder, ``metadata.json`` or the model file is missing or corrupt,
        when the model file's size or hash differs from the metadata (edited or
        truncated file), or when it holds a type outside the allow-list.
    """
    for _ in range(_LOAD_ATTEMPTS):
        metadata = read_metadata(directory)
        model_path = Path(directory) / metadata["model_file"]
        try:
            payload = read_regular_file(model_path, limit=metadata["size_bytes"] + 1)
        except (FileNotFoundError, IsADirectoryError):
            # A writer may have committed and pruned between our two reads: look again.
            if read_metadata(directory)["sha256"] != metadata["sha256"]:
                continue
            raise ArtifactError(f"{model_path}: model file not found") from None
        break
    else:
        raise ArtifactError(f"{directory}: the artifact kept changing while being read")
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
        model = _skops().loads(payload, trusted=list(ALLOWED_TYPES))
    except Exception as exc:  # skops raises many kinds on a malformed file
        reason = f"{type(exc).__name__}: {exc}"
        raise ArtifactError(f"{model_path}: cannot load model ({reason})") from None
    return LoadedModel(model=model, metadata=metadata, path=model_path)


def _skops() -> Any:
    """``skops.io``, imported on first use.

    skops pulls in scikit-learn and SciPy (over a second of CPU). Commands that only read
    a metadata file (``mlcicd gate`` reads metrics through :func:`read_metrics`) never
    (de)serialise a model, so they should not pay for that at every start.
    """
    import skops.io

    return skops.io


def _dumps_checked(model: Any) -> bytes:
    try:
        # The canonical form makes the bytes (and the SHA-256) depend on the model alone.
        payload = canonical_skops(_skops().dumps(model))
    except Exception as exc:  # skops refuses objects it cannot represent
        raise ArtifactError(f"cannot serialise {type(model).__name__} with skops: {exc}") from None
    _check_types(payload, source=f"model {type(model).__name__}")
    return payload


def _check_types(payload: bytes, *, source: str) -> None:
    try:
        untrusted = _skops().get_untrusted_types(data=payload)
    except Exception as exc:
        raise ArtifactError(f"{source}: not a valid skops file ({type(exc).__name__})") from None
    refused = sorted(set(untrusted) - set(ALLOWED_TYPES))
    if refused:
        raise ArtifactError(
            f"{source}: holds type(s) outside the allow-list: {', '.join(refused)}"
        )
