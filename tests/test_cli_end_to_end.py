"""The whole pull-request check through the command line only, as CI runs it.

export data -> infer a schema -> validate -> train a baseline and two candidates ->
compare (the markdown comment) -> gate, checking each step's exit code.
"""

from __future__ import annotations

import json

import pytest
from once import build_once

from mlcicd.cli import main
from mlcicd.compare import MARKER

CONFIGS = {
    "baseline": "model: random_forest\ncv_folds: 2\n",
    "candidate": "model: gradient_boosting\ncv_folds: 2\n",
    # Regularised into near-uselessness: the regression the check must catch.
    "weak": "model: logistic_regression\ncv_folds: 2\nparams:\n  C: 0.0001\n",
}
GATE = "min_accuracy: 0.9\nmin_f1: 0.9\nmax_regression: 0.01\n"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="session")
def pipeline_dir(tmp_path_factory):
    """Data, schema and three trained artifacts, made with the CLI.

    Built once per session whichever xdist worker asks (tests/once.py), and read-only:
    a test writes its own files into its ``tmp_path``.
    """
    return build_once(tmp_path_factory, "cli-end-to-end", _run_the_cli)


def _run_the_cli(root) -> None:
    steps = [
        ["datasets", "export", "breast-cancer", "--out", root / "data"],
        ["infer-schema", root / "data" / "train.csv", "--out", root / "schema.yaml",
         "--target", "target"],
        ["validate", root / "data" / "train.csv", "--schema", root / "schema.yaml"],
    ]
    for name, text in CONFIGS.items():
        (root / f"{name}.yaml").write_text(text)
        steps.append(["train", "--config", root / f"{name}.yaml", "--train",
                      root / "data" / "train.csv", "--test", root / "data" / "test.csv",
                      "--out", root / "models" / name])
    for argv in steps:
        code = main([str(a) for a in argv])
        assert code == 0, f"mlcicd {' '.join(map(str, argv))} exited {code}"
    (root / "gate.yaml").write_text(GATE)


def test_the_pipeline_produces_data_schema_and_verified_models(pipeline_dir):
    assert (pipeline_dir / "data" / "test.csv").is_file()
    assert (pipeline_dir / "schema.yaml").is_file()
    for name in CONFIGS:
        assert (pipeline_dir / "models" / name / "metrics.json").is_file()


def test_a_better_candidate_gets_a_passing_comment(pipeline_dir, capsys):
    code, out, _ = _run(capsys, "compare", "--baseline", pipeline_dir / "models" / "baseline",
                        "--candidate", pipeline_dir / "models" / "candidate",
                        "--test", pipeline_dir / "data" / "test.csv", "--no-timing")
    assert code == 0
    assert out.startswith(MARKER)
    assert "| accuracy |" in out and "| f1 |" in out
    assert "Candidate passes: no metric regresses by more than 1.0 pp." in out
    assert "<details>" in out and "McNemar" in out


def test_a_weak_candidate_fails_the_comparison(pipeline_dir, capsys):
    code, out, _ = _run(capsys, "compare", "--baseline", pipeline_dir / "models" / "baseline",
                        "--candidate", pipeline_dir / "models" / "weak",
                        "--test", pipeline_dir / "data" / "test.csv", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert "accuracy" in report["failures"]


def test_the_gate_passes_the_candidate_and_stops_the_weak_one(pipeline_dir, capsys):
    models = pipeline_dir / "models"
    gate = ["gate", "--thresholds", pipeline_dir / "gate.yaml",
            "--baseline", models / "baseline" / "metrics.json"]
    code, out, _ = _run(capsys, *gate, "--metrics", models / "candidate" / "metrics.json")
    assert code == 0 and "quality gate passed" in out
    code, out, _ = _run(capsys, *gate, "--metrics", models / "weak" / "metrics.json")
    assert code == 1 and "quality gate FAILED" in out


def test_a_validation_failure_stops_the_pipeline_with_exit_1(pipeline_dir, tmp_path, capsys):
    broken = tmp_path / "broken.csv"
    text = (pipeline_dir / "data" / "test.csv").read_text().splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("mean_radius")] = "-5"
    broken.write_text("\n".join([text[0], ",".join(row), *text[2:]]) + "\n")
    code, out, _ = _run(capsys, "validate", broken, "--schema", pipeline_dir / "schema.yaml")
    assert code == 1
    assert "mean_radius" in out


def test_bad_input_anywhere_is_exit_2_with_one_line(pipeline_dir, tmp_path, capsys):
    (tmp_path / "typo.yaml").write_text("min_acuracy: 0.9\n")
    code, _, err = _run(capsys, "gate", "--metrics",
                        pipeline_dir / "models" / "candidate" / "metrics.json",
                        "--thresholds", tmp_path / "typo.yaml")
    assert code == 2
    assert err.count("\n") == 1 and "min_acuracy" in err
