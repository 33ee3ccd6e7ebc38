"""Where a command reads and writes, checked before it changes anything.

Every CLI command lists its inputs and outputs in a :class:`PathCheck` and calls
:meth:`PathCheck.check` before it reads data or writes a byte. The rules:

* an input file or artifact folder must exist and be of the right kind;
* an output may not be one of the inputs, nor lie inside a model artifact (a folder
  holding ``metadata.json``), unless ``--force``: a typo in ``--out`` must not destroy
  the data set or the model the command was given;
* an output that already exists is replaced only where the command says so (reports
  are regenerated freely; data files need ``--force``);
* an output cannot be a folder, nor sit below a file, nor in a folder we cannot write;
* an output with a fixed set of formats (a figure) has a known suffix.

The module only uses :mod:`os` and :mod:`pathlib`, so command modules may import it
while the parser is built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mlcicd.errors import InputError

__all__ = ["ARTIFACT_MARKER", "PLOT_SUFFIXES", "PathCheck", "is_artifact_folder"]

#: The file that makes a folder a model artifact (see :mod:`mlcicd.artifacts`).
ARTIFACT_MARKER = "metadata.json"

#: Figure formats matplotlib writes with its default backends (a test checks the list).
PLOT_SUFFIXES = (".avif", ".eps", ".gif", ".jpeg", ".jpg", ".pdf", ".pgf", ".png", ".ps", ".raw",
                 ".rgba", ".svg", ".svgz", ".tif", ".tiff", ".webp")


def is_artifact_folder(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds a model artifact (its ``metadata.json``)."""
    return (Path(folder) / ARTIFACT_MARKER).is_file()


@dataclass(frozen=True)
class _Entry:
    option: str
    path: Path
    kind: str  # "file" or "folder"
    replace: bool = True
    suffixes: tuple[str, ...] = ()
    what: str = "file"


