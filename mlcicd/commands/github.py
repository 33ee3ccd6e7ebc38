"""CLI subcommands of the github group: the repository settings the workflows need.

``mlcicd github checks [--workflows DIR]`` prints the check names that branch protection
should require, one a line. ``mlcicd github answers`` prints the API answers the
comparison reads, ``NAME PATH`` a line (``gh api repos/OWNER/REPO/PATH``, saved as
``NAME.json``). ``mlcicd github settings --answers DIR [--workflows DIR]``
compares the API answers saved in DIR (``ci/check_github_setup.sh`` saves them) with what
the workflows need: exit 0 when every setting is there, 1 when one is missing (each
missing one on its own line), 2 on bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

WORKFLOWS = Path(".github/workflows")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    p_github = subparsers.add_parser(
        "github", help="the GitHub settings the workflows need (Pages, environments, checks)"
    )
    actions = p_github.add_subparsers(dest="github_command", metavar="ACTION", required=True)
    p_checks = actions.add_parser("checks", help="the check names branch protection requires")
    p_checks.add_argument("--workflows", type=Path, default=WORKFLOWS, help="workflow folder")
    p_checks.set_defaults(func=run_checks)
    p_answers = actions.add_parser("answers", help="the API answers `settings` reads")
    p_answers.set_defaults(func=run_answers)
    p_settings = actions.add_parser(
        "settings", help="compare saved API answers with the settings the workflows need"
    )
    p_settings.add_argument(
        "--answers", type=Path, required=True, help="folder of saved `gh api` answers (NAME.json)"
    )
    p_settings.add_argument("--workflows", type=Path, default=WORKFLOWS, help="workflow folder")
    p_settings.set_defaults(func=run_settings)


def run_checks(args: argparse.Namespace) -> int:
    from mlcicd.github_setup import required_checks

    for name in required_checks(args.workflows):
        print(name)
    return 0


def run_answers(args: argparse.Namespace) -> int:
    from mlcicd.github_setup import ANSWERS

    for name, path in ANSWERS.items():
        print(name, path)
    return 0


def run_settings(args: argparse.Namespace) -> int:
    from mlcicd.errors import CheckFailed
    from mlcicd.github_setup import missing_settings, read_answers, requirements

    missing = missing_settings(read_answers(args.answers), args.workflows)
    for line in missing:
        print(f"missing: {line}")
    if missing:
        raise CheckFailed(f"{len(missing)} of {len(requirements(args.workflows))} settings "
                          "are missing (see book/github-setup.md)")
    print(f"all {len(requirements(args.workflows))} settings the workflows need are in place")
    return 0
