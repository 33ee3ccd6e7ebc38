"""The pull-request model check, run locally exactly as the workflow runs it.

.github/workflows/model-check.yml and ``make pr-check`` both call ``ci/pr_check.sh``;
these tests call it too, on the bundled breast-cancer data, and check what the bot would
post and whether the check passes. The passing check runs the installed ``mlcicd``; the
others run the warm one of tests/warm_cli.py (the same ``main`` without paying its
imports at every call).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from warm_cli import client

from mlcicd.artifacts import load_model
from mlcicd.gate import GateThresholds
from mlcicd.training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "ci" / "pr_check.sh"
MARKER = "<!-- mlcicd-model-check -->"
MLCICD = Path(sys.executable).parent / "mlcicd"


def pr_check(tmp_path: Path, config: Path | str = "config/train.yaml",
             mlcicd: Path = MLCICD, **env: str):
    """Run the check with its outputs under ``tmp_path``; return (process, comment path)."""
    out = tmp_path / "out"
    settings = {
        "MLCICD": str(mlcicd),
        "PR_CHECK_CONFIG": str(config),
        "PR_CHECK_DATA": str(tmp_path / "data"),
        "PR_CHECK_OUT": str(out),
        **env,
    }
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
    )
    return result, out / "comment.md"


def write_config(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "candidate.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def metric_rows(comment: str) -> dict[str, str]:
    """Metric name -> the pass/fail mark of its row in the comparison table."""
    rows = re.findall(r"^\| (\w+) \| [\d.]+ \| [\d.]+ \| [^|]+ \| (\S+) \|$", comment, re.M)
    return dict(rows)


def test_unchanged_config_passes_and_prints_the_comment(tmp_path):
    result, comment_file = pr_check(tmp_path)
    assert result.returncode == 0, result.stderr
    comment = comment_file.read_text(encoding="utf-8")
    assert comment.count(MARKER) == 1 and comment.startswith(MARKER)
    assert comment in result.stdout  # what a person sees is what the bot posts
    rows = metric_rows(comment)
    checked = GateThresholds.from_yaml(ROOT / "config" / "gate.yaml").checked_metrics
    assert {rows[metric] for metric in checked} == {"✅"}
    assert set(rows.values()) <= {"✅", "–"}  # – : shown, not checked by the gate
    assert "Result: pass" in comment


@pytest.mark.parametrize(
    ("config", "worse"),
    [
        # 1.4 points less accurate than the baseline: just beyond the 1 % tolerance.
        ({"model": "random_forest", "params": {"n_estimators": 100}}, {"accuracy"}),
        # Regularised into near-uselessness: predicts almost only the majority class.
        ({"model": "logistic_regression", "params": {"C": 0.0001}}, {"accuracy", "f1"}),
    ],
    ids=["slightly-worse-forest", "over-regularised"],
)
def test_candidate_that_regresses_fails_with_its_report(tmp_path_factory, tmp_path, config,
                                                        worse):
    result, comment_file = pr_check(tmp_path, write_config(tmp_path, config),
                                    mlcicd=client(tmp_path_factory))
    assert result.returncode == 1, result.stderr
    comment = comment_file.read_text(encoding="utf-8")
    assert comment.startswith(MARKER)
    failed = {metric for metric, mark in metric_rows(comment).items() if mark == "❌"}
    assert worse <= failed
    assert "Result: fail" in comment


def test_missing_baseline_is_bad_input_and_posts_nothing(tmp_path):
    result, comment_file = pr_check(tmp_path, PR_CHECK_BASELINE=str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "not found" in result.stderr
    assert not comment_file.exists()


def test_invalid_candidate_config_is_bad_input(tmp_path_factory, tmp_path):
    result, comment_file = pr_check(tmp_path, write_config(tmp_path, {"model": "svm"}),
                                    mlcicd=client(tmp_path_factory))
    assert result.returncode == 2
    assert "unknown model" in result.stderr
    assert "Traceback" not in result.stderr
    assert not comment_file.exists()


def test_workflow_and_make_run_the_same_script():
    workflow = yaml.safe_load((ROOT / ".github/workflows/model-check.yml").read_text("utf-8"))
    runs = [step.get("run") for step in workflow["jobs"]["check"]["steps"]]
    assert "ci/pr_check.sh" in runs
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^pr-check:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe and "ci/pr_check.sh" in recipe.group(1)


def test_committed_baseline_is_a_verified_model_of_its_config():
    loaded = load_model(ROOT / "baseline")  # checks the SHA-256 and loads with skops
    expected = TrainConfig.from_yaml(ROOT / "config" / "baseline.yaml").to_dict()
    assert loaded.metadata["config"] == expected
    assert not list((ROOT / "baseline").glob("*.pkl")) and not list(
        (ROOT / "baseline").glob("*.joblib")
    )
