"""CLI subcommands of the registry group: ``registry`` and ``rollback``.

``mlcicd registry --model DIR [--format table|json]`` lists the deployments of an
artifact folder: number, action, stage, model SHA-256, training-data fingerprint, when,
what it replaced (see :mod:`mlcicd.registry`).

``mlcicd rollback --model DIR [--to N] [--reason TEXT]`` serves again the model the
current deployment replaced (or deployment ``N``), as a new deployment, and prints it.
Exit code 0 on success; 2 on bad input or when there is nothing to roll back to.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    p_registry = subparsers.add_parser(
        "registry",
        help="list the deployments of an artifact folder (lineage and stage)",
        description="Every deployment of an artifact folder, oldest first: action, stage, "
        "model SHA-256, training-data fingerprint, time, and the deployment it replaced.",
    )
    p_registry.add_argument("--model", type=Path, required=True, help="artifact folder")
    p_registry.add_argument("--format", choices=("table", "json"), default="table")
    p_registry.set_defaults(func=run_registry)

    p_rollback = subparsers.add_parser(
        "rollback",
        help="serve the previous model of an artifact folder again",
        description="Roll an artifact folder back to the deployment the current one "
        "replaced (or to --to N). The rollback is itself a new deployment.",
    )
    p_rollback.add_argument("--model", type=Path, required=True, help="artifact folder")
    p_rollback.add_argument("--to", type=int, metavar="N", help="deployment number to restore")
    p_rollback.add_argument("--reason", default="", help="why, recorded in the lineage")
    p_rollback.add_argument("--format", choices=("text", "json"), default="text")
    p_rollback.set_defaults(func=run_rollback)


def run_registry(args: argparse.Namespace) -> int:
    """``mlcicd registry``: print the deployments."""
    from mlcicd.registry import history

    deployments = history(args.model)
    if args.format == "json":
        print(json.dumps([d.to_dict() for d in deployments], indent=2, sort_keys=True))
        return 0
    print(f"{'#':>3}  {'action':<8}  {'stage':<11}  {'model':<12}  {'data':<12}  "
          f"{'replaced':>8}  committed")
    for d in deployments:
        replaced = "-" if d.replaced is None else str(d.replaced)
        model = d.sha256[:12] + ("" if d.available else " (pruned)")
        print(f"{d.number:>3}  {d.action:<8}  {d.stage:<11}  {model:<12}  "
              f"{str(d.data_fingerprint)[:12]:<12}  {replaced:>8}  {d.committed_at}")
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    """``mlcicd rollback``: restore the previous deployment and print it."""
    from mlcicd.registry import rollback

    restored = rollback(args.model, to=args.to, reason=args.reason)
    if args.format == "json":
        print(json.dumps(restored.to_dict(), indent=2, sort_keys=True))
    else:
        print(f"rolled back: deployment {restored.number} serves model "
              f"{restored.sha256[:12]} again (that of deployment {restored.restores})")
    return 0
