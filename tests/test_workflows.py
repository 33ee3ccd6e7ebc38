"""The GitHub workflows: valid, secure, and calling only commands this repository has.

Nothing here needs the network: the workflow schema is the one vendored inside
check-jsonschema, and zizmor runs offline. check-jsonschema runs in-process through
click's test runner (its import is most of a call's CPU, and three calls share it); the
nightly retraining cycle runs the installed ``mlcicd``, the other cycles the warm one of
tests/warm_cli.py (the same ``main``, without paying its imports at every call).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
import yaml
from warm_cli import client

from mlcicd.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
#: Composite actions of this repository (the setup every job shares).
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
SETUP = "./.github/actions/setup"
BIN = Path(sys.executable).parent

EXPECTED = {
    "ci.yml",
    "notebooks.yml",
    "book.yml",
    "model-check.yml",
    "retrain.yml",
    "pipeline.yml",
}

#: The complete pipeline's jobs in the syllabus order, each `needs` the one before.
PIPELINE_CHAIN = [
    "quality",
    "tests",
    "validate-data",
    "train",
    "gate",
    "staging",
    "production",
    "monitor",
]

#: (workflow, job) -> the write permissions that job may hold; every other job reads only.
WRITE_PERMISSIONS = {
    ("book.yml", "deploy"): {"pages", "id-token"},
    ("model-check.yml", "comment"): {"pull-requests"},
    ("retrain.yml", "open-pr"): {"contents", "pull-requests"},
}

#: Shell basics a `run:` step may use besides make, mlcicd and the scripts under ci/.
SHELL_BASICS = {"cat", "cp", "echo", "ls", "mkdir", "printf", "rm", "tee", "test", "true"}
#: `python -m <module> <verb>` invocations a step may use.
PYTHON_MODULES = {("pip", "install")}

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<comment>.*)$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+\s*$")
SHELL_OPERATORS = {"&&", "||", ";", "|", "&"}
REDIRECTIONS = {">", ">>", "<", "2>", "&>"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    return {on: None} if isinstance(on, str) else dict(on)


def steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def run_steps() -> list:
    return list(_run_steps())


def _run_steps():
    for path in WORKFLOWS:
        for job_id, step in steps(load(path)):
            if "run" in step:
                yield pytest.param(step["run"], id=f"{path.name}:{job_id}:{step.get('name', '')}")
    for path in ACTIONS:
        for step in load(path)["runs"]["steps"]:
            if "run" in step:
                yield pytest.param(step["run"], id=f"{path.parent.name}:{step.get('name', '')}")


def test_every_expected_workflow_exists():
    assert EXPECTED - {path.name for path in WORKFLOWS} == set()


def check_jsonschema(*args: str) -> tuple[int, str]:
    """``check-jsonschema ARGS`` in this process: its exit code and its output."""
    from check_jsonschema import main
    from click.testing import CliRunner

    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_every_workflow_matches_the_github_schema():
    code, output = check_jsonschema("--builtin-schema", "vendor.github-workflows",
                                    *map(str, WORKFLOWS))
    assert code == 0, output


def test_every_composite_action_matches_the_github_schema():
    assert ACTIONS, "no composite action under .github/actions"
    code, output = check_jsonschema("--builtin-schema", "vendor.github-actions",
                                    *map(str, ACTIONS))
    assert code == 0, output


def test_dependabot_config_matches_its_schema():
    code, output = check_jsonschema("--builtin-schema", "vendor.dependabot",
                                    str(ROOT / ".github" / "dependabot.yml"))
    assert code == 0, output


def test_zizmor_finds_nothing_at_medium_severity_or_above():
    result = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--no-ignores",
            "--min-severity",
            "medium",
            "--format",
            "json",
            str(ROOT / ".github"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip(), result.stderr
    findings = json.loads(result.stdout)
    summary = [
        (finding["ident"], finding["determinations"]["severity"], finding["desc"])
        for finding in findings
    ]
    assert summary == []


def test_every_action_is_pinned_to_a_commit_sha_with_its_version():
    seen = 0
    for path in WORKFLOWS + ACTIONS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = USES.match(line)
            if not match or match["ref"] == SETUP:
                continue
            seen += 1
            where = f"{path.name}:{number}"
            assert PINNED.match(match["ref"]), f"{where}: not pinned to a 40-hex SHA: {line}"
            assert VERSION_COMMENT.match(match["comment"]), f"{where}: no '# vX.Y.Z': {line}"
    assert seen > 0


def test_each_action_has_one_pin_across_all_workflows():
    pins = defaultdict(set)
    for path in WORKFLOWS + ACTIONS:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = USES.match(line)
            if match and (pinned := PINNED.match(match["ref"])):
                pins[pinned["action"]].add((pinned["sha"], match["comment"].strip()))
    assert {action: refs for action, refs in pins.items() if len(refs) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_token_is_read_only_by_default(path):
    workflow = load(path)
    assert "permissions" in workflow, "top-level permissions missing"
    assert workflow["permissions"] in ({}, {"contents": "read"})


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_write_permissions_only_in_the_jobs_that_need_them(path):
    for job_id, job in load(path)["jobs"].items():
        permissions = job.get("permissions", {})
        assert isinstance(permissions, dict), f"{job_id}: permissions must be listed one by one"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes == WRITE_PERMISSIONS.get((path.name, job_id), set()), job_id


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkout_never_keeps_the_token_on_disk(path):
    for job_id, step in steps(load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, job_id


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_superseded_runs_are_cancelled(path):
    concurrency = load(path).get("concurrency")
    assert isinstance(concurrency, dict) and concurrency.get("group"), "no concurrency group"
    assert "cancel-in-progress" in concurrency


def test_python_is_3_11_with_a_pip_cache_keyed_on_the_constraints():
    setups = [
        step
        for path in ACTIONS
        for step in load(path)["runs"]["steps"]
        if "actions/setup-python@" in step.get("uses", "")
    ]
    assert setups, "the setup action installs no Python"
    for setup in setups:
        assert setup["with"] == {
            "python-version": "3.11",
            "cache": "pip",
            "cache-dependency-path": "constraints.txt",
        }


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_that_runs_python_sets_it_up_with_the_shared_action(path):
    for job_id, job in load(path)["jobs"].items():
        job_steps = job.get("steps", [])
        assert not any("setup-python@" in s.get("uses", "") for s in job_steps), job_id
        runs = " ".join(s.get("run", "") for s in job_steps)
        if re.search(r"\b(make|python)\b|\.venv/", runs):
            assert any(s.get("uses") == SETUP for s in job_steps), f"{job_id}: no {SETUP}"


def setup_inputs(job: dict) -> dict | None:
    """The ``with:`` of a job's setup step (``{}`` without one), None when it has none."""
    step = next((s for s in job.get("steps", []) if s.get("uses") == SETUP), None)
    return None if step is None else step.get("with", {})


