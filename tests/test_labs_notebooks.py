"""The committed lab notebooks: up to date, well formed, with figures, runnable by a learner."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from mlcicd.labs.build import stale_notebooks
from mlcicd.labs.params import load_matrix, notebook_parameters
from mlcicd.labs.ranges import load_ranges
from mlcicd.labs.recorder import METRICS_ENV
from mlcicd.labs.runner import check_specs

ROOT = Path(__file__).resolve().parents[1]
LABS = ROOT / "labs"
SOLUTIONS = sorted((LABS / "solutions").glob("*.ipynb"))
IDS = [p.stem for p in SOLUTIONS]
PLOTTING = re.compile(r"\.plot\(|\bplt\.|\bplot_\w+\(")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(notebook: nbformat.NotebookNode) -> list:
    return [c for c in notebook.cells if c.cell_type == "code"]


def tagged(notebook: nbformat.NotebookNode, tag: str) -> list:
    return [c for c in notebook.cells if tag in c.get("metadata", {}).get("tags", [])]


def test_there_is_a_solution_and_a_learner_notebook_for_every_lab_source():
    sources = sorted(p.stem for p in (LABS / "src").glob("[0-9][0-9]_*.py"))
    assert sources and sources == IDS
    assert sorted(p.stem for p in (LABS / "student").glob("*.ipynb")) == sources


def test_committed_notebooks_are_what_the_build_commands_produce():
    assert stale_notebooks(LABS / "src", LABS / "solutions", LABS / "student") == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_lab_opens_with_its_title_and_objectives(path):
    first = read(path).cells[0]
    number = int(path.stem[:2])
    assert first.cell_type == "markdown"
    assert re.match(rf"# Lab {number}: \S", first.source)
    assert "Learning objectives" in first.source


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_lab_has_parameters_exercises_and_a_check_after_each(path):
    notebook = read(path)
    assert len(tagged(notebook, "parameters")) == 1
    cells = notebook.cells
    solutions = [i for i, c in enumerate(cells) if "solution" in c.metadata.get("tags", [])]
    assert solutions, "a lab needs exercises"
    for index in solutions:
        following = [c for c in cells[index + 1 :] if c.cell_type == "code"][0]
        assert "checks.check_" in following.source, f"no check cell after cell {index}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_solution_ran_cleanly_and_every_check_passed(path):
    notebook = read(path)
    for cell in code_cells(notebook):
        assert cell.execution_count is not None, "the committed solution is executed"
        assert not [o for o in cell.outputs if o.output_type == "error"]
        assert not [o for o in cell.outputs if o.get("name") == "stderr"], "warnings in output"
        if "checks.check_" in cell.source:
            text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
            assert text.startswith("PASS"), text


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_every_plotting_cell_stored_a_figure(path):
    plotting = [c for c in code_cells(read(path)) if PLOTTING.search(c.source)]
    for cell in plotting:
        mimes = {m for o in cell.outputs for m in o.get("data", {})}
        assert "image/png" in mimes, f"no figure stored for: {cell.source[:80]!r}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_learner_version_hides_every_solution(path):
    learner = read(LABS / "student" / path.name)
    solution = read(path)
    for before, after in zip(solution.cells, learner.cells, strict=True):
        if "solution" in before.metadata.get("tags", []) and before.cell_type == "code":
            assert "# TODO" in after.source and "raise NotImplementedError" in after.source
            assert after.source != before.source
    assert all(not c.outputs for c in code_cells(learner))


def test_every_parameter_set_fits_its_notebook():
    matrix = load_matrix(LABS / "params.yaml")
    assert set(matrix.labs) == set(IDS)
    for entry in matrix.labs.values():
        assert "default" in entry.sets and len(entry.sets) >= 3
    check_specs(matrix.select())


#: The smoke set of each lab (labs/params.yaml), which the learner run below uses too.
SMOKE_SETS = dict(load_matrix(LABS / "params.yaml").smoke)
#: Values the learner run adds to the smoke set. Lab 4 streams the least traffic its
#: ranges allow: every cell still runs (the exercises are blank, so no check can pass
#: anyway), for 2 CPU-s less than 6000 requests per simulated stream.
LEARNER_EXTRA = {"04_deployment_strategies": {"n_requests": 800}}


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_learner_notebook_runs_and_each_check_says_not_yet(path, tmp_path, monkeypatch):
    """Blank exercises: every check says NOT YET and no cell fails.

    The learner notebook runs with the lab's smoke parameter set, the cheaper run for most
    labs (plus :data:`LEARNER_EXTRA`, checked legal below); its cells other than the
    exercises are the solution's, which nbval runs with the defaults. Papermill stops at
    the first cell that raises, so an error fails the test.
    """
    import papermill

    monkeypatch.delenv(METRICS_ENV, raising=False)
    matrix = load_matrix(LABS / "params.yaml")
    parameters = {**matrix.labs[path.stem].sets[SMOKE_SETS[path.stem]],
                  **LEARNER_EXTRA.get(path.stem, {})}
    defaults = notebook_parameters(LABS / "student" / path.name)
    assert load_ranges(LABS / "params.yaml")[path.stem].problems({**defaults,
                                                                  **parameters}) == []
    output = tmp_path / path.name
    papermill.execute_notebook(str(LABS / "student" / path.name), str(output),
                               parameters=parameters, kernel_name="python3",
                               progress_bar=False, cwd=str(tmp_path))
    learner = read(output)
    verdicts = [
        "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        for cell in code_cells(learner)
        if "checks.check_" in cell.source
    ]
    assert verdicts and all(v.startswith("NOT YET") for v in verdicts), verdicts
