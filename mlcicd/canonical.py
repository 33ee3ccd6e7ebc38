"""Byte-reproducible skops files: the same fitted model always gives the same bytes.

``skops.io.dumps`` writes a zip whose bytes change from run to run although the model
does not: every member carries the wall-clock time, arrays are stored under names
made from ``id()`` (memory addresses) and ``schema.json`` records those addresses as
``__id__``. The SHA-256 of the file, our artifact's identity, then changes with every
training run, and everything keyed on it (file names, release salts) changes too.

:func:`canonical_skops` rewrites such a zip so that its bytes depend on the model
alone: ids are renumbered 1, 2, 3, ... in the order the schema lists them (skops uses
them only to tell shared objects apart, so a consistent renumbering keeps sharing
intact), arrays are renamed after their new id, members are written in sorted order,
uncompressed, with a fixed timestamp and fixed permissions.

Examples
--------
>>> import numpy as np, skops.io as sio
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
>>> first = canonical_skops(sio.dumps(LogisticRegression().fit(X, y)))
>>> second = canonical_skops(sio.dumps(LogisticRegression().fit(X, y)))
>>> first == second
True
>>> sio.loads(first, trusted=["numpy.dtype"]).predict([[3.0]]).tolist()
[1]
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

__all__ = ["canonical_skops", "FIXED_TIMESTAMP"]

#: The timestamp of every member: the earliest a zip file can hold.
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_SCHEMA = "schema.json"


def canonical_skops(payload: bytes) -> bytes:
    """The canonical form of a skops file's bytes (see the module docstring).

    Raises
    ------
    ValueError
        When ``payload`` is not a skops zip (no ``schema.json``) or when the schema names
        an array file the zip does not hold.
    """
    with zipfile.ZipFile(io.BytesIO(payload)) as source:
        names = source.namelist()
        if _SCHEMA not in names:
            raise ValueError("not a skops file (no schema.json)")
        schema = json.loads(source.read(_SCHEMA))
        blobs = {name: source.read(name) for name in names if name != _SCHEMA}
    renamed: dict[str, str] = {}
    ids: dict[int, int] = {}
    _renumber(schema, ids, renamed, blobs)
    members = {new: blobs[old] for old, new in renamed.items()}
    leftover = sorted(set(blobs) - set(renamed))
    if leftover:
        raise ValueError(f"skops file holds members its schema does not name: {leftover[:3]}")
    members[_SCHEMA] = json.dumps(schema, indent=2).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
            info.create_system = 3  # unix, whatever platform wrote the file
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            target.writestr(info, members[name])
    return out.getvalue()


def _renumber(node: Any, ids: dict[int, int], renamed: dict[str, str],
              blobs: dict[str, bytes]) -> None:
    # Depth-first in the schema's own order, which follows the model's structure and
    # is the same in every run.
    if isinstance(node, list):
        for item in node:
            _renumber(item, ids, renamed, blobs)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("__id__"), int):
        node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
    file_name = node.get("file")
    if isinstance(file_name, str) and "__loader__" in node:
        if file_name not in blobs:
            raise ValueError(f"skops schema names {file_name!r}, missing from the zip")
        suffix = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        new_name = renamed.setdefault(file_name, f"{len(renamed) + 1:06d}.{suffix}")
        node["file"] = new_name
    for value in node.values():
        _renumber(value, ids, renamed, blobs)