def test_jobs_install_only_what_they_run():
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            runs = [s["run"] for s in job.get("steps", []) if "run" in s]
            inputs = setup_inputs(job)
            if runs == ["make lint"]:
                assert inputs == {}, f"{path.name}:{job_id}: a lint job needs ruff only"
            elif inputs is not None and inputs.get("extras") == "dev":
                assert any(r.startswith("make ") for r in runs), f"{path.name}:{job_id}"
            elif runs and inputs is not None:
                # Stage jobs run mlcicd or a script: the library, maybe with an extra.
                assert inputs.get("extras") in {"", "labs"} or inputs.get("packages"), job_id


def test_the_setup_action_installs_with_make_venv_and_the_pinned_versions():
    runs = [s["run"] for s in load(ROOT / ".github" / "actions" / "setup" / "action.yml")[
        "runs"]["steps"] if "run" in s]
    assert 'make venv EXTRAS="$EXTRAS"' in runs
    assert "python -m pip install -c constraints.txt $PACKAGES" in runs


#: What a make target does, in units of work that must not run twice for one event.
MAKE_WORK = {
    "lint": {"lint"},
    "test": {"lint", "book", "tests", "book tests"},
    "test-fast": {"tests"},
    "coverage": {"tests"},
    "test-book": {"book", "book tests"},
    "book": {"book"},
}


def work_per_event(event: str, branch: str) -> list[tuple[str, str]]:
    """(work, workflow:job) for every make target that a push or pull request starts."""
    done = []
    for path in WORKFLOWS:
        on = triggers(load(path))
        if event not in on:
            continue
        spec = on[event] or {}
        if "branches" in spec and branch not in spec["branches"]:
            continue
        for job_id, job in load(path)["jobs"].items():
            for step in job.get("steps", []):
                for command in shell_commands(step.get("run", "")):
                    if command[0] == "make":
                        for target in command[1:]:
                            for work in MAKE_WORK.get(target, ()):
                                done.append((work, f"{path.name}:{job_id}"))
    return done


