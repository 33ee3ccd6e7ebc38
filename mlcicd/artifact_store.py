"""The commit protocol of an artifact folder: lock, write, commit, prune.

:mod:`mlcicd.artifacts` (save and load) and :mod:`mlcicd.registry` (promote, rollback,
history) change an artifact folder only through :func:`commit`, which does, under the
folder's lock:

1. delete the temp files of writers that died mid-write (nobody else can be writing);
2. check the committed model is the one the caller expects (``expect_sha256``), so a
   decision taken on production A never replaces a production B committed meanwhile;
3. write every content-addressed file the new metadata names, atomically;
4. write ``deployment-<n>.json``, then ``metadata.json`` with the same bytes: the commit;
5. refresh ``metrics.json``, a plain copy of the committed metrics file kept for people
   and scripts that look for that name (the library never reads it: it reads the
   metrics file the metadata names, checked by SHA-256);
6. prune files no recent deployment names (never the committed ones).

A crash before step 4's rename leaves the previous commit in place; files written in
step 3 and an uncommitted ``deployment-<n>.json`` are cleaned up by the next writer.
A crash between steps 4 and 5 leaves ``metrics.json`` one commit behind until the next
writer: two files cannot be replaced in one atomic step, which is why the metrics that
count are the ones named by the commit point.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mlcicd.errors import ArtifactError, InputError
from mlcicd.io import atomic_write_bytes, json_safe
from mlcicd.journal import LOCK_TIMEOUT, exclusive_lock

__all__ = [
    "KEEP_DEPLOYMENTS",
    "LOCK_FILE",
    "METRICS_COPY",
    "commit",
    "committed_metadata",
    "deployment_snapshot",
    "deployment_numbers",
    "metadata_bytes",
    "writer_lock",
]

LOCK_FILE = ".lock"
#: The convenience copy of the committed metrics (see step 5 above).
METRICS_COPY = "metrics.json"
_SNAPSHOT = "deployment-{:06d}.json"
#: Deployments whose files are kept: the committed one and the four before it, so a
#: rollback has something to return to and a reader that has just read the previous
#: metadata still finds its model file.
KEEP_DEPLOYMENTS = 5
#: Files a commit may name, by prefix; anything else in the folder is left alone.
OWNED_PREFIXES = ("model-", "metrics-", "data-")
_NAME_KEYS = ("model_file", "metrics_file", "data_file")


def metadata_bytes(metadata: Mapping[str, Any]) -> bytes:
    """The exact bytes ``metadata.json`` and its ``deployment-<n>.json`` copy hold."""
    return (json.dumps(json_safe(dict(metadata)), indent=2, sort_keys=True) + "\n").encode()


@contextlib.contextmanager
def writer_lock(folder: Path, *, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the folder's writer lock; a timeout becomes an :class:`ArtifactError`."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with exclusive_lock(folder / LOCK_FILE, timeout=timeout, what="artifact folder"):
            yield
    except InputError as exc:
        if isinstance(exc, ArtifactError) or "lock" not in str(exc):
            raise
        raise ArtifactError(str(exc)) from None


def committed_metadata(folder: Path) -> dict[str, Any] | None:
    """The committed metadata as stored, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def deployment_numbers(folder: Path) -> list[int]:
    """Numbers of the ``deployment-<n>.json`` copies present, ascending."""
    numbers = []
    for path in folder.glob("deployment-*.json"):
        digits = path.stem.removeprefix("deployment-")
        if digits.isdigit():
            numbers.append(int(digits))
    return sorted(numbers)


