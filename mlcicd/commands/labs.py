"""CLI subcommands for the labs: ``labs run``, ``make-student``, ``execute`` and ``list``.

- ``mlcicd labs run`` executes the papermill parameter matrix (all of it, one lab, one
  set, or the smoke subset) in parallel and prints a summary table; exit 1 if a run failed.
- ``mlcicd labs make-student`` writes the learner versions of the solution notebooks
  (``--check`` only says whether the committed ones are up to date).
- ``mlcicd labs execute`` rebuilds the committed notebooks from ``labs/src``.
- ``mlcicd labs lab`` opens the learner notebooks in JupyterLab on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mlcicd.commands import options
from mlcicd.errors import CheckFailed, InputError
from mlcicd.paths import PathCheck

DEFAULT_MATRIX = "labs/params.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    labs = subparsers.add_parser("labs", help="run, build and convert the lab notebooks")
    sub = labs.add_subparsers(dest="labs_command", metavar="ACTION")
    labs.set_defaults(func=lambda args: _usage(labs))

    run = sub.add_parser("run", help="execute the labs' papermill parameter matrix")
    run.add_argument("--lab", help="only this lab (its name, or a prefix such as 01)")
    run.add_argument("--params", dest="params_name", help="only this parameter set")
    run.add_argument("--matrix", default=DEFAULT_MATRIX, help="parameter matrix YAML file")
    run.add_argument("--jobs", type=_positive_int, default=1, help="worker processes")
    run.add_argument("--out", default="_build/labs", help="folder for notebooks and metrics")
    run.add_argument("--smoke", action="store_true", help="only the matrix's smoke subset")
    run.add_argument("--random", type=options.count(1, 1_000), metavar="N",
                     help="instead of the named sets, N random legal sets from the ranges "
                     "(at most 1,000)")
    run.add_argument("--seed", type=options.seed, default=0,
                     help="seed of the --random draw, in [0, 2**32)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.set_defaults(func=_run)

    student = sub.add_parser("make-student", help="write learner versions of solution notebooks")
    student.add_argument("notebooks", nargs="*", help="solution notebooks (default: all)")
    student.add_argument("--solutions", default="labs/solutions", help="solution folder")
    student.add_argument("--out-dir", default="labs/student", help="learner notebook folder")
    student.add_argument("--check", action="store_true", help="only check they are up to date")
    options.add_force(student)
    student.set_defaults(func=_make_student)

    execute = sub.add_parser("execute", help="rebuild solution and learner notebooks from src")
    execute.add_argument("--lab", help="only this lab (name or prefix)")
    execute.add_argument("--src", default="labs/src", help="folder of the lab sources")
    execute.add_argument("--solutions", default="labs/solutions", help="solution folder")
    execute.add_argument("--student", default="labs/student", help="learner notebook folder")
    execute.add_argument("--check", action="store_true", help="only check they are up to date")
    execute.set_defaults(func=_execute)

    lab = sub.add_parser("lab", help="open the learner notebooks in JupyterLab (127.0.0.1)")
    lab.add_argument("--folder", default="labs/student", help="notebook folder to serve")
    lab.add_argument("--port", type=int, default=8888, help="port on 127.0.0.1")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.set_defaults(func=_lab)

    listing = sub.add_parser("list", help="list the labs and their parameter sets")
    listing.add_argument("--matrix", default=DEFAULT_MATRIX, help="parameter matrix YAML file")
    listing.set_defaults(func=_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    # One line naming the missing action (mlcicd.cli.OneLineParser.missing_action).
    return parser.missing_action()


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _run(args: argparse.Namespace) -> int:
    from mlcicd.labs.params import load_matrix
    from mlcicd.labs.runner import format_summary, run_all

    PathCheck().read_file("--matrix", args.matrix).write_folder("--out", args.out).check()
    matrix = load_matrix(args.matrix)
    if args.random:
        specs = _random_specs(matrix, args)
    else:
        specs = matrix.select(args.lab, args.params_name, smoke=args.smoke)
    if not specs:
        raise InputError(f"{args.matrix}: nothing to run for this selection")
    results = run_all(specs, args.out, jobs=args.jobs, progress=not args.no_progress)
    print(format_summary(results))
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(
            f"mlcicd: FAILED lab {r.lab} [{r.params_name}] {r.parameters}: {r.error}",
            file=sys.stderr,
        )
    if failed:
        raise CheckFailed(f"{len(failed)} of {len(results)} lab runs failed")
    return 0


def _random_specs(matrix: Any, args: argparse.Namespace) -> list[Any]:
    from mlcicd.labs.params import RunSpec, notebook_parameters
    from mlcicd.labs.ranges import load_ranges, random_sets

    entries = [matrix.find_lab(args.lab)] if args.lab else list(matrix.labs.values())
    ranges = {lab: r for lab, r in load_ranges(args.matrix).items()
              if lab in {e.name for e in entries}}
    without = [e.name for e in entries if not ranges.get(e.name) or not ranges[e.name].ranges]
    if without:
        raise InputError(f"{args.matrix}: lab(s) {', '.join(without)} declare no ranges")
    defaults = {e.name: notebook_parameters(e.notebook) for e in entries}
    notebooks = {e.name: e.notebook for e in entries}
    return [RunSpec(lab, name, notebooks[lab], changes)
            for lab, name, changes in random_sets(defaults, ranges, args.random, args.seed)]


def _make_student(args: argparse.Namespace) -> int:
    from mlcicd.labs.student import convert, make_student

    paths = [Path(p) for p in args.notebooks] or sorted(Path(args.solutions).glob("*.ipynb"))
    if not paths:
        raise InputError(f"{args.solutions}: no solution notebooks found")
    check = PathCheck(force=args.force)
    for path in paths:
        check.read_file("NOTEBOOK", path)
    if not args.check:
        check.write_folder("--out-dir", args.out_dir, files=[p.name for p in paths])
    check.check()
    notebooks = {path: _read_notebook(path) for path in paths}
    stale = []
    for path in paths:
        target = Path(args.out_dir) / path.name
        if args.check:
            import nbformat

            wanted = nbformat.writes(make_student(notebooks[path])) + "\n"
            if not target.is_file() or target.read_text("utf-8") != wanted:
                stale.append(str(target))
        else:
            convert(path, target)
            print(f"wrote {target}")
    if stale:
        raise CheckFailed("out of date (run `mlcicd labs make-student`): " + ", ".join(stale))
    return 0


def _execute(args: argparse.Namespace) -> int:
    from mlcicd.labs.build import build_lab, find_sources, stale_notebooks

    if args.check:
        problems = stale_notebooks(args.src, args.solutions, args.student)
        if problems:
            raise CheckFailed("; ".join(problems))
        print("lab notebooks are up to date")
        return 0
    sources = find_sources(args.src, args.lab)
    for source in sources:
        _require_text(source)
    PathCheck().write_folder("--solutions", args.solutions).write_folder(
        "--student", args.student).check()
    for source in sources:
        solution, student = build_lab(source, args.solutions, args.student)
        print(f"wrote {solution} and {student}")
    return 0


def _read_notebook(path: Path) -> object:
    """The notebook at ``path``, or an :class:`InputError` saying why it is not one."""
    import nbformat

    from mlcicd.io import read_json

    try:
        read_json(path)  # bounded: a binary, deep or huge-number file fails here, one line
    except InputError as exc:
        raise InputError(f"{exc} (expected a Jupyter notebook)") from None
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except (ValueError, KeyError, TypeError, AttributeError,
            nbformat.ValidationError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a Jupyter notebook ({reason[:120]})") from None
    return notebook


def _require_text(source: Path) -> None:
    try:
        source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source}: not a lab source (not UTF-8 text)") from None


def _lab(args: argparse.Namespace) -> int:
    import subprocess

    from mlcicd.labs.frontend import lab_command

    command = lab_command(args.folder, port=args.port, open_browser=not args.no_browser)
    print(f"JupyterLab on http://127.0.0.1:{args.port}/lab (the URL with its token follows); "
          "Ctrl-C stops it")
    try:
        return subprocess.call(command)  # noqa: S603 - our own interpreter, fixed arguments
    except KeyboardInterrupt:
        return 0


def _list(args: argparse.Namespace) -> int:
    from mlcicd.labs.params import load_matrix

    matrix = load_matrix(args.matrix)
    for entry in matrix.labs.values():
        for name, values in entry.sets.items():
            smoke = "  (smoke)" if (entry.name, name) in matrix.smoke else ""
            print(f"{entry.name}  {name}  {values}{smoke}")
    return 0
