"""The commit protocol of an artifact folder: lock, write, swap one link, prune.

Layout of the bookkeeping (the content-addressed model, metrics and data files live
beside it, see :mod:`mlcicd.artifacts`)::

    deployment-<n>/metadata.json   what deployment n is (never changed once committed)
    deployment-<n>/metrics.json    its metrics (the same bytes as its metrics-<sha12>.json)
    current -> deployment-<n>      the commit point: one symlink, replaced atomically
    metadata.json -> current/metadata.json    fixed links: both names always resolve
    metrics.json  -> current/metrics.json     into the same deployment

Swapping ``current`` changes what ``metadata.json`` *and* ``metrics.json`` say in one
atomic ``rename``, so no crash can leave one newer than the other (two plain files
cannot be replaced in one step: killed between the two renames, the old layout left
``metrics.json`` out of step in 6 of 15 aimed kills).

:mod:`mlcicd.artifacts` (save and load) and :mod:`mlcicd.registry` (promote, rollback,
history) change a folder only through :func:`commit`, which does, under the folder's
lock:

1. delete what writers that died mid-write left (nobody else can be writing now);
2. check the committed model is the one the caller expects (``expect_sha256``), so a
   decision taken on production A never replaces a production B committed meanwhile;
3. write every content-addressed file the new metadata names, atomically;
4. write ``deployment-<n>/`` in a temp folder and rename it into place;
5. point ``current`` at it: the commit;
6. prune files no recent deployment names (never the committed ones).

A crash before step 5 leaves the previous commit in place; what steps 3 and 4 wrote is
cleaned up by the next writer.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mlcicd.errors import ArtifactError, InputError
from mlcicd.io import atomic_write_bytes, json_safe
from mlcicd.journal import LOCK_TIMEOUT, exclusive_lock
from mlcicd.params import is_integer

__all__ = [
    "KEEP_DEPLOYMENTS",
    "bookkeeping_problem",
    "CURRENT_LINK",
    "LOCK_FILE",
    "commit",
    "committed_metadata",
    "deployment_snapshot",
    "deployment_numbers",
    "metadata_bytes",
    "writer_lock",
]

LOCK_FILE = ".lock"
CURRENT_LINK = "current"
#: Names at the top of the folder that always resolve into the committed deployment.
LINKED_NAMES = ("metadata.json", "metrics.json")
_DEPLOYMENT = "deployment-{:06d}"
#: Deployments whose files are kept: the committed one and the four before it, so a
#: rollback has something to return to and a reader that has just read the previous
#: metadata still finds its model file.
KEEP_DEPLOYMENTS = 5
#: Files a commit may name, by prefix; anything else in the folder is left alone.
OWNED_PREFIXES = ("model-", "metrics-", "data-")
_NAME_KEYS = ("model_file", "metrics_file", "data_file")


def metadata_bytes(metadata: Mapping[str, Any]) -> bytes:
    """The exact bytes of a deployment's ``metadata.json``."""
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


def bookkeeping_problem(metadata: Mapping[str, Any]) -> str | None:
    """What is wrong with the fields a commit relies on, or None when they are sound.

    The deployment number, the lineage and the file names steer what a commit writes,
    keeps and deletes: a hand-edited or corrupt value (``"deployment": "abc"``, a
    lineage that is a list, a file name ``../../etc/passwd``) must stop the writer with
    one clear line, not a traceback nor a path outside the folder.

    >>> bookkeeping_problem({"deployment": 3, "lineage": {"previous": None}}) is None
    True
    >>> bookkeeping_problem({"model_file": "../../etc/passwd"})
    "invalid model_file '../../etc/passwd'"
    """
    number = metadata.get("deployment")
    if number is not None and not (is_integer(number) and 1 <= number < 10**9):
        return f"invalid deployment number {str(number)[:40]!r}"
    line = metadata.get("lineage")
    previous = line.get("previous") if isinstance(line, dict) else None
    if (line is not None and not isinstance(line, dict)) or (
            previous is not None and not isinstance(previous, dict)):
        return "invalid lineage (expected a mapping)"
    for key in _NAME_KEYS:
        name = metadata.get(key)
        if name is not None and (not isinstance(name, str) or "/" in name or "\\" in name
                                 or not name.startswith(OWNED_PREFIXES)):
            return f"invalid {key} {str(name)[:80]!r}"
    return None


def committed_metadata(folder: Path) -> dict[str, Any] | None:
    """The committed metadata as stored, or None when there is none (or it is unreadable).

    Raises an :class:`ArtifactError` when it parses but its bookkeeping is unsound
    (:func:`bookkeeping_problem`): a writer must not number, prune or roll back from it.
    """
    try:
        data = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    problem = bookkeeping_problem(data)
    if problem is not None:
        raise ArtifactError(f"{folder / 'metadata.json'}: {problem} (corrupt artifact metadata)")
    return data


