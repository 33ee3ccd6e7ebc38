"""Turn the decision of ``mlcicd monitor --format json`` into markdown for the job page.

    python ci/retrain_summary.py out/retrain/decision.json [--github-output FILE]

Prints a heading with the outcome and a short list of the reasons and figures. With
``--github-output`` it also appends ``promoted=true|false`` and ``outcome=...`` to that
file (the step outputs the pull-request job of .github/workflows/retrain.yml reads).
Exit code 1 when the cycle itself failed (outcome ``failed``), 2 on a bad decision file.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def decision_markdown(decision: dict[str, Any]) -> str:
    """A heading and one bullet per reason and figure of a monitoring decision."""
    accuracy = decision["batch_metrics"].get("accuracy", float("nan"))
    lines = [f"## Retraining cycle: {decision['outcome']}", ""]
    lines += [f"- {reason}" for reason in decision["reasons"]]
    lines.append(
        f"- production accuracy on the batch: {accuracy:.4f} "
        f"(minimum {decision['min_accuracy']:.4f}, {decision['batch_rows']} rows)"
    )
    lines.append(f"- model: `{decision['model_before'][:12]}` -> `{decision['model_after'][:12]}`")
    if decision.get("error"):
        lines.append(f"- error: {decision['error']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decision", help="JSON written by `mlcicd monitor --format json`")
    parser.add_argument("--github-output", default="", help="append step outputs to this file")
    args = parser.parse_args(argv)
    try:
        with open(args.decision, encoding="utf-8") as handle:
            decision = json.load(handle)
        text = decision_markdown(decision)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"retrain_summary: error: {args.decision}: {exc!r}", file=sys.stderr)
        return 2
    print(text, end="")
    if args.github_output:
        with open(args.github_output, "a", encoding="utf-8") as output:
            output.write(f"promoted={str(bool(decision['promoted'])).lower()}\n")
            output.write(f"outcome={decision['outcome']}\n")
    return 1 if decision["outcome"] == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
