"""The complete pipeline, run locally in the order the workflow runs it.

.github/workflows/pipeline.yml runs one ``ci/pipeline.sh STAGE`` per job; these tests read
the stages from the workflow's jobs, in their `needs` order, and run the same script on the
bundled breast-cancer data with every output in a scratch folder. What passes here is what
the workflow's jobs do with the committed configuration.

The scripted run calls the warm ``mlcicd`` of tests/warm_cli.py: the real ``main``, forked
from a process that did the imports once, instead of a dozen start-ups of about 2 s of
CPU each. A stage that fails its check runs the installed ``mlcicd``, as the jobs do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from graphlib import TopologicalSorter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from once import build_once
from warm_cli import client

from mlcicd.artifacts import load_model

# One run of the whole pipeline (the `released` fixture, built once per session) serves most
# tests here: they share one xdist worker (`make test` uses --dist loadgroup), so the other
# worker never waits for it, and the run starts early.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline_run")]

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "ci" / "pipeline.sh"
WORKFLOW = ROOT / ".github" / "workflows" / "pipeline.yml"
MLCICD = Path(sys.executable).parent / "mlcicd"
STAGE_CALL = re.compile(r"^ci/pipeline\.sh (\w+)$")


def workflow_stages() -> list[tuple[str, str]]:
    """(job, stage) for every `ci/pipeline.sh STAGE` step, each job after those it needs."""
    jobs = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]
    graph = {job: as_list(spec.get("needs")) for job, spec in jobs.items()}
    order = list(TopologicalSorter(graph).static_order())
    return [
        (job, match[1])
        for job in order
        for step in jobs[job]["steps"]
        if (match := STAGE_CALL.match(step.get("run", "")))
    ]


def as_list(value: str | list[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def pipeline(stage: str, work: Path, mlcicd: Path = MLCICD,
             **env: str) -> subprocess.CompletedProcess:
    """Run one stage as its job does, with the data and outputs under ``work``."""
    settings = {
        "MLCICD": str(mlcicd),
        "PIPELINE_DATA": str(work / "data"),
        "PIPELINE_OUT": str(work / "out"),
        "GITHUB_STEP_SUMMARY": str(work / "summary.md"),
        **env,
    }
    return subprocess.run(
        ["bash", str(SCRIPT), stage],
        cwd=ROOT,
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="session")
def released(tmp_path_factory) -> tuple[Path, dict[str, subprocess.CompletedProcess]]:
    """One run of every model stage of the workflow, in order, on the committed config.

    Built once per test session however many xdist workers ask (tests/once.py), and
    shared: tests only read it, and copy what they change into their own ``tmp_path``.
    """
    work = build_once(tmp_path_factory, "pipeline-released",
                      lambda folder: run_every_stage(folder, client(tmp_path_factory)))
    recorded = json.loads((work / "results.json").read_text(encoding="utf-8"))
    return work, {stage: subprocess.CompletedProcess(**result)
                  for stage, result in recorded.items()}


def run_every_stage(work: Path, mlcicd: Path) -> None:
    """The workflow's stages in order, stopping at the first failure; the plain export."""
    results = {}
    for _, stage in workflow_stages():
        result = pipeline(stage, work, mlcicd)
        results[stage] = {"args": result.args, "returncode": result.returncode,
                          "stdout": result.stdout, "stderr": result.stderr}
        if result.returncode != 0:
            break
    (work / "results.json").write_text(json.dumps(results), encoding="utf-8")
    # `mlcicd datasets export` without --live-size: the split the baseline was trained on.
    subprocess.run([str(mlcicd), "datasets", "export", "breast-cancer",
                    "--out", str(work / "plain-export")], check=True, capture_output=True)


def test_the_workflow_runs_every_model_stage_once_in_the_pipeline_order():
    assert workflow_stages() == [
        ("validate-data", "validate"),
        ("train", "train"),
        ("gate", "gate"),
        ("staging", "staging"),
        ("production", "production"),
        ("monitor", "monitor"),
        ("notify", "notify"),
    ]
    # `ci/pipeline.sh all`, for a person, runs the same stages in the same order.
    listed = re.search(r'^STAGES="([^"]+)"$', SCRIPT.read_text(encoding="utf-8"), re.M)
    assert listed and listed[1].split() == [s for _, s in workflow_stages()][:-1]


def test_every_stage_passes_with_the_committed_configuration(released):
    _, results = released
    failures = {s: (r.returncode, r.stderr[-500:]) for s, r in results.items() if r.returncode}
    assert failures == {}
    assert list(results) == [stage for _, stage in workflow_stages()]


def test_the_released_model_is_the_verified_artifact_trained_on_the_validated_data(released):
    work, _ = released
    loaded = load_model(work / "out" / "candidate")
    train = pd.read_csv(work / "data" / "train.csv")
    assert loaded.metadata["feature_names"] == [c for c in train.columns if c != "target"]
    for split in ("train", "test", "live"):
        report = (work / "out" / f"validate-{split}.md").read_text("utf-8")
        assert "Validation passed" in report, split


def test_the_data_is_split_once_into_train_gate_rows_and_live_traffic(released):
    work, _ = released
    frames = {name: pd.read_csv(work / "data" / f"{name}.csv")
              for name in ("train", "test", "live")}
    rows = {name: set(map(tuple, frame.round(10).to_numpy())) for name, frame in frames.items()}
    assert not rows["train"] & rows["test"] and not rows["train"] & rows["live"]
    assert not rows["test"] & rows["live"]  # the gate never scores a canary row
    # train.csv is the plain export's training split, so the committed baseline (trained on
    # it) has never seen a gate or live row either; together they are the held-out rows.
    plain = work / "plain-export"
    assert frames["train"].equals(pd.read_csv(plain / "train.csv"))
    held_out = set(map(tuple, pd.read_csv(plain / "test.csv").round(10).to_numpy()))
    assert rows["test"] | rows["live"] == held_out
    assert len(frames["live"]) > 2 * len(frames["test"])


