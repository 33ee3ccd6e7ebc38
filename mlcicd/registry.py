"""A small model registry inside the artifact folder: deployments, lineage, rollback.

Every commit of an artifact folder is a *deployment*, numbered 1, 2, 3, ... Its
``metadata.json`` is kept as ``deployment-<n>.json`` and records its lineage: which data
the model learned from (``data_fingerprint``), which model it is (``sha256``), what the
commit did (``save``, ``promote``, ``rollback``) and which deployment it replaced.
So the chain *data -> artifact -> deployment* can be read back for every model that
ever served, and the files of the last few deployments stay in the folder
(:data:`~mlcicd.artifact_store.KEEP_DEPLOYMENTS`), ready to serve again.

* :func:`promote` copies a candidate artifact folder into production as a new deployment;
* :func:`rollback` makes the model the current deployment replaced serve again (a new
  deployment, so the rollback itself is recorded); rolling back twice goes two back;
* :func:`history` lists the deployments with their stage: ``production`` (the committed
  one), ``rolled back`` (a later rollback left it) or ``archived``.

All three go through :func:`mlcicd.artifact_store.commit`: one writer at a time, and a
crash at any point leaves the previous deployment in place.

Examples
--------
A rollback drill: save a model, promote a second one, roll back.

>>> import tempfile
>>> from sklearn.dummy import DummyClassifier
>>> from mlcicd.artifacts import load_model, save_model
>>> folder, candidate = tempfile.mkdtemp(), tempfile.mkdtemp()
>>> X, y = [[0.0], [1.0], [2.0]], [0, 1, 1]
>>> _ = save_model(DummyClassifier(strategy="most_frequent").fit(X, y), folder)
>>> _ = save_model(DummyClassifier(strategy="uniform").fit(X, y), candidate)
>>> [d.stage for d in (promote(candidate, folder, reason="release 2"),)]
['production']
>>> back = rollback(folder, reason="drill")
>>> back.number, back.action, back.restores
(3, 'rollback', 1)
>>> load_model(folder).model.strategy
'most_frequent'
>>> [(d.number, d.action, d.stage) for d in history(folder)]
[(1, 'save', 'archived'), (2, 'promote', 'rolled back'), (3, 'rollback', 'production')]
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mlcicd.artifact_store import (
    commit,
    committed_metadata,
    deployment_numbers,
    deployment_snapshot,
)
from mlcicd.artifacts import lineage, load_model, read_metadata, read_regular_file
from mlcicd.errors import ArtifactError
from mlcicd.journal import LOCK_TIMEOUT
from mlcicd.params import Integer, check

__all__ = ["STAGES", "Deployment", "history", "promote", "rollback"]

#: The stage of a deployment in :func:`history`.
STAGES = ("production", "rolled back", "archived")


@dataclass(frozen=True)
class Deployment:
    """One commit of an artifact folder, as :func:`history` reports it.

    Attributes
    ----------
    number : int
        The deployment number (1 for the first commit).
    action : str
        ``"save"``, ``"promote"`` or ``"rollback"``.
    sha256, data_fingerprint : str
        The model file's SHA-256 and the fingerprint of the data it was trained on.
    committed_at : str
        When the commit happened (UTC, ISO 8601).
    replaced : int or None
        The deployment that was production before this one.
    restores : int or None
        For a rollback: the deployment whose model it serves again.
    stage : str
        One of :data:`STAGES`.
    available : bool
        Whether its model file is still in the folder (a rollback needs it).
    reason : str
        Why it happened, as given by the caller.
    """

    number: int
    action: str
    sha256: str
    data_fingerprint: str | None
    committed_at: str
    replaced: int | None
    restores: int | None
    stage: str
    available: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON output."""
        return asdict(self)


def history(directory: str | os.PathLike[str]) -> list[Deployment]:
    """Every deployment of ``directory`` whose record is kept, oldest first."""
    folder = Path(directory)
    current = read_metadata(folder)
    committed = int(current.get("deployment") or 0)
    snapshots = {n: deployment_snapshot(folder, n) for n in deployment_numbers(folder)}
    snapshots = {n: s for n, s in snapshots.items() if s is not None and n <= committed}
    if committed not in snapshots:  # an artifact of the older layout: one deployment
        snapshots[committed] = current
    left = {(s.get("lineage") or {}).get("rolled_back_from") for s in snapshots.values()}
    return [_deployment(folder, n, s, committed, left) for n, s in sorted(snapshots.items())]


