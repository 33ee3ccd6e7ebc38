"""Build an expensive test folder once per pytest session, whatever the xdist workers.

A module- or session-scoped fixture runs once per *worker*: with ``pytest -n 2`` a pipeline
run or a trained candidate that two workers need is built twice, and a module fixture is
built again whenever a worker comes back to the module after running other tests. Here
the first worker that asks builds the folder under an exclusive lock; every later
request (same worker or another) waits for the lock and finds it finished.

The folder is shared: a test that writes must first copy what it needs into its own
``tmp_path``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

#: Written last, so a folder without it is a build that did not finish (it is redone).
DONE = ".built"


def session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that every worker of this session shares and no other session sees.

    Under xdist each worker's base temp is ``<session base>/popen-gwN``: their parent is
    the session's. Without xdist the base temp itself is the session's.
    """
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], None]) -> Path:
    """The folder ``name``, filled by ``build(folder)`` once in this session.

    Parameters
    ----------
    tmp_path_factory
        pytest's factory, to find the session's shared temp folder.
    name
        Folder name, unique per kind of build.
    build
        Fills the empty folder it is given. When it raises, the folder is left unmarked
        and the next request builds it again (and fails the same way, in its own test).

    Returns
    -------
    Path
        The finished folder. Treat it as read-only.
    """
    root = session_root(tmp_path_factory)
    folder = root / name
    with open(root / f"{name}.lock", "w", encoding="utf-8") as lock:
        # Blocks until the worker that holds it finished its build: no polling.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / DONE).exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                build(folder)
                (folder / DONE).write_text("", encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder
