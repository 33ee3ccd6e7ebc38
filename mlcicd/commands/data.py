"""CLI subcommands for data: ``validate``, ``infer-schema`` and ``datasets export``.

::

    mlcicd validate DATA.csv --schema SCHEMA.yaml [--format table|markdown|json]
    mlcicd infer-schema DATA.csv --out SCHEMA.yaml [--target target] [--force]
    mlcicd datasets export breast-cancer --out data/ [--test-size 0.25] [--seed 0] [--force]

``validate`` prints the full report and exits 1 when any check failed, so a CI step
fails with every problem listed. Bad input (unreadable CSV, bad schema) exits 2.
``infer-schema`` and ``datasets export`` write data, so they refuse to replace an
existing file unless ``--force`` (an export that would write the same bytes again is
fine: re-running a pipeline needs no flag).

The library (pandas, scikit-learn) is imported inside the handlers, not at module
level, so that building the parser (``mlcicd --help``, any other subcommand) stays
fast. The few constants argparse needs are repeated here as literals; a test in
``tests/test_cli.py`` checks they equal the library's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcicd.commands import options
from mlcicd.paths import PathCheck

FORMATS = ("table", "markdown", "json")
#: Names of :data:`mlcicd.datasets.DATASETS`, sorted.
DATASET_NAMES = ("breast-cancer",)
#: :data:`mlcicd.datasets.TARGET`.
TARGET = "target"
#: :data:`mlcicd.validation.infer.DEFAULT_MARGIN`.
DEFAULT_MARGIN = 0.5


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    check = subparsers.add_parser(
        "validate",
        help="check a CSV file against a schema, reporting every failure",
        description="Check DATA against every rule of SCHEMA and print the full report. "
        "Exit 0 when every check passes, 1 when any fails, 2 on unreadable input.",
    )
    check.add_argument("data", metavar="DATA.csv", help="the data to check")
    check.add_argument("--schema", required=True, metavar="SCHEMA.yaml", help="the rules")
    check.add_argument("--format", choices=FORMATS, default="table",
                       help="report format")
    check.set_defaults(func=run_validate)

    infer = subparsers.add_parser(
        "infer-schema",
        help="draft a schema from reference data",
        description="Infer a schema from reference DATA, with margins, and write it as YAML "
        "for review. Refuses to overwrite an existing file unless --force.",
    )
    infer.add_argument("data", metavar="DATA.csv", help="reference data")
    infer.add_argument("--out", required=True, metavar="SCHEMA.yaml", help="file to write")
    infer.add_argument("--target", default=None, help="name of the label column, if any")
    infer.add_argument("--margin", type=options.non_negative, default=DEFAULT_MARGIN,
                       help="share of the observed range added on each side")
    infer.add_argument("--force", action="store_true", help="overwrite an existing file")
    infer.set_defaults(func=run_infer_schema)

    datasets = subparsers.add_parser("datasets", help="built-in data sets",
                                     description="Work with the data sets the project ships.")
    actions = datasets.add_subparsers(dest="datasets_action", metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="write a stratified train/test split as train.csv and test.csv",
        description="Write a built-in data set, split (stratified on "
        f"{TARGET!r}, seeded), as OUT/train.csv and OUT/test.csv.",
    )
    export.add_argument("name", choices=DATASET_NAMES, help="data set name")
    export.add_argument("--out", default="data", metavar="DIR", help="folder")
    export.add_argument("--test-size", type=options.fraction(open_low=True, open_high=True),
                        default=0.25, help="share of rows in the test set")
    export.add_argument("--live-size", type=options.fraction(open_low=True, open_high=True),
                        default=None, help="also write live.csv: this share of the held-out "
                        "rows becomes a live-traffic stream, the rest stays test.csv; "
                        "train.csv is unchanged")
    export.add_argument("--seed", type=options.seed, default=0,
                        help="random seed, in [0, 2**32)")
    options.add_force(export)
    export.set_defaults(func=run_export)
    datasets.set_defaults(func=lambda args: datasets.missing_action())


def run_validate(args: argparse.Namespace) -> int:
    """Print the validation report; 0 when it passed, 1 when any check failed."""
    from mlcicd.io import read_csv
    from mlcicd.validation import Schema, validate

    PathCheck().read_file("DATA", args.data).read_file("--schema", args.schema).check()
    schema = Schema.from_yaml(args.schema)
    frame = read_csv(args.data)
    report = validate(frame, schema)
    if args.format == "json":
        print(report.to_json())
    elif args.format == "markdown":
        print(report.to_markdown())
    else:
        print(report.to_table())
    return 0 if report.ok else 1


def run_infer_schema(args: argparse.Namespace) -> int:
    """Write a schema inferred from the reference data, never clobbering one by accident."""
    from mlcicd.io import read_csv
    from mlcicd.validation import infer_schema

    out = Path(args.out)
    PathCheck(force=args.force).read_file("DATA", args.data).write_file(
        "--out", out, replace=False).check()
    frame = read_csv(args.data)
    schema = infer_schema(frame, target=args.target, margin=args.margin)
    schema.to_yaml(out)
    print(f"wrote {out}: {len(schema.columns)} columns inferred from {len(frame)} rows")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export a built-in data set as train.csv and test.csv."""
    from mlcicd.datasets import export_dataset

    live = args.live_size is not None
    files = ("train.csv", "test.csv", "live.csv") if live else ("train.csv", "test.csv")
    PathCheck(force=args.force).write_folder("--out", args.out, files=files).check()
    paths = export_dataset(args.name, args.out, test_size=args.test_size, seed=args.seed,
                           overwrite=args.force, live_size=args.live_size or 0.0)
    print("wrote " + ", ".join(map(str, paths[:-1])) + f" and {paths[-1]}")
    return 0
