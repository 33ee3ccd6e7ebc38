"""Record a notebook's key numbers so that a papermill run can report them.

A lab calls ``record("accuracy_drop", value)``. When the runner executes the notebook it
sets the environment variable :data:`METRICS_ENV` to a JSON file's path; each call then
updates that file, atomically, so a run that fails half-way still leaves the values it
recorded before the failure. Run by hand (Jupyter, the book), nothing is written: the
values are only kept in memory and can be read back with :func:`recorded`.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Number
from pathlib import Path
from typing import Any

from mlcicd.errors import InputError
from mlcicd.io import write_json

#: Environment variable holding the path of the metrics JSON file of the current run.
METRICS_ENV = "MLCICD_LABS_METRICS"

_MEMORY: dict[str, Any] = {}


def record(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` for the run's metrics file.

    Parameters
    ----------
    name
        A short identifier, e.g. ``"accuracy_drop"``.
    value
        A number, a bool or a short string (numpy scalars are converted).

    Examples
    --------
    >>> import numpy as np
    >>> record("accuracy", np.float64(0.9123))
    >>> recorded()["accuracy"]
    0.9123
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(
            f"record: the name must be an identifier like 'accuracy_drop', got {name!r}"
        )
    clean = _plain(name, value)
    _MEMORY[name] = clean
    target = os.environ.get(METRICS_ENV)
    if target:
        path = Path(target)
        current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        current[name] = clean
        write_json(path, current)


def recorded() -> dict[str, Any]:
    """Return a copy of every value recorded in this process so far."""
    return dict(_MEMORY)


def _plain(name: str, value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, Number) and not isinstance(value, complex):
        number = float(value) if not isinstance(value, int) else value
        return None if isinstance(number, float) and not math.isfinite(number) else number
    raise InputError(
        f"record: {name!r} must be a number, a bool or a string, got {type(value).__name__}"
    )
