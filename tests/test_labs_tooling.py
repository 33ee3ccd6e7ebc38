"""The lab tooling on small notebooks: recording, self-checks, learner versions, the matrix."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mlcicd.cli import main
from mlcicd.errors import InputError
from mlcicd.labs import METRICS_ENV, record
from mlcicd.labs.checking import answer_of, checker, failed_checks, ok
from mlcicd.labs.params import RunSpec, check_parameters, load_matrix
from mlcicd.labs.student import make_student, write_notebook

SOLUTION = '''import math


def area(radius: float) -> float:
    """Area of a circle of this radius."""
    return math.pi * radius**2
'''


def tiny_lab() -> nbformat.NotebookNode:
    """A three-step lab: parameters, a solved exercise with its check, a recorded value."""
    notebook = new_notebook(
        cells=[
            new_markdown_cell("# Lab 0: Tiny"),
            new_code_cell("n = 3\nscale = 1.5\nfail = False\nright = True",
                          metadata={"tags": ["parameters"]}),
            new_code_cell(SOLUTION, metadata={"tags": ["solution"]}),
            new_code_cell(
                "from mlcicd.labs import record\n"
                "if fail:\n"
                "    raise ValueError('asked to fail')\n"
                "record('total', n * scale)\n"
                "print(round(area(1.0), 2))"
            ),
            new_markdown_cell("Why?", metadata={"tags": ["solution"]}),
            new_code_cell("from mlcicd.labs.checking import fail, ok\n"
                          "ok('area is right') if right else fail('area of 1 should be pi')"),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
    return notebook


@pytest.fixture
def lab_dir(tmp_path):
    write_notebook(tiny_lab(), tmp_path / "solutions" / "00_tiny.ipynb")
    return tmp_path


def write_matrix(folder, sets, smoke=()):
    lines = ["labs:", "  00_tiny:", "    sets:"]
    lines += [f"      {name}: {json.dumps(values)}" for name, values in sets.items()]
    if smoke:
        lines += ["smoke:"] + [f"  - {item}" for item in smoke]
    path = folder / "params.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


# --- record -------------------------------------------------------------------------------


def test_recorded_values_land_in_the_metrics_file_of_the_run(tmp_path, monkeypatch):
    target = tmp_path / "m.json"
    monkeypatch.setenv(METRICS_ENV, str(target))
    record("accuracy", 0.5)
    record("retrained", True)
    assert json.loads(target.read_text()) == {"accuracy": 0.5, "retrained": True}


def test_recording_outside_a_run_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.delenv(METRICS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    record("x", 1)
    assert list(tmp_path.iterdir()) == []


def test_recording_an_unserialisable_value_is_a_clear_error():
    with pytest.raises(InputError, match="'model' must be a number"):
        record("model", object())


# --- checks -------------------------------------------------------------------------------


@checker
def check_double(func):
    return ok("doubles") if answer_of(func, 2) == 4 else _fail("double 2 should give 4")


def _fail(message):
    from mlcicd.labs.checking import fail

    return fail(message)


def test_a_stub_answer_gets_a_not_done_yet_hint():

    def double(x):
        raise NotImplementedError

    result = check_double(double)
    assert not result
    assert "`double` is still a stub" in str(result)


def test_a_crashing_answer_names_the_exception():
    result = check_double(lambda x: x / 0)
    assert "ZeroDivisionError" in str(result)


def test_a_right_answer_passes_and_a_wrong_one_explains():
    assert str(check_double(lambda x: 2 * x)) == "PASS: doubles"
    assert str(check_double(lambda x: x + 1)) == "NOT YET: double 2 should give 4"


def test_a_failed_check_returns_whatever_the_environment(monkeypatch):
    for name in ("MLCICD_LABS_STRICT", "CI", "PYTEST_CURRENT_TEST"):
        monkeypatch.setenv(name, "1")
    result = check_double(lambda x: x + 1)
    assert not result and "double 2 should give 4" in str(result)


def test_failed_checks_are_found_in_an_executed_notebook():
    notebook = new_notebook(cells=[new_code_cell("check()"), new_markdown_cell("NOT YET: text")])
    notebook.cells[0].outputs = [nbformat.v4.new_output(
        "execute_result", data={"text/plain": "NOT YET: double 2 should give 4"},
        execution_count=1)]
    assert failed_checks(notebook) == ["NOT YET: double 2 should give 4"]
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", text="PASS: fine\n")]
    assert failed_checks(notebook) == []


# --- learner versions -----------------------------------------------------------------------


def test_learner_version_keeps_signature_and_docstring_but_not_the_body():
    student = make_student(tiny_lab())
    source = student.cells[2].source
    assert "def area(radius: float) -> float:" in source
    assert '"""Area of a circle of this radius."""' in source
    assert "# TODO" in source and "raise NotImplementedError" in source
    assert "math.pi" not in source
    assert "import math" in source
    assert student.cells[2].metadata["tags"] == ["exercise"]


def test_learner_version_has_no_outputs_and_an_empty_answer_box():
    solution = tiny_lab()
    solution.cells[3].outputs = [nbformat.v4.new_output("stream", text="3.14\n")]
    solution.cells[3].execution_count = 4
    student = make_student(solution)
    assert all(c.outputs == [] for c in student.cells if c.cell_type == "code")
    assert "Why?" not in student.cells[4].source
    assert solution.cells[3].outputs, "the solution itself is left untouched"


def test_marked_solution_regions_become_todos():
    notebook = tiny_lab()
    notebook.cells[
        3
    ].source = "def f(x):\n    # BEGIN SOLUTION add one\n    return x + 1\n    # END SOLUTION"
    assert make_student(notebook).cells[3].source == (
        "def f(x):\n    # TODO: add one\n    raise NotImplementedError"
    )


def test_a_solution_cell_without_a_function_is_refused():
    notebook = tiny_lab()
    notebook.cells[2].source = "answer = 42"
    with pytest.raises(InputError, match="cell 2: tagged 'solution' but defines no function"):
        make_student(notebook)


def test_make_student_command_is_reproducible_and_check_detects_drift(lab_dir, capsys):
    solutions, student = lab_dir / "solutions", lab_dir / "student"
    args = ["labs", "make-student", "--solutions", str(solutions), "--out-dir", str(student)]
    assert main(args) == 0
    first = (student / "00_tiny.ipynb").read_bytes()
    assert main(args) == 0
    assert (student / "00_tiny.ipynb").read_bytes() == first
    assert main([*args, "--check"]) == 0
    (student / "00_tiny.ipynb").write_text(first.decode().replace("TODO", "DONE"))
    assert main([*args, "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


# --- parameters -------------------------------------------------------------------------------


DEFAULTS = {"n": 3, "scale": 1.5, "fail": False, "name": "x"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"sample_size": 10}, "unknown parameter 'sample_size'"),
        ({"n": "ten"}, "'n' must be an int"),
        ({"n": 2.5}, "'n' must be an int"),
        ({"scale": "big"}, "'scale' must be a number"),
        ({"fail": 1}, "'fail' must be a bool"),
    ],
)
def test_wrong_parameters_are_named_before_running(values, message):
    spec = RunSpec("00_tiny", "bad", None, values)
    with pytest.raises(InputError, match=message):
        check_parameters(spec, DEFAULTS)


def test_an_int_is_a_valid_value_for_a_float_parameter():
    check_parameters(RunSpec("00_tiny", "ok", None, {"scale": 2}), DEFAULTS)


def test_matrix_selects_one_lab_one_set_or_the_smoke_subset(lab_dir):
    path = write_matrix(lab_dir, {"default": {}, "big": {"n": 9}}, smoke=["00_tiny/big"])
    matrix = load_matrix(path)
    assert [s.params_name for s in matrix.select()] == ["default", "big"]
    assert [s.params_name for s in matrix.select("00", "big")] == ["big"]
    assert [s.parameters for s in matrix.select(smoke=True)] == [{"n": 9}]
    with pytest.raises(InputError, match="no lab has a parameter set 'huge'"):
        matrix.select(params_name="huge")
    with pytest.raises(InputError, match="lab '00_tiny' has no parameter set 'huge'"):
        matrix.select("00_tiny", "huge")
    with pytest.raises(InputError, match="no lab '07'"):
        matrix.select("07")


def test_a_smoke_entry_must_name_a_known_set(lab_dir):
    path = write_matrix(lab_dir, {"default": {}}, smoke=["00_tiny/nope"])
    with pytest.raises(InputError, match="smoke entry '00_tiny/nope'"):
        load_matrix(path)


def test_an_unknown_parameter_stops_the_run_before_any_notebook_executes(lab_dir, capsys):
    path = write_matrix(lab_dir, {"default": {}, "typo": {"sacle": 2.0}})
    out = lab_dir / "out"
    code = main(["labs", "run", "--matrix", str(path), "--out", str(out), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "set 'typo'" in err and "unknown parameter 'sacle'" in err
    assert not out.exists()


# --- running the matrix -----------------------------------------------------------------------


def test_matrix_run_reports_metrics_and_a_failure_with_its_cell(lab_dir, capsys):
    path = write_matrix(lab_dir, {"default": {}, "broken": {"fail": True}, "big": {"n": 10},
                                  "unchecked": {"right": False}})
    out = lab_dir / "out"
    code = main(
        ["labs", "run", "--matrix", str(path), "--out", str(out), "--jobs", "2", "--no-progress"]
    )
    captured = capsys.readouterr()
    assert code == 1, "a failed run makes the command fail"
    assert json.loads((out / "00_tiny" / "default.metrics.json").read_text()) == {"total": 4.5}
    assert json.loads((out / "00_tiny" / "big.metrics.json").read_text()) == {"total": 15.0}
    assert (out / "00_tiny" / "big.ipynb").is_file(), "the other runs still finished"
    table = captured.out
    assert "00_tiny  default" in table and "total=4.5" in table and "failed" in table
    assert "lab 00_tiny [broken] {'fail': True}" in captured.err
    assert "cell 4" in captured.err and "ValueError: asked to fail" in captured.err
    assert "lab 00_tiny [unchecked]" in captured.err
    assert "self-check(s) failed, first: NOT YET: area of 1 should be pi" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert [r["status"] for r in summary] == ["ok", "failed", "ok", "failed"]


def test_a_parameter_papermill_cannot_read_is_reported(tmp_path):
    from mlcicd.labs.params import notebook_parameters

    notebook = tiny_lab()
    notebook.cells[1].source = "n = 3  # rows (n = 3 is small)\nscale = 1.5"
    path = write_notebook(notebook, tmp_path / "odd.ipynb")
    with pytest.raises(InputError, match="papermill cannot read the parameter"):
        notebook_parameters(path)


def test_labs_list_shows_every_set_and_marks_the_smoke_ones(lab_dir, capsys):
    path = write_matrix(lab_dir, {"default": {}, "big": {"n": 9}}, smoke=["00_tiny/big"])
    assert main(["labs", "list", "--matrix", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["00_tiny  default  {}", "00_tiny  big  {'n': 9}  (smoke)"]


TINY_SOURCE = '''# %% [markdown]
# # Lab 0: Tiny
#
# **Learning objectives.** none.

# %% tags=["parameters"]
n = 2

# %% tags=["solution"]
def twice(x: int) -> int:
    """Twice x."""
    return 2 * x


# %%
print(twice(n))
'''


@pytest.mark.slow
def test_a_lab_source_builds_executed_solution_and_learner_version(tmp_path, capsys):
    src, solutions, student = tmp_path / "src", tmp_path / "solutions", tmp_path / "student"
    src.mkdir()
    (src / "00_tiny.py").write_text(TINY_SOURCE)
    dirs = ["--src", str(src), "--solutions", str(solutions), "--student", str(student)]
    assert main(["labs", "execute", *dirs]) == 0
    solution = nbformat.read(solutions / "00_tiny.ipynb", as_version=4)
    assert solution.cells[-1].outputs[0]["text"] == "4\n"
    assert [c.id for c in solution.cells] == [f"cell-{i:02d}" for i in range(4)]
    learner = nbformat.read(student / "00_tiny.ipynb", as_version=4)
    assert "return 2 * x" not in learner.cells[2].source
    assert main(["labs", "execute", "--check", *dirs]) == 0
    (src / "00_tiny.py").write_text(TINY_SOURCE.replace("n = 2", "n = 5"))
    assert main(["labs", "execute", "--check", *dirs]) == 1
    assert "out of date with" in capsys.readouterr().err