def deployment_numbers(folder: Path) -> list[int]:
    """Numbers of the ``deployment-<n>`` folders present, ascending."""
    numbers = []
    for path in folder.glob("deployment-*"):
        digits = path.name.removeprefix("deployment-")
        if digits.isdigit() and path.is_dir():
            numbers.append(int(digits))
    return sorted(numbers)


def deployment_snapshot(folder: Path, number: int) -> dict[str, Any] | None:
    """The metadata committed as deployment ``number``, or None when its copy is missing."""
    path = folder / _DEPLOYMENT.format(number) / "metadata.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or bookkeeping_problem(data) is not None:
        return None
    return data


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
        target = folder / _DEPLOYMENT.format(number)
        try:
            for name, data in files.items():
                atomic_write_bytes(folder / name, data)
            _write_deployment(folder, target, metadata, files)
            _commit_point(folder, target.name)
        except BaseException:
            # No commit: take back what this attempt wrote that the old commit does not own.
            owned = {(current or {}).get(key) for key in _NAME_KEYS}
            if current is not None and isinstance(current.get("deployment"), int):
                owned |= _kept_names(folder, current)
            for path in [folder / name for name in files if name not in owned]:
                with contextlib.suppress(OSError):
                    path.unlink()
            if _link_target(folder / CURRENT_LINK) != target.name:
                shutil.rmtree(target, ignore_errors=True)
            raise
        _prune(folder, metadata)
    return metadata


def _write_deployment(folder: Path, target: Path, metadata: dict[str, Any],
                      files: Mapping[str, bytes]) -> None:
    """Build ``deployment-<n>/`` in a temp folder, then rename it into place."""
    staging = folder / f".{target.name}.{os.getpid()}.tmpdir"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)  # an uncommitted leftover of a dead writer
    metrics_name = metadata.get("metrics_file")
    metrics = files.get(metrics_name) if isinstance(metrics_name, str) else None
    if metrics is None and isinstance(metrics_name, str) and (folder / metrics_name).is_file():
        metrics = (folder / metrics_name).read_bytes()
    if metrics is None:
        metrics = metadata_bytes(metadata.get("metrics") or {})
    staging.mkdir()
    try:
        atomic_write_bytes(staging / "metrics.json", metrics)
        atomic_write_bytes(staging / "metadata.json", metadata_bytes(metadata))
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_dir(folder)


def _commit_point(folder: Path, deployment: str) -> None:
    """Point ``current`` at ``deployment`` (one atomic rename: the commit), then make
    sure the fixed names resolve through it (the older layout had plain files)."""
    _replace_with_link(folder / CURRENT_LINK, deployment)
    for name in LINKED_NAMES:
        path = folder / name
        if _link_target(path) != f"{CURRENT_LINK}/{name}":
            _replace_with_link(path, f"{CURRENT_LINK}/{name}")
    _fsync_dir(folder)


def _replace_with_link(path: Path, target: str) -> None:
    staging = path.with_name(f".{path.name}.{os.getpid()}.link.tmp")
    with contextlib.suppress(FileNotFoundError):
        staging.unlink()
    os.symlink(target, staging)
    os.replace(staging, path)


def _link_target(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_dead_temp_files(folder: Path) -> None:
    # Under the lock no live writer owns a temp file of ours: these are from dead ones.
    patterns = [f".{prefix}*.tmp" for prefix in OWNED_PREFIXES]
    patterns += [f".{name}.*.tmp" for name in (*LINKED_NAMES, CURRENT_LINK)]
    for path in [p for pattern in patterns for p in folder.glob(pattern)]:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    for path in folder.glob(".deployment-*.tmpdir"):
        shutil.rmtree(path, ignore_errors=True)


def _kept_names(folder: Path, metadata: dict[str, Any]) -> set[str]:
    number = int(metadata["deployment"])
    kept = {metadata.get(key) for key in _NAME_KEYS}
    recent = range(max(1, number - KEEP_DEPLOYMENTS + 1), number)
    snapshots = [deployment_snapshot(folder, n) for n in recent]
    # The rollback chain may reach further back than the recent window.
    link = metadata.get("lineage", {}).get("previous")
    for _ in range(KEEP_DEPLOYMENTS - 1):
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
        if number > int(metadata["deployment"]):  # deployments that were never committed
            shutil.rmtree(folder / _DEPLOYMENT.format(number), ignore_errors=True)
