"""The GitHub settings this repository's workflows need, read from the workflows themselves.

Some of what the workflows rely on is not in the repository: the Pages source, the
permission that lets a workflow open a pull request, the deployment environments and
their reviewers, the checks that must pass before a merge. A fork that misses one of
them fails late and obscurely (a release that nobody has to approve, a book that never
publishes). This module derives the list from ``.github/workflows/*.yml`` (a renamed
job or a new environment changes it) and compares it with the settings the GitHub API
reports (``ci/check_github_setup.sh`` fetches them with the ``gh`` CLI).

Examples
--------
>>> from pathlib import Path
>>> workflows = Path(__file__).resolve().parents[1] / ".github" / "workflows"
>>> "Lint (ruff)" in required_checks(workflows)
True
>>> secrets_used(workflows)
[]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlcicd.errors import InputError

#: The API answers :func:`missing_settings` reads, by name: the ``gh api`` path of each
#: (under ``repos/OWNER/REPO/``) and the file name ``ci/check_github_setup.sh`` saves it as.
ANSWERS = {
    "pages": "pages",
    "workflow-permissions": "actions/permissions/workflow",
    "environments": "environments",
    "protection": "branches/main/protection",
}
#: Created by GitHub itself when Pages is set to deploy from Actions.
PAGES_ENVIRONMENT = "github-pages"


@dataclass(frozen=True)
class Requirement:
    """One setting a workflow needs: what to set, where, and which workflow needs it."""

    setting: str
    expected: str
    where: str
    needed_by: str


def _workflows(workflow_dir: Path) -> dict[str, dict]:
    paths = sorted(Path(workflow_dir).glob("*.yml"))
    if not paths:
        raise InputError(f"{workflow_dir}: no workflow files (*.yml)")
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in paths}


def _triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True)) or {}
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def _uses(workflow: dict, action: str) -> bool:
    return any(
        step.get("uses", "").startswith(f"{action}@")
        for job in workflow.get("jobs", {}).values()
        for step in job.get("steps", [])
    )


def required_checks(workflow_dir: Path) -> list[str]:
    """The check names branch protection should require: jobs every pull request runs.

    A job counts when its workflow runs on every pull request (no ``paths`` or
    ``branches`` filter) and the job has no ``if:`` condition. A required check that a
    pull request never starts (a path-filtered workflow, a job skipped by its
    condition) would keep that pull request waiting for ever. The name is the one the
    checks list shows: the job's ``name``, else its id.
    """
    names = []
    for workflow in _workflows(workflow_dir).values():
        pull_request = _triggers(workflow).get("pull_request", False)
        if pull_request is False or (pull_request and set(pull_request) - {"types"}):
            continue
        for job_id, job in workflow.get("jobs", {}).items():
            name = str(job.get("name", job_id))
            if "if" not in job and "${{" not in name:
                names.append(name)
    return names


def environments(workflow_dir: Path) -> dict[str, list[str]]:
    """Deployment environment -> the ``workflow:job`` entries that deploy to it."""
    found: dict[str, list[str]] = {}
    for file, workflow in _workflows(workflow_dir).items():
        for job_id, job in workflow.get("jobs", {}).items():
            environment = job.get("environment")
            name = environment.get("name") if isinstance(environment, dict) else environment
            if name:
                found.setdefault(str(name), []).append(f"{file}:{job_id}")
    return found


def secrets_used(workflow_dir: Path) -> list[str]:
    """Every ``secrets.NAME`` the workflows read (the automatic job token needs none)."""
    text = "".join(
        path.read_text(encoding="utf-8") for path in sorted(Path(workflow_dir).glob("*.yml"))
    )
    return sorted(set(re.findall(r"secrets\.(\w+)", text)) - {"GITHUB_TOKEN"})


def requirements(workflow_dir: Path) -> list[Requirement]:
    """Every repository setting the workflows need, in the order of the settings pages."""
    workflows = _workflows(workflow_dir)
    needs: list[Requirement] = []
    pages = [file for file, flow in workflows.items() if _uses(flow, "actions/deploy-pages")]
    if pages:
        needs.append(Requirement("Pages source", "GitHub Actions",
                                 "Settings > Pages > Build and deployment > Source", pages[0]))
    opens_pr = [
        file for file, flow in workflows.items() if _uses(flow, "peter-evans/create-pull-request")
    ]
    if opens_pr:
        needs.append(Requirement(
            "Workflow permissions", "Allow GitHub Actions to create and approve pull requests",
            "Settings > Actions > General > Workflow permissions", opens_pr[0]))
    for name, jobs in environments(workflow_dir).items():
        if name != PAGES_ENVIRONMENT:
            needs.append(Requirement(f"Environment {name}", "created, with required reviewers",
                                     f"Settings > Environments > {name}", ", ".join(jobs)))
    checks = required_checks(workflow_dir)
    if checks:
        needs.append(Requirement(
            "Branch protection of main", "required status checks: " + ", ".join(checks),
            "Settings > Branches > Branch protection rules (or Rules > Rulesets)",
            "every pull request"))
    return needs


def read_answers(folder: Path) -> dict[str, Any | None]:
    """The saved API answers of ``folder`` (``NAME.json``); ``None`` where there is none.

    A missing file stands for an answer that was not found (HTTP 404): GitHub answers
    so for a setting that was never made, and for branch protection when the token may
    not read it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of saved API answers")
    answers: dict[str, Any | None] = {}
    for name in ANSWERS:
        path = folder / f"{name}.json"
        try:
            answers[name] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if all(answer is None for answer in answers.values()):
        raise InputError(f"{folder}: no setting could be read (is `gh auth login` done, "
                         "and is the repository name right?)")
    return answers


def missing_settings(answers: Mapping[str, Any | None], workflow_dir: Path) -> list[str]:
    """One line per requirement the saved answers do not meet; empty when all are met."""
    missing = []
    for need in requirements(workflow_dir):
        if not _met(need, answers, workflow_dir):
            missing.append(f"{need.setting}: {need.expected} ({need.where}; "
                           f"needed by {need.needed_by})")
    return missing


def _met(need: Requirement, answers: Mapping[str, Any | None], workflow_dir: Path) -> bool:
    if need.setting == "Pages source":
        return (answers.get("pages") or {}).get("build_type") == "workflow"
    if need.setting == "Workflow permissions":
        permissions = answers.get("workflow-permissions") or {}
        return permissions.get("can_approve_pull_request_reviews") is True
    if need.setting.startswith("Environment "):
        name = need.setting.removeprefix("Environment ")
        listed = (answers.get("environments") or {}).get("environments", [])
        rules = [rule.get("type") for env in listed if env.get("name") == name
                 for rule in env.get("protection_rules", [])]
        return "required_reviewers" in rules
    status = (answers.get("protection") or {}).get("required_status_checks") or {}
    required = set(status.get("contexts", []))
    required |= {check.get("context") for check in status.get("checks", [])}
    return set(required_checks(workflow_dir)) <= required