def _deployment(folder: Path, number: int, meta: dict[str, Any], committed: int,
                left: set[Any]) -> Deployment:
    line = meta.get("lineage") or {}
    previous = line.get("previous") or {}
    stage = "production" if number == committed else (
        "rolled back" if number in left else "archived")
    return Deployment(
        number=number, action=str(line.get("action", "save")), sha256=str(meta.get("sha256")),
        data_fingerprint=meta.get("data_fingerprint"),
        committed_at=str(line.get("committed_at", meta.get("created_at", ""))),
        replaced=previous.get("deployment"), restores=line.get("restores"), stage=stage,
        available=(folder / str(meta.get("model_file"))).is_file(),
        reason=str(line.get("reason", "")),
    )


def promote(candidate_dir: str | os.PathLike[str], production_dir: str | os.PathLike[str],
            *, reason: str = "", expect_sha256: str | None = None,
            timeout: float = LOCK_TIMEOUT) -> Deployment:
    """Make the candidate artifact the production one, as a new deployment.

    The candidate is loaded first (size, SHA-256 and allow-list checked); its model,
    metrics and data files are copied by content, so the production folder owns them.
    """
    source = Path(candidate_dir)
    loaded = load_model(source)
    meta = dict(loaded.metadata)
    files = {meta["model_file"]: read_regular_file(loaded.path)}
    for key in ("metrics_file", "data_file"):
        if isinstance(meta.get(key), str):
            files[meta[key]] = read_regular_file(source / meta[key])
    if hashlib.sha256(files[meta["model_file"]]).hexdigest() != meta["sha256"]:
        raise ArtifactError(f"{source}: the model file changed while being promoted")
    meta.pop("deployment", None)

    def build(current: dict[str, Any] | None, number: int) -> dict[str, Any]:
        return {**meta, "lineage": lineage("promote", current, reason=reason,
                                           source=str(source))}

    folder = Path(production_dir)
    committed = commit(folder, files, build, expect_sha256=expect_sha256, timeout=timeout)
    return _as_committed(folder, committed)


def rollback(directory: str | os.PathLike[str], *, to: int | None = None, reason: str = "",
             timeout: float = LOCK_TIMEOUT) -> Deployment:
    """Serve again the model the current deployment replaced (or deployment ``to``).

    Raises
    ------
    ArtifactError
        When there is nothing to roll back to, the target's record or model file is gone
        (pruned), or its model file no longer matches its SHA-256.
    """
    if to is not None:
        check("rollback", "to", to, Integer(low=1))
    folder = Path(directory)
    read_metadata(folder)  # a missing or corrupt artifact is refused before the lock

    def build(current: dict[str, Any] | None, number: int) -> dict[str, Any]:
        if current is None:
            raise ArtifactError(f"{folder}: no committed artifact to roll back")
        target_number = to if to is not None else _replaced(current)
        if target_number is None:
            restores = (current.get("lineage") or {}).get("restores")
            serving = (f"deployment {current.get('deployment')}" if restores is None else
                       f"deployment {current.get('deployment')} (the model of deployment "
                       f"{restores})")
            raise ArtifactError(f"{folder}: nothing came before {serving}; "
                                "there is nothing to roll back to")
        if target_number == current.get("deployment"):
            raise ArtifactError(f"{folder}: deployment {target_number} is already production")
        target = deployment_snapshot(folder, target_number)
        if target is None:
            raise ArtifactError(f"{folder}: no record of deployment {target_number}")
        _check_model_file(folder, target, target_number)
        restored_lineage = target.get("lineage") or {}
        return {**target, "lineage": {
            **lineage("rollback", None, reason=reason, restores=target_number,
                      rolled_back_from=current.get("deployment")),
            # The chain continues where the restored deployment's did: a second
            # rollback goes one further back, not forth again.
            "previous": restored_lineage.get("previous"),
        }}

    committed = commit(folder, {}, build, timeout=timeout)
    return _as_committed(folder, committed)


def _replaced(current: dict[str, Any]) -> int | None:
    previous = (current.get("lineage") or {}).get("previous") or {}
    number = previous.get("deployment")
    return number if isinstance(number, int) else None


def _check_model_file(folder: Path, target: dict[str, Any], number: int) -> None:
    path = folder / str(target.get("model_file"))
    if not path.is_file():
        raise ArtifactError(f"{path}: model of deployment {number} was pruned; "
                            "cannot roll back to it")
    if hashlib.sha256(read_regular_file(path)).hexdigest() != target.get("sha256"):
        raise ArtifactError(f"{path}: model of deployment {number} was changed "
                            "(sha256 mismatch); refusing to serve it")


def _as_committed(folder: Path, metadata: dict[str, Any]) -> Deployment:
    number = int(metadata["deployment"])
    current = committed_metadata(folder) or metadata
    return _deployment(folder, number, metadata, int(current.get("deployment") or number),
                       set())
