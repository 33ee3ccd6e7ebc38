"""Build the committed lab notebooks from their sources, reproducibly.

A lab is written as a jupytext "percent" script, ``labs/src/NN_name.py`` (readable diffs,
linted with the rest of the code). :func:`build_lab` turns it into

- ``labs/solutions/NN_name.ipynb``: executed, with its outputs (the book renders it and
  ``pytest --nbval`` re-executes it and compares the outputs);
- ``labs/student/NN_name.ipynb``: the learner's version made by
  :func:`mlcicd.labs.student.make_student`.

Cell ids are numbered and execution timings are not recorded, so building twice gives
the same notebooks apart from figures' pixels. ``mlcicd labs execute`` calls this.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlcicd.errors import CheckFailed, InputError
from mlcicd.labs.checking import failed_checks
from mlcicd.labs.recorder import METRICS_ENV
from mlcicd.labs.student import make_student, write_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

__all__ = ["build_lab", "find_sources", "notebook_from_source", "stale_notebooks"]


def find_sources(src_dir: str | Path, lab: str | None = None) -> list[Path]:
    """The lab sources in ``src_dir`` (all, or the one whose name starts with ``lab``)."""
    sources = sorted(Path(src_dir).glob("[0-9][0-9]_*.py"))
    if lab:
        sources = [s for s in sources if s.stem == lab or s.stem.startswith(lab)]
    if not sources:
        raise InputError(f"{src_dir}: no lab source matching {lab or 'NN_name.py'!r}")
    return sources


def notebook_from_source(source: str | Path) -> Any:
    """Read a percent script as an unexecuted notebook with stable ids and metadata."""
    import jupytext
    import nbformat

    notebook = jupytext.read(str(source), fmt="py:percent")
    notebook.metadata = nbformat.NotebookNode(
        {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    )
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:02d}"
        tags = cell.get("metadata", {}).get("tags", [])
        cell["metadata"] = nbformat.NotebookNode({"tags": list(tags)} if tags else {})
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nbformat.validate(notebook)
    return notebook


def execute(notebook: Any, cwd: Path, *, timeout: int = 600) -> Any:
    """Execute ``notebook`` in a fresh python3 kernel; a failed self-check is an error."""
    from nbclient import NotebookClient

    saved = {key: os.environ.get(key) for key in (METRICS_ENV,)}
    os.environ.pop(METRICS_ENV, None)
    try:
        NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name=KERNELSPEC["name"],
            resources={"metadata": {"path": str(cwd)}},
            record_timing=False,
        ).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    not_yet = failed_checks(notebook)
    if not_yet:
        raise CheckFailed(f"{len(not_yet)} self-check(s) of the solution failed: {not_yet[0]}")
    return notebook


def build_lab(
    source: str | Path,
    solutions_dir: str | Path,
    student_dir: str | Path,
    *,
    run: bool = True,
) -> tuple[Path, Path]:
    """Write the executed solution notebook and the learner's notebook for ``source``."""
    source = Path(source)
    solutions, student = Path(solutions_dir), Path(student_dir)
    notebook = notebook_from_source(source)
    make_student(notebook)  # fails early, before a long execution, on a malformed solution cell
    if run:
        solutions.mkdir(parents=True, exist_ok=True)
        notebook = execute(notebook, cwd=solutions.resolve())
    name = f"{source.stem}.ipynb"
    solution_path = write_notebook(notebook, solutions / name)
    student_path = write_notebook(make_student(notebook), student / name)
    return solution_path, student_path


def stale_notebooks(
    src_dir: str | Path, solutions_dir: str | Path, student_dir: str | Path
) -> list[str]:
    """Describe every committed notebook that its source would not produce; empty if none.

    A solution is stale when its cells' sources or tags differ from the source script; a
    learner notebook is stale when it differs from ``make_student`` of the solution.
    """
    import nbformat

    problems = []
    for source in find_sources(src_dir):
        name = f"{source.stem}.ipynb"
        solution_path, student_path = Path(solutions_dir) / name, Path(student_dir) / name
        if not solution_path.is_file():
            problems.append(f"{solution_path}: missing (run `mlcicd labs execute`)")
            continue
        solution = nbformat.read(solution_path, as_version=4)
        expected = notebook_from_source(source)
        if _cells_signature(solution) != _cells_signature(expected):
            problems.append(f"{solution_path}: out of date with {source}")
        wanted = nbformat.writes(make_student(solution)) + "\n"
        if not student_path.is_file() or student_path.read_text("utf-8") != wanted:
            problems.append(f"{student_path}: not what `mlcicd labs make-student` produces")
    return problems


def _cells_signature(notebook: Any) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (c.cell_type, c.source, tuple(c.get("metadata", {}).get("tags", [])))
        for c in notebook.cells
    ]
