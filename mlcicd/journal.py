"""Append-only JSON-lines journals and the file lock that guards our writers.

Two things in the library must never lose a write when several processes work at
once or one is killed: an artifact folder (:mod:`mlcicd.artifacts`) and the
monitor's history (:mod:`mlcicd.deploy.monitor`). Both rely on what is here:

* :func:`exclusive_lock` takes an advisory ``fcntl.flock`` lock on a file. The kernel
  drops the lock when its holder dies, even by ``kill -9``, so a crashed writer never
  blocks the next one; a second writer waits up to a timeout and then fails with a
  clear :class:`~mlcicd.errors.InputError` instead of hanging.
* :func:`append_record` adds one JSON line with ``O_APPEND`` under that lock and
  ``fsync`` s it before returning. Nothing is ever read, extended and rewritten, so
  concurrent appenders cannot overwrite each other's lines (the old read-extend-rewrite
  kept 62 of 200 concurrent appends).
* :func:`read_records` reads a journal back; a last line cut short by a crash is
  skipped and reported (:attr:`Journal.truncated_tail`), never fatal. A bad line in the
  middle is corruption, not a crash, and raises.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "history.jsonl"
>>> _ = append_record(path, {"cycle": 1})
>>> _ = append_record(path, {"cycle": 2})
>>> with open(path, "ab") as handle:  # a writer killed half-way through its line
...     _ = handle.write(b'{"cycle": 3, "outc')
>>> journal = read_records(path)
>>> [r["cycle"] for r in journal.records], journal.truncated_tail
([1, 2], True)
>>> _ = append_record(path, {"cycle": 4})  # the torn tail is ended, not glued to
>>> [r["cycle"] for r in read_records(path).records]
[1, 2, 4]
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcicd.errors import InputError
from mlcicd.io import json_safe

__all__ = ["LOCK_TIMEOUT", "Journal", "exclusive_lock", "append_record", "read_records"]

#: Seconds a writer waits for another writer's lock before giving up.
LOCK_TIMEOUT = 60.0
_POLL_SECONDS = 0.02


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike[str], *, timeout: float = LOCK_TIMEOUT,
                   what: str = "file") -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the ``with`` block.

    Parameters
    ----------
    path
        The lock file. Its content is never used; only the lock on it matters.
    timeout
        Seconds to wait for another holder; then :class:`InputError`.
    what
        What the lock protects, for the error message ("artifact folder", "history").
    """
    lock_path = Path(path)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise InputError(
                        f"{lock_path.parent}: another process is writing this {what} "
                        f"(lock {lock_path.name} held for more than {timeout:g} s); try again"
                    ) from None
                time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def append_record(path: str | os.PathLike[str], record: dict[str, Any], *,
                  timeout: float = LOCK_TIMEOUT) -> Path:
    """Append ``record`` as one JSON line to ``path``, durably, under the journal's lock.

    The line reaches the disk (``fsync``) before this returns, so a caller that reports
    an event *after* appending it can never report an event the journal lacks. A torn
    last line left by a killed writer is first ended with a newline, so the new record
    stays a line of its own.
    """
    target = Path(path)
    line = (json.dumps(json_safe(record), sort_keys=True, allow_nan=False) + "\n").encode()
    with exclusive_lock(_lock_path(target), timeout=timeout, what="journal"):
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and _last_byte(target, size) != b"\n":
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    return target


def _last_byte(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(size - 1)
        return handle.read(1)


@dataclass(frozen=True)
class Journal:
    """The records of a JSON-lines journal and what was wrong with its tail.

    Attributes
    ----------
    records : list of dict
        Every complete record, oldest first.
    skipped_lines : list of int
        Line numbers of torn lines (a writer killed mid-line) that were skipped.
    """

    records: list[dict[str, Any]]
    skipped_lines: list[int] = field(default_factory=list)

    @property
    def truncated_tail(self) -> bool:
        """True when a torn line was found (and skipped)."""
        return bool(self.skipped_lines)


def read_records(path: str | os.PathLike[str]) -> Journal:
    """Read a JSON-lines journal; a missing file is an empty journal.

    A line that starts like a JSON object but does not parse is a torn write (its
    writer was killed mid-line; a later append ends it with a newline, so it may be
    followed by good lines): it is skipped and listed in :attr:`Journal.skipped_lines`.
    Any other invalid line raises an :class:`InputError` naming the file and line.
    """
    source = Path(path)
    if not source.is_file():
        return Journal([])
    records: list[dict[str, Any]] = []
    skipped: list[int] = []
    raw = source.read_bytes()
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if _looks_torn(line):
                skipped.append(number)
                continue
            raise InputError(f"{source}:{number}: not a JSON line (corrupt journal)") from None
        if not isinstance(record, dict):
            raise InputError(f"{source}:{number}: not a JSON object (corrupt journal)")
        records.append(record)
    return Journal(records, skipped)


def _looks_torn(line: bytes) -> bool:
    # Our writer emits whole objects on one line: a line that starts like one but does
    # not parse is one whose writer died before the end of its ``write``.
    return line.strip().startswith(b"{")