@pytest.mark.parametrize("event, branch", [("push", "main"), ("pull_request", "feature")])
def test_no_lint_test_or_book_build_runs_twice_for_one_event(event, branch):
    done = work_per_event(event, branch)
    by_work = defaultdict(list)
    for work, where in done:
        by_work[work].append(where)
    assert {work: where for work, where in by_work.items() if len(where) > 1} == {}
    expected = {"lint", "tests", "book", "book tests"}
    assert set(by_work) == expected, f"{event}: {sorted(by_work)} runs, {sorted(expected)} needed"


def test_the_book_cache_is_keyed_and_stamped_by_the_makefile():
    build = load(WORKFLOW_DIR / "book.yml")["jobs"]["build"]["steps"]
    key_step = next(s for s in build if s.get("id") == "inputs")
    assert key_step["run"] == 'make -s book-cache-key >> "$GITHUB_OUTPUT"'
    cache = next(s for s in build if "actions/cache@" in s.get("uses", ""))
    assert cache["with"]["path"].split() == ["_build/.jupyter_cache", "_build/.book-inputs-*"]
    inputs = "${{ steps.inputs.outputs.inputs }}"
    assert cache["with"]["restore-keys"] == f"book-{inputs}-"
    assert cache["with"]["key"] == f"book-{inputs}-${{{{ steps.inputs.outputs.pages }}}}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_are_not_used_outside_the_jobs_that_need_them(path):
    # This project's workflows need no secret beyond the automatic job token.
    assert "secrets." not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", run_steps())
def test_no_expression_inside_a_run_script(script):
    # Untrusted event text (branch names, PR titles) reaches scripts only through env:.
    assert "${{" not in script


@pytest.mark.parametrize("script", run_steps())
def test_every_run_step_calls_a_command_of_this_repository(script):
    for command in shell_commands(script):
        check_command(command)


@pytest.mark.parametrize("script", sorted((ROOT / "ci").glob("*.sh")), ids=lambda p: p.name)
def test_ci_scripts_call_only_existing_mlcicd_commands(script):
    calls = [
        command
        for command in shell_commands(script.read_text(encoding="utf-8"))
        if command[0] == "$MLCICD"
    ]
    assert calls, f"{script.name} calls no mlcicd command"
    for command in calls:
        check_mlcicd(command[1:])


def test_workflow_scripts_are_executable():
    for path in WORKFLOWS:
        for _, step in steps(load(path)):
            program = step.get("run", "").split(" ", 1)[0]
            if program.startswith("ci/") and program.endswith(".sh"):
                assert (ROOT / program).stat().st_mode & 0o111, f"{program} is not executable"


