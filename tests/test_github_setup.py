"""ci/check_github_setup.sh and mlcicd.github_setup: the GitHub settings the workflows need.

No network: a fake ``gh`` on PATH answers each ``gh api`` request with a recorded API
answer from tests/data/github_api (the shapes GitHub returns), or "Not Found" (exit 1)
for a setting that was never made, as the real one does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlcicd.errors import InputError
from mlcicd.github_setup import (
    environments,
    missing_settings,
    read_answers,
    required_checks,
    requirements,
    secrets_used,
)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "ci" / "check_github_setup.sh"
WORKFLOWS = ROOT / ".github" / "workflows"
RECORDED = Path(__file__).parent / "data" / "github_api"
MLCICD = Path(sys.executable).parent / "mlcicd"

FAKE_GH = """#!/usr/bin/env bash
# A recorded GitHub: `gh api repos/OWNER/REPO/PATH` prints $ANSWERS/<PATH with _>.json.
echo "$*" >> "$ANSWERS/calls.log"
if [ "$1 $2" = "repo view" ]; then echo "octo-org/mlcicd"; exit 0; fi
[ "$1" = api ] || { echo "fake gh: unexpected $*" >&2; exit 3; }
path="${2#repos/octo-org/mlcicd/}"
file="$ANSWERS/${path//\\//_}.json"
if [ -f "$file" ]; then cat "$file"; exit 0; fi
echo '{"message":"Not Found","status":"404"}'
echo "gh: Not Found (HTTP 404)" >&2
exit 1
"""

API_FILES = {
    "pages": "pages",
    "workflow-permissions": "actions_permissions_workflow",
    "environments": "environments",
    "protection": "branches_main_protection",
}


def github(tmp_path: Path, answers: dict[str, dict | None]) -> Path:
    """A folder with the fake gh and the answers it gives (None: never set, 404)."""
    folder = tmp_path / "github"
    folder.mkdir()
    for name, answer in answers.items():
        if answer is not None:
            (folder / f"{API_FILES[name]}.json").write_text(json.dumps(answer), "utf-8")
    gh = folder / "gh"
    gh.write_text(FAKE_GH, encoding="utf-8")
    gh.chmod(0o755)
    return folder


def recorded() -> dict[str, dict]:
    return {name: json.loads((RECORDED / f"{name}.json").read_text("utf-8")) for name in API_FILES}


def check(folder: Path, **env: str) -> subprocess.CompletedProcess:
    settings = {"MLCICD": str(MLCICD), "GH": str(folder / "gh"), "ANSWERS": str(folder), **env}
    return subprocess.run(
        ["bash", str(SCRIPT)], cwd=ROOT, env={**os.environ, **settings},
        capture_output=True, text=True,
    )


def test_a_repository_with_every_setting_passes(tmp_path):
    folder = github(tmp_path, recorded())
    result = check(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "GitHub settings of octo-org/mlcicd" in result.stdout
    assert "missing" not in result.stdout


def test_the_check_only_reads(tmp_path):
    folder = github(tmp_path, recorded())
    check(folder)
    calls = (folder / "calls.log").read_text("utf-8").splitlines()
    api_calls = [call for call in calls if call.startswith("api ")]
    assert len(api_calls) == len(API_FILES)
    for call in api_calls:
        assert call.split()[1].startswith("repos/octo-org/mlcicd/")
        assert not {"-X", "--method", "-f", "-F", "--field", "--input"} & set(call.split())


def test_each_missing_setting_is_named_with_where_to_set_it(tmp_path):
    answers = recorded()
    answers["pages"] = {**answers["pages"], "build_type": "legacy"}
    answers["workflow-permissions"]["can_approve_pull_request_reviews"] = False
    answers["environments"]["environments"] = [
        env for env in answers["environments"]["environments"] if env["name"] != "production"
    ]
    answers["protection"] = None  # never protected: GitHub answers 404
    result = check(github(tmp_path, answers))

    assert result.returncode == 1, result.stdout + result.stderr
    missing = [line for line in result.stdout.splitlines() if line.startswith("missing: ")]
    assert [line.split(":")[1].strip() for line in missing] == [
        "Pages source",
        "Workflow permissions",
        "Environment production",
        "Branch protection of main",
    ]
    assert "Settings > Environments > production" in result.stdout
    assert "4 of 5 settings are missing" in result.stderr


def test_an_environment_without_reviewers_is_missing(tmp_path):
    answers = recorded()
    for env in answers["environments"]["environments"]:
        if env["name"] == "staging":
            env["protection_rules"] = []
    result = check(github(tmp_path, answers))
    assert result.returncode == 1
    assert "missing: Environment staging: created, with required reviewers" in result.stdout


def test_a_required_check_left_out_of_branch_protection_is_missing(tmp_path):
    answers = recorded()
    status = answers["protection"]["required_status_checks"]
    status["contexts"] = status["contexts"][:1]
    status["checks"] = status["checks"][:1]
    result = check(github(tmp_path, answers))
    assert result.returncode == 1
    assert "missing: Branch protection of main" in result.stdout


def test_nothing_readable_is_bad_input(tmp_path):
    result = check(github(tmp_path, dict.fromkeys(API_FILES)))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("mlcicd: error: ")
    assert "gh auth login" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_gh_it_says_how_to_get_it_and_lists_the_checks(tmp_path):
    result = check(github(tmp_path, recorded()), GH=str(tmp_path / "no-such-gh"))
    assert result.returncode == 2
    assert "gh" in result.stderr and "book/github-setup.md" in result.stderr
    for name in required_checks(WORKFLOWS):
        assert name in result.stderr


def test_required_checks_are_the_jobs_every_pull_request_runs():
    checks = required_checks(WORKFLOWS)
    protected = recorded()["protection"]["required_status_checks"]["contexts"]
    assert sorted(checks) == sorted(protected)  # the recorded repository follows the book
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        on = workflow.get("on", workflow.get(True))
        pull_request = on.get("pull_request", False) if isinstance(on, dict) else False
        for job in workflow["jobs"].values():
            if job.get("name") in checks:
                assert pull_request is None or set(pull_request) <= {"types"}, path.name
                assert "if" not in job, f"{path.name}: a skipped job cannot be required"


def test_a_path_filtered_workflow_is_never_required(tmp_path):
    flows = tmp_path / "workflows"
    flows.mkdir()
    for path in WORKFLOWS.glob("*.yml"):
        shutil.copy(path, flows)
    filtered = yaml.safe_load((flows / "ci.yml").read_text("utf-8"))
    filtered[True]["pull_request"] = {"paths": ["mlcicd/**"]}
    (flows / "ci.yml").write_text(yaml.safe_dump(filtered), "utf-8")
    ci_jobs = {job.get("name") for job in filtered["jobs"].values()}
    assert not ci_jobs & set(required_checks(flows))


def test_the_release_environments_and_pages_come_from_the_workflows():
    assert set(environments(WORKFLOWS)) == {"github-pages", "staging", "production"}
    settings = [need.setting for need in requirements(WORKFLOWS)]
    assert settings[:2] == ["Pages source", "Workflow permissions"]
    assert {"Environment staging", "Environment production"} <= set(settings)
    assert "Environment github-pages" not in settings  # GitHub creates it
    assert secrets_used(WORKFLOWS) == []


def test_a_malformed_saved_answer_is_bad_input(tmp_path):
    (tmp_path / "pages.json").write_text("{not json", "utf-8")
    with pytest.raises(InputError, match="pages.json: not JSON"):
        read_answers(tmp_path)


def test_the_recorded_complete_repository_meets_every_requirement():
    assert missing_settings(recorded(), WORKFLOWS) == []