def test_each_stage_scores_the_rows_it_should(released):
    work, _ = released
    staging = (work / "out" / "staging.md").read_text("utf-8")
    assert f"Smoke test of the candidate on `{work / 'data' / 'test.csv'}`" in staging
    assert f"baseline on `{work / 'data' / 'live.csv'}`" in staging
    n_test = len(pd.read_csv(work / "data" / "test.csv"))
    assert f"on {work / 'data' / 'test.csv'} ({n_test} rows)" in (
        work / "out" / "baseline-test.txt").read_text("utf-8")
    drift = (work / "out" / "drift.md").read_text("utf-8")
    assert f"current: {len(pd.read_csv(work / 'data' / 'live.csv'))} rows" in drift


def test_staging_promotes_the_candidate_through_every_canary_step(released):
    work, _ = released
    timeline = pd.read_csv(work / "out" / "canary.csv")
    steps = re.search(r'^CANARY_STEPS="\$\{PIPELINE_CANARY_STEPS:-([\d.,]+)\}"$',
                      SCRIPT.read_text(encoding="utf-8"), re.M)
    assert steps and timeline["weight"].tolist() == [float(w) for w in steps[1].split(",")]
    assert timeline["decision"].iloc[-1] == "promote"
    # Paired evidence, each live row counted once however often the stream replays it.
    live_rows = len(pd.read_csv(work / "data" / "live.csv"))
    assert timeline["canary_labelled"].max() <= live_rows
    assert timeline["requests_so_far"].iloc[-1] > live_rows
    assert "canary sha-" in (work / "out" / "canary.txt").read_text("utf-8")
    assert (work / "out" / "canary.png").stat().st_size > 0


def test_production_switches_to_the_candidate_after_its_health_check(released):
    work, _ = released
    report = (work / "out" / "blue-green.txt").read_text("utf-8")
    version = load_model(work / "out" / "candidate").metadata["sha256"][:12]
    assert f"switched: {{'green': 'sha-{version}'}}" in report


def test_the_job_pages_show_each_stage_report_and_the_final_result(released):
    work, _ = released
    summary = (work / "summary.md").read_text(encoding="utf-8")
    for heading in (
        "### Data validation",
        "### Quality gate passed",
        "### Staging: smoke test and canary",
        "### Production: blue-green switch",
        "### Pipeline results",
    ):
        assert heading in summary
    # Outside GitHub the notify stage sees no job results: it says so instead of guessing.
    assert "| quality | ⚠️ unknown |" in summary
    assert "**Not released:**" in summary


def test_notify_names_the_first_job_that_did_not_succeed(tmp_path):
    results = {
        "RESULT_QUALITY": "success",
        "RESULT_TESTS": "success",
        "RESULT_VALIDATE_DATA": "success",
        "RESULT_TRAIN": "success",
        "RESULT_GATE": "failure",
        "RESULT_STAGING": "skipped",
        "RESULT_PRODUCTION": "skipped",
        "RESULT_MONITOR": "skipped",
    }
    result = pipeline("notify", tmp_path, **results)
    assert result.returncode == 0, result.stderr
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "| gate | ❌ failure |" in summary and "| production | ⏭️ skipped |" in summary
    assert "**Not released:**" in summary
    assert "**First job that did not succeed:** gate (failure)." in summary


def test_notify_reports_a_release_with_drift_found_afterwards(tmp_path):
    results = {f"RESULT_{job}": "success" for job in (
        "QUALITY", "TESTS", "VALIDATE_DATA", "TRAIN", "GATE", "STAGING", "PRODUCTION")}
    result = pipeline("notify", tmp_path, RESULT_MONITOR="failure", **results)
    assert result.returncode == 0, result.stderr
    assert "**Released:** the candidate is live in production." in result.stdout
    assert "**First job that did not succeed:** monitor (failure)." in result.stdout


def test_a_candidate_below_the_gate_fails_with_its_report(released, tmp_path):
    work, _ = released
    shutil.copytree(work / "out" / "candidate", tmp_path / "out" / "candidate")
    shutil.copytree(work / "data", tmp_path / "data")
    strict = tmp_path / "gate.yaml"
    strict.write_text("min_accuracy: 0.99\nmax_regression: 0.01\n", encoding="utf-8")
    result = pipeline("gate", tmp_path, PIPELINE_GATE=str(strict))
    assert result.returncode == 1
    assert "Quality gate failed" in result.stdout
    assert "Quality gate failed" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_data_breaking_the_schema_fails_validation_and_lists_the_rule(tmp_path_factory,
                                                                      tmp_path):
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text(encoding="utf-8"))
    schema["columns"]["mean_radius"]["max"] = 10.0
    strict = tmp_path / "schema.yaml"
    strict.write_text(yaml.safe_dump(schema), encoding="utf-8")
    result = pipeline("validate", tmp_path, client(tmp_path_factory),
                      PIPELINE_SCHEMA=str(strict))
    assert result.returncode == 1
    assert "mean_radius" in (tmp_path / "out" / "validate-train.md").read_text("utf-8")


def test_a_stage_without_its_inputs_is_bad_input(tmp_path):
    result = pipeline("staging", tmp_path)
    assert result.returncode == 2
    assert "candidate/metadata.json not found" in result.stderr


def test_an_unknown_stage_is_bad_input(tmp_path):
    result = pipeline("deploy-everything", tmp_path)
    assert result.returncode == 2
    assert "usage: ci/pipeline.sh" in result.stderr
