"""Lab parameters: declared ranges, a one-sentence stop for illegal values, random legal sets."""

from __future__ import annotations

import statistics
import threading
from pathlib import Path

import pytest

from mlcicd.errors import InputError
from mlcicd.labs.params import load_matrix, notebook_parameters
from mlcicd.labs.ranges import (
    LabParameterError,
    check_lab_parameters,
    find_matrix,
    load_ranges,
    random_sets,
)
from mlcicd.labs.testrun import module_source_for, run_tests

ROOT = Path(__file__).resolve().parents[1]
MATRIX = ROOT / "labs" / "params.yaml"


@pytest.fixture(scope="module")
def defaults():
    matrix = load_matrix(MATRIX)
    return {lab: notebook_parameters(entry.notebook) for lab, entry in matrix.labs.items()}


def test_every_lab_declares_a_range_for_each_parameter_and_its_sets_are_legal(defaults):
    ranges = load_ranges(MATRIX)
    matrix = load_matrix(MATRIX)
    assert set(ranges) == set(matrix.labs)
    for lab, entry in matrix.labs.items():
        assert set(ranges[lab].ranges) == set(defaults[lab]), lab
        for name, values in entry.sets.items():
            assert ranges[lab].problems({**defaults[lab], **values}) == [], (lab, name)


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"n_stream": 100}, "n_stream = 100 is not allowed: it must be a whole number from 600 "
                            "to 10000."),
        ({"drift_kind": "sideways"}, "drift_kind = 'sideways' is not allowed: it must be one "
                                     "of 'covariate', 'concept', 'prior'."),
        ({"window": 2.5}, "window = 2.5 is not allowed: it must be a whole number"),
        ({"drift_at": 5000, "n_stream": 3000}, "the parameters must satisfy drift_at <= "
                                               "n_stream (drift_at = 5000, n_stream = 3000)."),
    ],
)
def test_an_illegal_value_stops_the_lab_with_one_sentence(defaults, changes, sentence):
    namespace = {**defaults["05_end_to_end"], **changes}
    with pytest.raises(LabParameterError) as caught:
        check_lab_parameters("05_end_to_end", namespace, MATRIX)
    message = str(caught.value)
    assert message.startswith("lab 05_end_to_end: ") and sentence in message
    assert "\n" not in message
    assert caught.value._render_traceback_() == [f"LabParameterError: {message}"]


def test_legal_values_pass_and_lists_are_checked_item_by_item(defaults):
    check_lab_parameters("01_data_drift", defaults["01_data_drift"], MATRIX)
    with pytest.raises(LabParameterError, match=r"drift_levels = \[0.5, 0.2\] is not allowed: "
                                                r"it must be a list of 2 to 11 values in "
                                                r"increasing order"):
        check_lab_parameters("01_data_drift", {**defaults["01_data_drift"],
                                               "drift_levels": [0.5, 0.2]}, MATRIX)


def test_the_matrix_is_found_from_a_lab_folder_or_the_project_root():
    assert find_matrix(ROOT / "labs" / "student") == MATRIX
    assert find_matrix(ROOT) == MATRIX


def test_random_sets_are_legal_reproducible_and_spread_over_the_labs(defaults):
    ranges = load_ranges(MATRIX)
    first = random_sets(defaults, ranges, 30, seed=4)
    assert first == random_sets(defaults, ranges, 30, seed=4)
    assert first != random_sets(defaults, ranges, 30, seed=5)
    assert {lab for lab, _, _ in first} == set(ranges)
    for lab, name, changes in first:
        assert changes and ranges[lab].problems({**defaults[lab], **changes}) == [], name


def test_a_constraint_with_an_unknown_name_is_refused(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("labs:\n  x:\n    ranges: {n: {type: int, min: 1, max: 3}}\n"
                    "    constraints: [n < m]\n    sets: {default: {}}\n")
    with pytest.raises(InputError, match="names unknown parameter"):
        load_ranges(path)


# --- Step 5 of lab 2: the learner's tests as a real file ---------------------------------
LIMIT = 3


def _median_of(values):
    return statistics.median(values)


def test_median_helper_stays_within_the_limit():
    assert _median_of([1, 2, LIMIT, 4, 5]) == LIMIT


def test_the_test_file_carries_helpers_imports_and_constants():
    text = module_source_for(test_median_helper_stays_within_the_limit)
    assert "import statistics" in text and "LIMIT = 3" in text
    assert text.index("def _median_of") < text.index("def test_median_helper")


_LOCK = threading.Lock()


def _uses_a_lock():
    assert not _LOCK.locked()


_uses_a_lock.__name__ = "test_uses_a_lock"


def test_a_name_that_cannot_go_into_a_file_is_a_clear_error():
    with pytest.raises(InputError, match="uses `_LOCK` .lock., which cannot be written"):
        module_source_for(_uses_a_lock)


@pytest.mark.slow
def test_a_test_with_a_helper_and_an_extra_import_passes_under_real_pytest():
    run = run_tests(test_median_helper_stays_within_the_limit, context={"n_estimators": 5})
    assert run.passed and run.n_passed == 1, run.to_frame()


@pytest.mark.slow
def test_an_out_of_range_value_stops_the_real_lab_in_its_first_cell(tmp_path, capsys):
    import json

    import nbformat

    from mlcicd.cli import main

    # Lab 2: the lightest imports cell of the labs (the stop comes after it).
    notebook = ROOT / "labs" / "solutions" / "02_testing_ml.ipynb"
    matrix = tmp_path / "params.yaml"
    matrix.write_text(f"labs:\n  02_testing_ml:\n    notebook: {notebook}\n"
                      "    sets:\n      tiny: {n_rows: 10}\n")
    out = tmp_path / "out"
    code = main(["labs", "run", "--matrix", str(matrix), "--params", "tiny", "--out", str(out),
                 "--no-progress"])
    err = capsys.readouterr().err
    sentence = ("LabParameterError: lab 02_testing_ml: n_rows = 10 is not allowed: it must "
                "be a whole number from 60 to 3000.")
    assert code == 1 and sentence in err
    executed = nbformat.read(out / "02_testing_ml" / "tiny.ipynb", as_version=4)
    errors = [(i, o) for i, c in enumerate(executed.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1
    index, error = errors[0]
    assert "check_lab_parameters" in executed.cells[index].source
    assert [line for line in error.traceback if line.strip()] == [sentence], "one sentence"
    later = [c for c in executed.cells[index + 1 :] if c.cell_type == "code"]
    assert later and all(c.execution_count is None for c in later), "no cell runs after it"
    assert json.loads((out / "summary.json").read_text())[0]["status"] == "failed"
