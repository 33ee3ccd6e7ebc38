"""The wrong-answer corpus: every plausible wrong or lazy answer in tests/labs gets NOT YET.

For each lab exercise, ``tests/labs/wrong_labN.py`` holds answers a learner could write
(off by one, wrong direction, wrong formula, a constant, an ignored argument, unrelated
data, a call to the library function the exercise asks for, a test without assertions).
Each must be rejected by its check, and every reference solution (the ``solution`` cells
of ``labs/src``) must be accepted: a check that passes everything or nothing fails here.
"""

from __future__ import annotations

import ast
import collections
import importlib.util
import sys
from pathlib import Path

import jupytext
import pytest

from mlcicd.labs.testrun import lab_fixtures

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "labs"
sys.path.insert(0, str(CORPUS))

for number in range(1, 6):
    importlib.import_module(f"wrong_lab{number}")

from _corpus import ANSWERS, run_check  # noqa: E402 - ANSWERS filled by the imports above

#: The answers an exercise needs, by the names the lab's solution cells define.
SOLUTION_NAMES = {
    "covariate_shift": ("covariate_shift",),
    "psi": ("psi",),
    "bonferroni": ("drifted_features",),
    "quiet_size": ("smallest_quiet_n",),
    "first_alarm_batch": ("first_alarm_batch",),
    "schema": ("make_schema",),
    "repair": ("repair",),
    "performance_tests": ("test_accuracy_is_at_least_the_minimum",
                          "test_predictions_are_not_degenerate"),
    "integration_tests": ("test_pipeline_trains_on_data_with_gaps",
                          "test_training_is_reproducible"),
    "directional": ("directional_failures",),
    "size_slices": ("size_slices",),
    "point_estimate_fail_rate": ("point_estimate_fail_rate",),
    "regressed_metrics": ("regressed_metrics",),
    "interval_reading": ("read_interval",),
    "gate_yaml": ("gate_yaml",),
    "assign_group": ("assign_group",),
    "users_needed": ("users_needed",),
    "canary_decision": ("canary_decision",),
    "pick_margin": ("pick_margin",),
    "served_mismatches": ("served_mismatches",),
    "first_drifted_window": ("first_drifted_window",),
    "monitor_decision": ("monitor_decision",),
}
LAB_OF = {"covariate_shift": "01", "psi": "01", "bonferroni": "01", "quiet_size": "01",
          "first_alarm_batch": "01", "schema": "02",
          "repair": "02", "performance_tests": "02", "integration_tests": "02",
          "directional": "02", "size_slices": "02", "point_estimate_fail_rate": "02",
          "regressed_metrics": "03", "interval_reading": "03", "gate_yaml": "03",
          "assign_group": "04", "users_needed": "04", "canary_decision": "04",
          "pick_margin": "04", "served_mismatches": "04",
          "first_drifted_window": "05", "monitor_decision": "05"}


@pytest.fixture(scope="module")
def fixtures():
    return lab_fixtures(seed=0, n_estimators=20)


def _solution_module(lab: str, folder: Path):
    """The imports, parameters, constants and solution cells of a lab, as a module."""
    source = next((ROOT / "labs" / "src").glob(f"{lab}_*.py"))
    notebook = jupytext.read(source, fmt="py:percent")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    kept = [code[0].source]
    for cell in code[1:]:
        tags = cell.metadata.get("tags", [])
        body = ast.parse(cell.source).body
        constants = body and all(isinstance(n, ast.Assign) for n in body)
        if "parameters" in tags or "solution" in tags or (constants and "(" not in cell.source):
            kept.append(cell.source)
    path = folder / f"lab_solution_{lab}.py"
    path.write_text("\n\n\n".join(kept) + "\n", encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def solutions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab-solutions")
    return {lab: _solution_module(lab, folder) for lab in sorted(set(LAB_OF.values()))}


WRONG = [(exercise, mistake, answer) for _, exercise, mistake, answer in ANSWERS]


@pytest.mark.parametrize(("exercise", "mistake", "answer"), WRONG,
                         ids=[f"{e}: {m}" for e, m, _ in WRONG])
def test_wrong_answer_gets_not_yet(exercise, mistake, answer, fixtures):
    result = run_check(exercise, answer, fixtures)
    assert not result.passed, f"{mistake!r} passed: {result}"
    assert str(result).startswith("NOT YET: ") and len(result.message) > 20


@pytest.mark.parametrize("exercise", sorted(SOLUTION_NAMES))
def test_reference_solution_passes(exercise, solutions, fixtures):
    module = solutions[LAB_OF[exercise]]
    answers = [getattr(module, name) for name in SOLUTION_NAMES[exercise]]
    answer = answers if exercise.endswith("_tests") else answers[0]
    result = run_check(exercise, answer, fixtures)
    assert result.passed, str(result)


def test_every_exercise_has_wrong_answers_and_every_lab_at_least_eight():
    per_exercise = collections.Counter(exercise for _, exercise, _, _ in ANSWERS)
    assert set(per_exercise) == set(SOLUTION_NAMES)
    assert min(per_exercise.values()) >= 4, per_exercise
    per_lab = collections.Counter(lab for lab, _, _, _ in ANSWERS)
    assert len(per_lab) == 5 and min(per_lab.values()) >= 8, per_lab