class PathCheck:
    """The inputs and outputs of one command, checked together by :meth:`check`.

    Parameters
    ----------
    force : bool
        The command's ``--force``: allows an output to be an input, to lie inside an
        artifact folder, and to replace an existing data file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "data.csv").write_text("a\\n1\\n")
    >>> paths = PathCheck().read_file("--data", folder / "data.csv")
    >>> paths.write_file("--out", folder / "data.csv").check()
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: --out .../data.csv is also the input --data; refusing to \
overwrite it (use --force if you mean it)
    """

    def __init__(self, *, force: bool = False) -> None:
        self.force = force
        self._inputs: list[_Entry] = []
        self._outputs: list[_Entry] = []

    def read_file(self, option: str, path: str | os.PathLike[str] | None) -> PathCheck:
        """An input file (skipped when ``path`` is ``None``: an option not given)."""
        if path is not None:
            self._inputs.append(_Entry(option, Path(path), "file"))
        return self

    def read_folder(self, option: str, path: str | os.PathLike[str] | None, *,
                    what: str = "model artifact") -> PathCheck:
        """An input folder: by default a model artifact (``what`` names it in errors)."""
        if path is not None:
            self._inputs.append(_Entry(option, Path(path), "folder", what=what))
        return self

    def write_file(
        self,
        option: str,
        path: str | os.PathLike[str] | None,
        *,
        replace: bool = True,
        suffixes: Iterable[str] = (),
    ) -> PathCheck:
        """An output file; ``replace=False`` refuses an existing one without ``--force``."""
        if path is not None:
            self._outputs.append(
                _Entry(option, Path(path), "file", replace, tuple(s.lower() for s in suffixes))
            )
        return self

    def write_folder(
        self,
        option: str,
        path: str | os.PathLike[str] | None,
        *,
        files: Iterable[str] = (),
        replace: bool = True,
    ) -> PathCheck:
        """An output folder and the ``files`` the command writes into it."""
        if path is None:
            return self
        folder = Path(path)
        self._outputs.append(_Entry(option, folder, "folder"))
        for name in files:
            self._outputs.append(_Entry(option, folder / name, "file", replace))
        return self

    def check(self) -> None:
        """Raise an :class:`InputError` for the first problem found; return if none."""
        for entry in self._inputs:
            _check_input(entry)
        seen: dict[Path, str] = {}
        for entry in self._outputs:
            resolved = entry.path.resolve()
            if entry.kind == "file":
                if resolved in seen and seen[resolved] != entry.option:
                    raise InputError(f"{entry.option} {entry.path}: also given to "
                                     f"{seen[resolved]}; give each output its own file")
                seen[resolved] = entry.option
            self._check_output(entry, resolved)

    def _check_output(self, entry: _Entry, resolved: Path) -> None:
        where = f"{entry.option} {entry.path}"
        if entry.kind == "file" and resolved.is_dir():
            raise InputError(f"{where}: is a folder; give a file name")
        if entry.kind == "file" and resolved.exists() and not resolved.is_file():
            # Replacing a fifo or a device node (as root: /dev/null) is never meant.
            raise InputError(f"{where}: exists and is not a regular file; give a file name")
        if entry.kind == "folder" and resolved.exists() and not resolved.is_dir():
            raise InputError(f"{where}: exists and is not a folder")
        _check_writable(where, resolved)
        if entry.suffixes and entry.path.suffix.lower() not in entry.suffixes:
            found = f"{entry.path.suffix!r}" if entry.path.suffix else "no suffix"
            raise InputError(f"{where}: unknown file type ({found}); "
                             f"use one of {', '.join(entry.suffixes)}")
        if entry.kind == "folder":
            container = self._artifact_containing(resolved.parent)
            if container is not None and not self.force:
                raise InputError(f"{where}: is inside the model artifact {container}; "
                                 "refusing to write there (use --force if you mean it)")
            return
        for source in self._inputs:
            if source.kind == "file" and _same_file(resolved, source.path) and not self.force:
                raise InputError(f"{where} is also the input {source.option}; refusing to "
                                     "overwrite it (use --force if you mean it)")
        container = self._artifact_containing(resolved.parent)
        if container is not None and not self.force:
            raise InputError(f"{where}: is inside the model artifact {container}; refusing "
                             "to write there (use --force if you mean it)")
        if resolved.exists() and not entry.replace and not self.force:
            raise InputError(f"{where}: already exists; use --force to overwrite it")

    def _artifact_containing(self, folder: Path) -> Path | None:
        for source in self._inputs:
            if source.kind == "folder" and _is_within(folder, source.path.resolve()) and (
                is_artifact_folder(source.path)
            ):
                return source.path
        existing = _nearest_existing(folder)
        return existing if existing is not None and is_artifact_folder(existing) else None


def _check_input(entry: _Entry) -> None:
    where = f"{entry.option} {entry.path}"
    if not entry.path.exists():
        if entry.kind == "file":
            raise InputError(f"{where}: file not found")
        raise InputError(f"{where}: no {entry.what} (folder not found)")
    if entry.kind == "file" and entry.path.is_dir():
        raise InputError(f"{where}: is a folder, expected a file")
    if entry.kind == "file" and not entry.path.is_file():
        # A fifo blocks the reader and /dev/zero never ends: only regular files are read.
        raise InputError(f"{where}: not a regular file (a fifo or device), expected a file")
    if entry.kind == "folder" and not entry.path.is_dir():
        raise InputError(f"{where}: is a file, expected a folder holding a {entry.what}")


def _check_writable(where: str, resolved: Path) -> None:
    existing = _nearest_existing(resolved if resolved.is_dir() else resolved.parent)
    if existing is None:  # pragma: no cover - the root always exists
        raise InputError(f"{where}: no existing folder above it")
    if not existing.is_dir():
        raise InputError(f"{where}: cannot be created, {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{where}: the folder {existing} is not writable")


def _nearest_existing(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return None


def _same_file(resolved: Path, other: Path) -> bool:
    if resolved == other.resolve():
        return True
    try:
        return resolved.exists() and os.path.samefile(resolved, other)
    except OSError:
        return False


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