def deployment_snapshot(folder: Path, number: int) -> dict[str, Any] | None:
    """The metadata committed as deployment ``number``, or None when its copy is missing."""
    path = folder / _SNAPSHOT.format(number)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def commit(
    folder: Path,
    files: Mapping[str, bytes],
    build: Callable[[dict[str, Any] | None, int], dict[str, Any]],
    *,
    expect_sha256: str | None = None,
    timeout: float = LOCK_TIMEOUT,
) -> dict[str, Any]:
    """Write ``files`` and commit the metadata ``build(current, number)`` returns.

    Parameters
    ----------
    folder
        The artifact folder (created when missing).
    files
        Content-addressed files (name -> bytes) the new metadata names.
    build
        Called under the lock with the committed metadata (or None) and the new
        deployment number; returns the metadata to commit.
    expect_sha256
        When given, the commit happens only if the committed model still has this
        SHA-256; otherwise :class:`ArtifactError` (someone else committed meanwhile).
    """
    with writer_lock(folder, timeout=timeout):
        _remove_dead_temp_files(folder)
        current = committed_metadata(folder)
        if expect_sha256 is not None:
            found = (current or {}).get("sha256")
            if found != expect_sha256:
                raise ArtifactError(
                    f"{folder}: the committed model changed during this run "
                    f"(expected {expect_sha256[:12]}, found {str(found)[:12]}); nothing written"
                )
        number = int((current or {}).get("deployment") or 0) + 1
        metadata = build(current, number)
        metadata["deployment"] = number
        snapshot = folder / _SNAPSHOT.format(number)
        try:
            for name, data in files.items():
                atomic_write_bytes(folder / name, data)
            atomic_write_bytes(snapshot, metadata_bytes(metadata))
            _commit_point(folder, metadata)
        except BaseException:
            # No commit: take back what this attempt wrote that the old commit does not own.
            owned = {(current or {}).get(key) for key in _NAME_KEYS}
            if current is not None and isinstance(current.get("deployment"), int):
                owned |= _kept_names(folder, current)
            for path in [folder / name for name in files if name not in owned] + [snapshot]:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise
        _refresh_metrics_copy(folder, metadata)
        _prune(folder, metadata)
    return metadata


def _refresh_metrics_copy(folder: Path, metadata: dict[str, Any]) -> None:
    name = metadata.get("metrics_file")
    if isinstance(name, str) and (folder / name).is_file():
        atomic_write_bytes(folder / METRICS_COPY, (folder / name).read_bytes())


def _commit_point(folder: Path, metadata: dict[str, Any]) -> None:
    # The one rename that makes a new artifact real (tests crash it on purpose).
    atomic_write_bytes(folder / "metadata.json", metadata_bytes(metadata))


def _remove_dead_temp_files(folder: Path) -> None:
    # Under the lock no live writer owns a temp file of ours: these are from dead ones.
    patterns = [f".{prefix}*.tmp" for prefix in (*OWNED_PREFIXES, "deployment-")]
    patterns += [".metadata.json.*.tmp", f".{METRICS_COPY}.*.tmp"]
    for path in [p for pattern in patterns for p in folder.glob(pattern)]:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _kept_names(folder: Path, metadata: dict[str, Any]) -> set[str]:
    number = int(metadata["deployment"])
    kept = {metadata.get(key) for key in _NAME_KEYS}
    recent = range(max(1, number - KEEP_DEPLOYMENTS + 1), number)
    snapshots = [deployment_snapshot(folder, n) for n in recent]
    # The rollback chain may reach further back than the recent window.
    link = metadata.get("lineage", {}).get("previous")
    for _ in range(KEEP_DEPLOYMENTS):
        if not isinstance(link, dict) or not isinstance(link.get("deployment"), int):
            break
        snapshot = deployment_snapshot(folder, link["deployment"])
        snapshots.append(snapshot)
        link = (snapshot or {}).get("lineage", {}).get("previous")
    for snapshot in snapshots:
        if snapshot is not None:
            kept |= {snapshot.get(key) for key in _NAME_KEYS}
    return {name for name in kept if isinstance(name, str)}


def _prune(folder: Path, metadata: dict[str, Any]) -> None:
    kept = _kept_names(folder, metadata)
    for path in folder.iterdir():
        name = path.name
        owned = name.startswith(OWNED_PREFIXES) and path.is_file()
        if owned and name not in kept:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    for number in deployment_numbers(folder):
        if number > int(metadata["deployment"]):  # copies of commits that never happened
            with contextlib.suppress(FileNotFoundError):
                (folder / _SNAPSHOT.format(number)).unlink()
