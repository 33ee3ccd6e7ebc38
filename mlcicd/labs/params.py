"""The parameter matrix of the labs (``labs/params.yaml``), checked against the notebooks.

The file names, for each lab, its notebook and a few named parameter sets::

    smoke:                       # the subset `make test` runs
      - 01_data_drift/severe_drift
    labs:
      01_data_drift:
        notebook: solutions/01_data_drift.ipynb   # relative to the matrix file
        sets:
          default: {}                             # the notebook's own defaults
          severe_drift: {drift_level: 3.0}

Before anything runs, every set is compared with the notebook's ``parameters`` cell
(read by :func:`papermill.inspect_notebook`): an unknown name or a value of the wrong
type is an :class:`~mlcicd.errors.InputError` naming the lab, the set and the parameter.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcicd.errors import InputError
from mlcicd.io import read_yaml

__all__ = [
    "LabEntry",
    "LabMatrix",
    "RunSpec",
    "check_parameters",
    "load_matrix",
    "notebook_parameters",
]


@dataclass(frozen=True)
class RunSpec:
    """One notebook execution: a lab, the name of its parameter set, and the values."""

    lab: str
    params_name: str
    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LabEntry:
    """A lab of the matrix: its notebook and its named parameter sets."""

    name: str
    notebook: Path
    sets: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class LabMatrix:
    """Every lab of the matrix file, plus the ``smoke`` subset as (lab, set) pairs."""

    path: Path
    labs: dict[str, LabEntry]
    smoke: tuple[tuple[str, str], ...] = ()

    def select(
        self, lab: str | None = None, params_name: str | None = None, *, smoke: bool = False
    ) -> list[RunSpec]:
        """Return the runs to execute, optionally for one lab, one set, or the smoke subset.

        Without ``lab``, ``params_name`` selects that set in every lab that has it.
        """
        labs = [self.find_lab(lab)] if lab else list(self.labs.values())
        if params_name and not any(params_name in entry.sets for entry in labs):
            known = sorted({name for entry in labs for name in entry.sets})
            where = f"lab {labs[0].name!r} has no" if lab else "no lab has a"
            raise InputError(
                f"{self.path}: {where} parameter set {params_name!r} (sets: {', '.join(known)})"
            )
        pairs = set(self.smoke) if smoke else None
        specs = []
        for entry in labs:
            for name, values in entry.sets.items():
                if params_name and name != params_name:
                    continue
                if pairs is not None and (entry.name, name) not in pairs:
                    continue
                specs.append(RunSpec(entry.name, name, entry.notebook, dict(values)))
        return specs

    def find_lab(self, name: str) -> LabEntry:
        """The lab called ``name``, or the only one whose name starts with it (``"01"``)."""
        if name in self.labs:
            return self.labs[name]
        matches = [entry for key, entry in self.labs.items() if key.startswith(name)]
        if len(matches) == 1:
            return matches[0]
        raise InputError(f"{self.path}: no lab {name!r} (labs: {', '.join(self.labs)})")


def load_matrix(path: str | Path) -> LabMatrix:
    """Read and check the matrix file; every problem is an :class:`InputError`."""
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source}: parameter matrix not found")
    raw = read_yaml(source)  # bounded: no aliases, limited nesting and number size
    if not isinstance(raw, dict) or not isinstance(raw.get("labs"), dict) or not raw["labs"]:
        raise InputError(f"{source}: expected a mapping with a non-empty 'labs' mapping")
    labs = {}
    for name, spec in raw["labs"].items():
        labs[str(name)] = _lab_entry(source, str(name), spec)
    smoke = []
    for item in raw.get("smoke") or []:
        lab, _, set_name = str(item).partition("/")
        if lab not in labs or set_name not in labs[lab].sets:
            raise InputError(f"{source}: smoke entry {item!r} is not a known 'lab/set' pair")
        smoke.append((lab, set_name))
    return LabMatrix(source, labs, tuple(smoke))


def _lab_entry(source: Path, name: str, spec: Any) -> LabEntry:
    if not isinstance(spec, dict) or not isinstance(spec.get("sets"), dict) or not spec["sets"]:
        raise InputError(f"{source}: lab {name!r} needs a non-empty 'sets' mapping")
    notebook = source.parent / str(spec.get("notebook", f"solutions/{name}.ipynb"))
    if not notebook.is_file():
        raise InputError(f"{source}: lab {name!r}: notebook {notebook} not found")
    sets = {}
    for set_name, values in spec["sets"].items():
        values = {} if values is None else values
        if not isinstance(values, dict):
            raise InputError(
                f"{source}: lab {name!r} set {set_name!r}: expected a mapping of "
                f"parameter: value, got {type(values).__name__}"
            )
        sets[str(set_name)] = {str(k): v for k, v in values.items()}
    return LabEntry(name, notebook, sets)


def notebook_parameters(notebook: str | Path) -> dict[str, Any]:
    """The parameters a notebook declares in its ``parameters`` cell, with their defaults.

    A default that is not a plain literal (an expression) is reported as ``None``,
    which accepts a value of any type.
    """
    import papermill

    path = Path(notebook)
    declared = papermill.inspect_notebook(str(path))
    if not declared:
        raise InputError(f"{path}: no cell tagged 'parameters'")
    unread = [name for name in _assigned_names(path) if name not in declared]
    if unread:
        raise InputError(
            f"{path}: papermill cannot read the parameter(s) {', '.join(unread)} of the "
            "parameters cell (keep one 'name = literal  # comment' per line, no '=' in comments)"
        )
    defaults = {}
    for name, info in declared.items():
        try:
            defaults[name] = ast.literal_eval(str(info.get("default")))
        except (ValueError, SyntaxError):
            defaults[name] = None
    return defaults


def _assigned_names(path: Path) -> list[str]:
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    names: list[str] = []
    for cell in notebook.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign):
                    names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def check_parameters(spec: RunSpec, defaults: dict[str, Any]) -> None:
    """Raise an :class:`InputError` naming every unknown or mistyped parameter of ``spec``."""
    problems = []
    for name, value in spec.parameters.items():
        if name not in defaults:
            problems.append(f"unknown parameter {name!r} (the notebook has: {', '.join(defaults)})")
            continue
        expected = _type_name(defaults[name])
        if not _same_kind(value, defaults[name]):
            problems.append(
                f"parameter {name!r} must be {expected} like the notebook's default "
                f"{defaults[name]!r}, got {type(value).__name__} {value!r}"
            )
    if problems:
        raise InputError(f"lab {spec.lab!r}, set {spec.params_name!r}: " + "; ".join(problems))


def _same_kind(value: Any, default: Any) -> bool:
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


def _type_name(default: Any) -> str:
    if isinstance(default, float):
        return "a number"
    return {bool: "a bool", int: "an int", str: "a string", list: "a list", dict: "a mapping"}.get(
        type(default), f"a {type(default).__name__}"
    )
