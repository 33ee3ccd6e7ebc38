"""Reading user files with clear errors, and writing files atomically.

Every file the CLI reads goes through :func:`read_csv` or :func:`read_json`, so a
malformed input produces one :class:`~mlcicd.errors.InputError` naming the file and
the problem. Every file the library writes goes through :func:`atomic_write_bytes`:
the data lands in a temporary file in the same folder, is flushed to disk and then
renamed over the target, so a crash mid-write leaves the previous file intact.

Limits on what a YAML or JSON file may hold, so that a small hostile file cannot hang
the parser, exhaust memory or end in a ``RecursionError``: nesting at most
:data:`MAX_NESTING` levels deep, integers of at most :data:`MAX_INT_DIGITS` digits, and
no YAML aliases (``*name``: a 500-byte file of nested aliases expands to billions of
values, and no file of this project needs them). Error messages quote values through
:func:`short_repr`, so they stay one short line whatever the file holds.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import json
import os
import reprlib
import tempfile
from collections import Counter
from collections.abc import Iterable
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from mlcicd.errors import InputError

try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

#: Deepest nesting of lists and mappings accepted in a YAML or JSON file.
MAX_NESTING = 64
#: Most digits accepted in an integer of a YAML or JSON file (2**64 has 20).
MAX_INT_DIGITS = 30

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "write_json",
    "json_safe",
    "read_json",
    "read_yaml",
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
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def read_json(path: str | os.PathLike[str], *, required_keys: Iterable[str] = ()) -> Any:
    """Read a JSON file; a missing file, bad JSON or a missing key is an :class:`InputError`.

    Nesting deeper than :data:`MAX_NESTING` and integers longer than
    :data:`MAX_INT_DIGITS` digits are refused too.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source}: file not found")
    try:
        obj = json.loads(source.read_text(encoding="utf-8"), parse_int=_bounded_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{source}: not valid JSON ({_first_line(exc)})") from None
    except RecursionError:
        raise InputError(f"{source}: nested more than {MAX_NESTING} levels deep") from None
    except _TooLarge as exc:
        raise InputError(f"{source}: {exc}") from None
    if _depth(obj) > MAX_NESTING:
        raise InputError(f"{source}: nested more than {MAX_NESTING} levels deep")
    missing = [key for key in required_keys if not isinstance(obj, dict) or key not in obj]
    if missing:
        raise InputError(f"{source}: missing key(s) {', '.join(map(short_repr, missing))}")
    return obj


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Read a YAML file safely (no Python objects); an empty file gives ``None``.

    A missing file, bytes that are not UTF-8 text, a YAML syntax error, an alias,
    nesting deeper than :data:`MAX_NESTING`, an integer longer than
    :data:`MAX_INT_DIGITS` digits or a key given twice in one mapping raise an
    :class:`InputError` naming the file.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source}: file not found")
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source}: not a YAML file (not UTF-8 text)") from None
    return load_yaml_text(text, source=str(source))


def load_yaml_text(text: str, *, source: str = "YAML") -> Any:
    """Parse YAML text with the limits of this module; errors start with ``source``.

    >>> load_yaml_text("a: [1, 2]")
    {'a': [1, 2]}
    >>> load_yaml_text("a: &x [1]\\nb: *x", source="f.yaml")
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: f.yaml: line 2: YAML aliases (*name) are not supported; \
write the value out
    """
    collecting = gc.isenabled()
    # A big document is many small objects made at once: collecting garbage meanwhile
    # only re-scans them, and made loading superlinear in the number of columns.
    gc.disable()
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a safe loader subclass
    except _TooLarge as exc:
        raise InputError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or _first_line(exc)
        raise InputError(f"{source}: not valid YAML{where} ({problem})") from None
    finally:
        if collecting:
            gc.enable()


class _TooLarge(ValueError):
    """A document this module refuses (message without the file name)."""


if yaml.__with_libyaml__:

    class _SafeBase(Composer, CParser, SafeConstructor, Resolver):
        """``yaml.SafeLoader`` scanning and parsing in C (libyaml), composing in Python.

        The composer stays in Python so that :class:`_BoundedLoader` can check every
        node; the C parser makes a schema of 20,000 columns load in about a second.
        """

        def __init__(self, stream: Any) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    _SafeBase = yaml.SafeLoader  # type: ignore[misc, assignment]


class _BoundedLoader(_SafeBase):
    """A safe YAML loader without aliases, with bounded nesting and integer size."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._nesting = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            line = self.peek_event().start_mark.line + 1
            raise _TooLarge(f"line {line}: YAML aliases (*name) are not supported; "
                            "write the value out")
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            line = self.peek_event().start_mark.line + 1
            raise _TooLarge(f"line {line}: nested more than {MAX_NESTING} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._nesting -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        # PyYAML keeps the last of two equal keys silently: a rule written twice is a typo.
        seen = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise _TooLarge(f"line {key_node.start_mark.line + 1}: key "
                                f"{short_repr(key_node.value)} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:
        digits = str(node.value).lstrip("+-").replace("_", "")
        if len(digits) > MAX_INT_DIGITS:
            raise _TooLarge(f"line {node.start_mark.line + 1}: integer with {len(digits)} "
                            f"digits; at most {MAX_INT_DIGITS} are accepted")
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _TooLarge(f"integer with {len(text.lstrip('-'))} digits; "
                        f"at most {MAX_INT_DIGITS} are accepted")
    return int(text)


def _depth(obj: Any) -> int:
    # Iterative, so that measuring a deep document cannot itself recurse too deeply.
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_NESTING:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level + 1) for child in children)
    return deepest


_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlong = 40
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 6
_SHORT.maxlevel = 3


def short_repr(value: Any) -> str:
    """``repr(value)`` cut to a few dozen characters, for error messages.

    >>> short_repr("x" * 1000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
    >>> short_repr(list(range(100)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    return _SHORT.repr(value)


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
