"""Print the GitHub Actions matrix of the lab runs, one (lab, parameter set) pair a job.

The pairs come from the labs' parameter matrix (``labs/params.yaml``, read and checked by
:func:`mlcicd.labs.params.load_matrix`), so .github/workflows/notebooks.yml never lists
them by hand. ``--github-output FILE`` appends ``matrix=<json>`` to the step's output file.

    python ci/labs_matrix.py                      # prints {"include": [{"lab": ..., ...}]}
"""

from __future__ import annotations

import argparse
import json
import sys

from mlcicd.errors import InputError
from mlcicd.labs.params import load_matrix


def github_matrix(matrix_path: str) -> dict[str, list[dict[str, str]]]:
    """The ``strategy.matrix`` value: ``{"include": [{"lab": ..., "params": ...}, ...]}``."""
    matrix = load_matrix(matrix_path)
    return {
        "include": [
            {"lab": entry.name, "params": set_name}
            for entry in matrix.labs.values()
            for set_name in entry.sets
        ]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matrix", default="labs/params.yaml", help="parameter matrix YAML")
    parser.add_argument("--github-output", help="append matrix=<json> to this file")
    args = parser.parse_args(argv)
    try:
        text = json.dumps(github_matrix(args.matrix), separators=(",", ":"))
    except InputError as exc:
        print(f"labs_matrix: error: {exc}", file=sys.stderr)
        return 2
    print(text)
    if args.github_output:
        with open(args.github_output, "a", encoding="utf-8") as output:
            output.write(f"matrix={text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
