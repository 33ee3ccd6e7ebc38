"""Reading user files with clear errors, and writing files atomically.

Every file the CLI reads goes through :func:`read_csv` or :func:`read_json`, so a
malformed input produces one :class:`~mlcicd.errors.InputError` naming the file and
the problem. Every file the library writes goes through :func:`atomic_write_bytes`:
the data lands in a temporary file in the same folder, is flushed to disk and then
renamed over the target, so a crash mid-write leaves the previous file intact.

YAML and JSON are parsed with the limits of :mod:`mlcicd.safe_parse` (no aliases,
bounded nesting and integer size), re-exported here for the modules that read files.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcicd.errors import InputError
from mlcicd.safe_parse import (
    MAX_INT_DIGITS,
    MAX_NESTING,
    _first_line,
    load_json_text,
    load_yaml_text,
    short_repr,
)

if TYPE_CHECKING:  # pandas is imported where a frame is read: `mlcicd gate` reads none
    import pandas as pd

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "write_json",
    "json_safe",
    "read_json",
    "read_yaml",
    "load_json_text",
    "load_yaml_text",
    "short_repr",
    "MAX_NESTING",
    "MAX_INT_DIGITS",
    "read_csv",
    "require_columns",
    "require_finite_numeric",
]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = atomic_write_bytes(target, b"hello")
    >>> target.read_bytes()
    b'hello'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates the file private (0600); keep the mode a plain write would give.
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)
    return target


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets us open a folder.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomic counterpart of ``Path.write_text`` (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON, atomically. NaN is written as ``null``."""
    return atomic_write_text(path, json.dumps(json_safe(obj), indent=2, sort_keys=True) + "\n")


def json_safe(obj: Any) -> Any:
    """``obj`` as plain JSON data: numpy scalars to Python, NaN and infinities to ``None``.

    >>> import numpy as np
    >>> json_safe({"n": np.int64(3), "x": float("nan"), "v": (1.5, np.float32(2))})
    {'n': 3, 'x': None, 'v': [1.5, 2.0]}
    """
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    obj = python_scalar(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def python_scalar(value: Any) -> Any:
    """A numpy scalar as the Python one (``np.int64(1)`` -> ``1``); anything else as is.

    Python scalars are what JSON writes and what compares equal across numpy dtypes
    (a label set of ``np.int32`` and one of ``int`` are the same classes).
    """
    return value.item() if isinstance(value, np.generic) else value


def read_json(path: str | os.PathLike[str], *, required_keys: Iterable[str] = ()) -> Any:
    """Read a JSON file; a missing file, bad JSON or a missing key is an :class:`InputError`.

    The limits of :func:`mlcicd.safe_parse.load_json_text` apply (nesting, integer size).
    """
    source = Path(path)
    obj = load_json_text(read_utf8(source, "valid JSON"), source=str(source))
    missing = [key for key in required_keys if not isinstance(obj, dict) or key not in obj]
    if missing:
        raise InputError(f"{source}: missing key(s) {', '.join(map(short_repr, missing))}")
    return obj


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Read a YAML file safely (no Python objects); an empty file gives ``None``.

    A missing file, bytes that are not UTF-8 text, a YAML syntax error or anything
    beyond the limits of :func:`mlcicd.safe_parse.load_yaml_text` (aliases, deep
    nesting, huge integers, a repeated key) raise an :class:`InputError` naming the file.
    """
    return load_yaml_text(read_utf8(path, "a YAML file"), source=str(Path(path)))


def read_utf8(path: str | os.PathLike[str], what: str) -> str:
    """The text of a file, or an :class:`InputError` naming it: missing, or not UTF-8.

    ``what`` is what the file should have been (``"a YAML file"``), so the message says
    ``data.csv: not a YAML file (not UTF-8 text)`` rather than a codec's traceback.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source}: file not found")
    try:
        return source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source}: not {what} (not UTF-8 text)") from None


def read_csv(
    path: str | os.PathLike[str],
    *,
    required_columns: Iterable[str] = (),
) -> pd.DataFrame:
    """Read a CSV file with a header row, refusing what cannot be a data set.

    Empty files, files with a header but no rows, binary content, a column name given
    twice in the header and missing required columns each raise an
    :class:`InputError` that names the file and the problem.
    Cell values are not judged here: that is the validator's job.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source}: file not found")
    raw = source.read_bytes()
    if not raw.strip():
        raise InputError(f"{source}: the file is empty")
    if b"\x00" in raw[:8192]:
        raise InputError(f"{source}: not a CSV file (binary content)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source}: not a CSV file (not UTF-8 text)") from None
    _refuse_repeated_header(text, source)
    import pandas as pd

    try:
        frame = pd.read_csv(source)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(f"{source}: not a valid CSV file ({_first_line(exc)})") from None
    if frame.empty:
        raise InputError(f"{source}: the file has a header but no data rows")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ")]
    if len(unnamed) == len(frame.columns):
        raise InputError(f"{source}: no header row found")
    require_columns(frame, required_columns, source=str(source))
    return frame


def _refuse_repeated_header(text: str, source: Path) -> None:
    # pandas would rename the second "age" to "age.1": a column silently lost.
    try:
        header = next(csv.reader(StringIO(text)), [])
    except csv.Error:
        return  # pandas reports a malformed file with its own words
    repeated = sorted(name for name, count in Counter(header).items() if count > 1 and name)
    if repeated:
        raise InputError(f"{source}: column name(s) repeated in the header: "
                         f"{', '.join(short_repr(name) for name in repeated[:5])}")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, source: str = "data") -> None:
    """Raise an :class:`InputError` naming every column of ``columns`` missing from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(map(repr, missing))}; "
            f"found {', '.join(map(repr, map(str, frame.columns)))}"
        )


def require_finite_numeric(frame: pd.DataFrame, *, source: str = "data") -> pd.DataFrame:
    """Return ``frame`` as floats, or raise naming the columns with text or infinities.

    Missing values (NaN) are allowed: pipelines impute them. Text in a numeric
    column and infinite values are not, because no model can use them.
    """
    import pandas as pd

    problems = []
    converted = {}
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad_text = values.isna() & frame[column].notna()
        if bad_text.any():
            example = frame.loc[bad_text, column].iloc[0]
            problems.append(f"column {column!r} has non-numeric value {example!r}")
            continue
        as_float = values.astype(float)
        if np.isinf(as_float.to_numpy()).any():
            problems.append(f"column {column!r} has infinite values")
        converted[column] = as_float
    if problems:
        raise InputError(f"{source}: " + "; ".join(problems))
    return pd.DataFrame(converted, index=frame.index)
