"""Turn a solution notebook into the learner's version.

The solution notebook is the single source of a lab. Two things in it are answers:

- a code cell tagged ``solution``: every top-level function it defines keeps its
  signature and docstring, and its body becomes a ``# TODO`` and
  ``raise NotImplementedError``; the rest of the cell (imports, constants) stays;
- the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` in any code cell
  (inside a function), replaced the same way.

A markdown cell tagged ``solution`` (a written answer) becomes an empty answer box.
Every output is cleared, so the learner starts from a clean notebook. The conversion is
deterministic: the same solution always gives byte-identical learner notebooks, which
lets a test compare the committed learner versions with what this module produces.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path
from typing import Any

from mlcicd.errors import InputError
from mlcicd.io import atomic_write_text

SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
ANSWER_BOX = "**Your answer:** *write it here.*"
_BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\b(.*)$")
_END = re.compile(r"^\s*# END SOLUTION\b")

__all__ = ["make_student", "stub_functions", "stub_marked_regions", "convert", "write_notebook"]


def stub_functions(source: str, *, where: str = "cell") -> str:
    """Replace the body of every top-level function in ``source`` by a TODO stub.

    Examples
    --------
    >>> print(stub_functions('''def double(x: int) -> int:
    ...     \"\"\"Return twice x.\"\"\"
    ...     return 2 * x'''))
    def double(x: int) -> int:
        \"\"\"Return twice x.\"\"\"
        # TODO: write the body of `double`
        raise NotImplementedError("double")
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise InputError(f"{where}: not valid Python ({exc.msg}, line {exc.lineno})") from None
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not functions:
        raise InputError(
            f"{where}: tagged {SOLUTION_TAG!r} but defines no function to turn into a stub"
        )
    lines = source.splitlines()
    # Work bottom-up so that earlier line numbers stay valid.
    for func in reversed(functions):
        first = func.body[0]
        if first.lineno == func.lineno:
            raise InputError(f"{where}: put the body of {func.name!r} on its own lines")
        keep_until = func.body[0].lineno - 1
        if _is_docstring(first):
            keep_until = first.end_lineno or first.lineno
        indent = _indent_of(lines[first.lineno - 1])
        stub = [
            f"{indent}# TODO: write the body of `{func.name}`",
            f'{indent}raise NotImplementedError("{func.name}")',
        ]
        lines[keep_until : func.end_lineno] = stub
    return "\n".join(lines)


def stub_marked_regions(source: str, *, where: str = "cell") -> str:
    """Replace each ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` region by a TODO stub.

    Text after ``# BEGIN SOLUTION`` becomes the TODO's hint.

    Examples
    --------
    >>> print(stub_marked_regions('''def f(x):
    ...     # BEGIN SOLUTION square it
    ...     return x * x
    ...     # END SOLUTION'''))
    def f(x):
        # TODO: square it
        raise NotImplementedError
    """
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        begin = _BEGIN.match(line)
        if begin:
            if inside:
                raise InputError(f"{where}, line {number}: nested '# BEGIN SOLUTION'")
            inside = True
            indent, hint = begin.group(1), begin.group(2).strip() or "your code here"
            out += [f"{indent}# TODO: {hint}", f"{indent}raise NotImplementedError"]
        elif _END.match(line):
            if not inside:
                raise InputError(f"{where}, line {number}: '# END SOLUTION' without a BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise InputError(f"{where}: '# BEGIN SOLUTION' is never closed by '# END SOLUTION'")
    return "\n".join(out)


def make_student(notebook: Any) -> Any:
    """Return the learner's version of a solution notebook (the input is not modified)."""
    student = copy.deepcopy(notebook)
    for index, cell in enumerate(student.cells):
        where = f"cell {index}"
        tags = list(cell.get("metadata", {}).get("tags", []))
        is_solution = SOLUTION_TAG in tags
        if is_solution:
            tags = [EXERCISE_TAG if tag == SOLUTION_TAG else tag for tag in tags]
            cell.metadata["tags"] = list(dict.fromkeys(tags))
        if cell.cell_type == "code":
            source = stub_marked_regions(cell.source, where=where)
            cell.source = stub_functions(source, where=where) if is_solution else source
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown" and is_solution:
            cell.source = ANSWER_BOX
    for key in ("papermill", "widgets"):
        student.metadata.pop(key, None)
    return student


def write_notebook(notebook: Any, path: str | Path) -> Path:
    """Write ``notebook`` atomically, in nbformat's stable JSON layout."""
    import nbformat

    return atomic_write_text(path, nbformat.writes(notebook) + "\n")


def convert(solution: str | Path, student: str | Path) -> Path:
    """Read the solution notebook at ``solution`` and write its learner version to ``student``."""
    import nbformat

    source = Path(solution)
    if not source.is_file():
        raise InputError(f"{source}: notebook not found")
    notebook = nbformat.read(source, as_version=4)
    try:
        converted = make_student(notebook)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    return write_notebook(converted, student)


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