def test_lab_matrix_has_one_job_per_lab_and_parameter_set(tmp_path):
    matrix_file = ROOT / "labs" / "params.yaml"
    raw = yaml.safe_load(matrix_file.read_text(encoding="utf-8"))
    expected = [
        {"lab": lab, "params": name} for lab, spec in raw["labs"].items() for name in spec["sets"]
    ]
    github_output = tmp_path / "github_output"
    result = subprocess.run(
        [sys.executable, "ci/labs_matrix.py", "--github-output", str(github_output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"include": expected}
    key, _, value = github_output.read_text(encoding="utf-8").strip().partition("=")
    assert key == "matrix" and json.loads(value) == {"include": expected}


def run_retrain(tmp_path: Path, mlcicd: Path = BIN / "mlcicd",
                **env: str) -> tuple[subprocess.CompletedProcess, dict]:
    """Run ci/retrain.sh as the workflow does; return the process and its step outputs."""
    github_output = tmp_path / "github_output"
    settings = {
        "MLCICD": str(mlcicd),
        "PYTHON": sys.executable,
        "RETRAIN_DATA": str(tmp_path / "data"),
        "RETRAIN_OUT": str(tmp_path / "out"),
        "GITHUB_OUTPUT": str(github_output),
        **env,
    }
    result = subprocess.run(
        ["bash", "ci/retrain.sh"],
        cwd=ROOT,
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
    )
    outputs = {}
    if github_output.exists():
        lines = github_output.read_text(encoding="utf-8").splitlines()
        outputs = dict(line.split("=", 1) for line in lines)
    return result, outputs


def baseline_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((ROOT / "baseline").iterdir()) if p.is_file()}


@pytest.mark.slow
def test_nightly_cycle_without_drift_keeps_the_model_and_reports(tmp_path):
    before = baseline_files()
    result, outputs = run_retrain(tmp_path)
    assert result.returncode == 0, result.stderr
    assert outputs == {"promoted": "false", "outcome": "no retrain"}
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## Retraining cycle: no retrain")
    assert "Quality gate passed" in summary
    history = (tmp_path / "out" / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(history) == 1 and json.loads(history[0])["outcome"] == "no retrain"
    assert baseline_files() == before


@pytest.mark.slow
def test_drifted_batch_triggers_retraining_without_touching_the_baseline(tmp_path_factory,
                                                                        tmp_path):
    import pandas as pd

    from mlcicd.datasets import export_dataset

    before = baseline_files()
    # The batch starts from the export the script makes (in-process here: the script
    # itself runs `mlcicd datasets export` into the same folder, and finds these bytes).
    _, test_csv = export_dataset("breast-cancer", tmp_path / "data")
    batch = pd.read_csv(test_csv)
    features = [name for name in batch.columns if name != "target"]
    batch[features] = batch[features] * 1.25  # every measurement reads 25 % high
    batch.to_csv(tmp_path / "batch.csv", index=False)

    result, outputs = run_retrain(tmp_path, client(tmp_path_factory),
                                  RETRAIN_BATCH=str(tmp_path / "batch.csv"))
    assert result.returncode == 0, result.stderr
    assert outputs["outcome"] in {"promoted", "rejected"}
    decision = json.loads((tmp_path / "out" / "decision.json").read_text(encoding="utf-8"))
    assert decision["retrained"] is True
    assert outputs["promoted"] == str(decision["promoted"]).lower()
    assert "Data drift: detected" in (tmp_path / "out" / "drift.md").read_text("utf-8")
    assert baseline_files() == before


@pytest.mark.slow
def test_retrain_with_a_missing_batch_is_bad_input(tmp_path_factory, tmp_path):
    result, outputs = run_retrain(tmp_path, client(tmp_path_factory),
                                  RETRAIN_BATCH=str(tmp_path / "missing.csv"))
    assert result.returncode == 2
    assert "not found" in result.stderr
    assert outputs == {}


def test_ci_lints_and_tests_every_pull_request():
    workflow = load(WORKFLOW_DIR / "ci.yml")
    assert "pull_request" in triggers(workflow)
    assert triggers(workflow)["pull_request"] is None  # every pull request, no filter
    # After the merge the pipeline lints and tests the push to main (no second run).
    assert "push" not in triggers(workflow)
    runs = [s["run"] for _, s in steps(workflow) if "run" in s]
    assert "make lint" in runs and "make coverage" in runs
    uploads = [s for _, s in steps(workflow) if "upload-artifact@" in s.get("uses", "")]
    assert any("coverage.xml" in s["with"]["path"] for s in uploads)


def test_labs_run_as_a_matrix_that_does_not_stop_at_the_first_failure():
    job = load(WORKFLOW_DIR / "notebooks.yml")["jobs"]["run"]
    assert job["strategy"]["fail-fast"] is False
    assert any("mlcicd labs run" in s.get("run", "") for s in job["steps"])
    assert any("upload-artifact@" in s.get("uses", "") for s in job["steps"])


def test_book_is_deployed_to_pages_from_main_only():
    workflow = load(WORKFLOW_DIR / "book.yml")
    deploy = workflow["jobs"]["deploy"]
    assert deploy["environment"]["name"] == "github-pages"
    assert "refs/heads/main" in deploy["if"] and "pull_request" in deploy["if"]
    assert any("deploy-pages@" in s.get("uses", "") for s in deploy["steps"])
    assert not any("checkout@" in s.get("uses", "") for s in deploy["steps"])


def test_model_check_runs_on_pull_requests_and_comments_once():
    workflow = load(WORKFLOW_DIR / "model-check.yml")
    assert "pull_request" in triggers(workflow)
    assert "pull_request_target" not in triggers(workflow)
    comment = workflow["jobs"]["comment"]
    assert not any("checkout@" in s.get("uses", "") for s in comment["steps"])
    script = next(s for s in comment["steps"] if "github-script@" in s.get("uses", ""))
    assert script["env"]["MARKER"] == "<!-- mlcicd-model-check -->"
    assert "updateComment" in script["with"]["script"]


def test_retraining_runs_nightly_and_on_demand():
    on = triggers(load(WORKFLOW_DIR / "retrain.yml"))
    assert on["schedule"][0]["cron"]
    assert on["workflow_dispatch"]["inputs"]


def test_pipeline_jobs_run_in_the_syllabus_order():
    workflow = load(WORKFLOW_DIR / "pipeline.yml")
    jobs = workflow["jobs"]
    assert list(jobs) == PIPELINE_CHAIN + ["notify"]
    assert "needs" not in jobs["quality"]
    for before, job in zip(PIPELINE_CHAIN[:-1], PIPELINE_CHAIN[1:], strict=True):
        assert jobs[job]["needs"] in (before, [before]), f"{job} must need {before}"
    runs = {job: [s["run"] for s in jobs[job]["steps"] if "run" in s] for job in jobs}
    assert "make lint" in runs["quality"] and "make test-fast" in runs["tests"]


def test_pipeline_reports_every_job_even_after_a_failure():
    notify = load(WORKFLOW_DIR / "pipeline.yml")["jobs"]["notify"]
    assert set(notify["needs"]) == set(PIPELINE_CHAIN)
    assert "always()" in notify["if"]
    step = next(s for s in notify["steps"] if "run" in s)
    assert step["env"] == {
        "RESULT_" + job.upper().replace("-", "_"): f"${{{{ needs.{job}.result }}}}"
        for job in PIPELINE_CHAIN
    }


def test_pipeline_releases_from_main_only_through_protected_environments():
    workflow = load(WORKFLOW_DIR / "pipeline.yml")
    assert set(triggers(workflow)) == {"push", "workflow_dispatch"}
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False  # never stop a release
    jobs = workflow["jobs"]
    environments = {
        job: spec["environment"]["name"] for job, spec in jobs.items() if "environment" in spec
    }
    assert environments == {"staging": "staging", "production": "production"}
    for job in environments:
        assert "refs/heads/main" in jobs[job]["if"], job


def test_pipeline_releases_the_model_it_trained_and_gated():
    jobs = load(WORKFLOW_DIR / "pipeline.yml")["jobs"]

    def artifacts(job: str, action: str) -> set[str]:
        return {s["with"]["name"] for s in jobs[job]["steps"] if action in s.get("uses", "")}

    assert artifacts("validate-data", "upload-artifact@") == {"pipeline-data"}
    assert artifacts("train", "upload-artifact@") == {"candidate-model"}
    assert artifacts("train", "download-artifact@") == {"pipeline-data"}
    for job in ("gate", "staging", "production"):
        assert "candidate-model" in artifacts(job, "download-artifact@"), job


@pytest.mark.parametrize(
    "script",
    [
        "mlcicd no-such-command --out x",
        "make no-such-target",
        "curl -sSL https://example.com/model.pkl -o model.pkl",
        "echo ok && ci/no_such_script.sh",
        ".venv/bin/mlcicd compare --no-such-option 1",
    ],
)
def test_the_command_check_rejects_what_this_repository_lacks(script):
    with pytest.raises(AssertionError):
        for command in shell_commands(script):
            check_command(command)


def test_the_command_check_splits_pipes_lists_and_continuations():
    script = 'A=1 make lint && cat x.md >> "$GITHUB_STEP_SUMMARY"\nmlcicd train \\\n  --out m'
    assert shell_commands(script) == [
        ["A=1", "make", "lint"],
        ["cat", "x.md", ">>", "$GITHUB_STEP_SUMMARY"],
        ["mlcicd", "train", "--out", "m"],
    ]


def shell_commands(script: str) -> list[list[str]]:
    """Split a `run:` script into simple commands (lists of words)."""
    commands: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        for token in lexer:
            if token in SHELL_OPERATORS:
                commands.append(current)
                current = []
            else:
                current.append(token)
        commands.append(current)
    return [command for command in commands if command]


def check_command(command: list[str]) -> None:
    while command and re.match(r"^[A-Za-z_]\w*=", command[0]):
        command = command[1:]  # leading VAR=value assignments
    for i in reversed(range(len(command))):
        if command[i] in REDIRECTIONS:
            del command[i : i + 2]  # `>> "$GITHUB_OUTPUT"` is not an argument
    program, args = command[0], command[1:]
    name = program.rsplit("/", 1)[-1]
    if program == "make":
        unknown = [a for a in args if not a.startswith("-") and "=" not in a]
        assert set(unknown) <= makefile_targets(), f"unknown make target in {command}"
    elif name == "mlcicd":
        check_mlcicd(args)
    elif name in {"python", "python3"}:
        if args[:1] == ["-m"]:
            assert tuple(args[1:3]) in PYTHON_MODULES, f"unexpected python -m in {command}"
        else:
            assert args[0].startswith("ci/") and (ROOT / args[0]).is_file(), command
    elif program.startswith("ci/"):
        assert (ROOT / program).is_file(), f"{program} does not exist"
    else:
        assert program in SHELL_BASICS, f"{program!r} is not a command of this repository"


@cache
def makefile_targets() -> frozenset[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^([A-Za-z][\w-]*):(?!=)", text, flags=re.MULTILINE))


def check_mlcicd(args: list[str]) -> None:
    parser, path, rest = build_parser(), [], list(args)
    while (choices := subcommands(parser)) is not None:
        words = [a for a in rest if not a.startswith("-")]
        assert words, f"mlcicd {' '.join(path)}: a subcommand is missing"
        path.append(words[0])
        assert words[0] in choices, f"mlcicd has no subcommand {' '.join(path)!r}"
        parser, rest = choices[words[0]], rest[rest.index(words[0]) + 1 :]
    known = {opt for action in parser._actions for opt in action.option_strings}
    for option in (a.split("=", 1)[0] for a in rest if a.startswith("--")):
        assert option in known, f"mlcicd {' '.join(path)} has no option {option}"


def subcommands(parser: argparse.ArgumentParser) -> dict | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return None


def test_the_book_cache_stamp_follows_the_content_of_what_the_pages_run(tmp_path, make_and_git):
    """A fresh CI runner that restored the cache and its stamp executes no page again."""
    make, git = make_and_git
    repo = tmp_path / "repo"
    for name, text in {
        "Makefile": (ROOT / "Makefile").read_text("utf-8"),
        "pyproject.toml": "",
        "constraints.txt": "",
        "mlcicd/core.py": "ANSWER = 42\n",
        "book/page.md": "# A page\n",
    }.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, "utf-8")
    subprocess.run([git, "init", "-q", str(repo)], check=True)
    subprocess.run([git, "-C", str(repo), "add", "."], check=True)

    def dry_run() -> str:
        done = subprocess.run([make, "-n", "book"], cwd=repo, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def cache_key() -> dict[str, str]:
        out = subprocess.run([make, "-s", "book-cache-key"], cwd=repo, capture_output=True,
                             text=True, check=True).stdout
        return dict(line.split("=", 1) for line in out.splitlines())

    drops_cache = "rm -rf _build/.jupyter_cache"
    assert drops_cache in dry_run()  # no stamp: a first build starts clean
    key = cache_key()
    (repo / "_build" / ".jupyter_cache").mkdir(parents=True)  # what actions/cache restores
    (repo / "_build" / f".book-inputs-{key['inputs']}").touch()
    assert drops_cache not in dry_run()

    os.utime(repo / "mlcicd" / "core.py")  # a newer date, the same content
    (repo / "book" / "page.md").write_text("# A page, edited\n", "utf-8")
    assert drops_cache not in dry_run()  # jupyter-cache re-runs the edited page alone
    assert cache_key()["inputs"] == key["inputs"] and cache_key()["pages"] != key["pages"]

    (repo / "mlcicd" / "core.py").write_text("ANSWER = 43\n", "utf-8")
    assert drops_cache in dry_run()
    (repo / "mlcicd" / "core.py").write_text("ANSWER = 42\n", "utf-8")
    (repo / "mlcicd" / "new_module.py").write_text("", "utf-8")  # not yet in git
    assert drops_cache in dry_run()


def test_make_lets_python_keep_its_compiled_cache(make_and_git):
    """With PYTHONDONTWRITEBYTECODE=1 in the caller's environment (some images set it),
    every interpreter that make starts would compile pandas, scipy and scikit-learn again;
    the Makefile removes it from the environment of its recipes."""
    make, _ = make_and_git
    probe = 'probe: ; @echo "[$$PYTHONDONTWRITEBYTECODE]"'
    done = subprocess.run([make, "--no-print-directory", "-f", "Makefile", "--eval", probe,
                           "probe"], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.stdout.strip() == "[]"
