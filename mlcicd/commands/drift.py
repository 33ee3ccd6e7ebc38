"""CLI subcommands of the drift group: ``drift`` and ``monitor``.

``mlcicd drift --reference R.csv --current C.csv [--alpha 0.05]
[--correction bh|bonferroni|none] [--format table|markdown|json] [--exclude target]``
tests every shared column for drift and prints the report. Exit code 1 when the data
set drifted, 0 when not, 2 on bad input.

``mlcicd monitor --model DIR --reference R.csv --batch B.csv --train TRAIN.csv
[--config C.yaml] [--thresholds GATE.yaml] [--min-accuracy 0.9] [--history H.jsonl]``
runs one monitoring cycle (see :mod:`mlcicd.deploy.monitor`) and prints the decision.
Exit code 0 whatever the decision; 2 on bad input.

The library (pandas, scipy, scikit-learn) is imported inside the handlers, so that
building the parser stays fast; :data:`CORRECTIONS` repeats
:data:`mlcicd.drift.correction.CORRECTIONS` (a test checks they agree).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mlcicd.commands import options
from mlcicd.paths import PathCheck

EXIT_OK, EXIT_DRIFT = 0, 1
#: The multiple-testing corrections, as in :data:`mlcicd.drift.correction.CORRECTIONS`.
CORRECTIONS = ("bh", "bonferroni", "none")
#: As :data:`mlcicd.drift.detect.DISCRETE_MAX_LEVELS` and ``FEATURE_TESTS`` (a test checks).
DISCRETE_MAX_LEVELS = 10
FEATURE_TESTS = ("ks", "chi2")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    p_drift = subparsers.add_parser(
        "drift",
        help="test a current data set for drift against a reference (exit 1 on drift)",
        description="Per-feature drift tests (KS, chi-squared, PSI, Wasserstein) with a "
        "multiple-testing correction and a data-set verdict. Exit 1 when drift is found.",
    )
    p_drift.add_argument("--reference", type=Path, required=True, help="reference data (CSV)")
    p_drift.add_argument("--current", type=Path, required=True, help="current data (CSV)")
    _add_detection_options(p_drift)
    p_drift.add_argument(
        "--drift-share",
        type=float,
        help="call the data set drifted only when at least this share of features drifted",
    )
    p_drift.add_argument(
        "--discrete-max-levels", type=options.count(0, 10_000), default=DISCRETE_MAX_LEVELS,
        metavar="K", help="integer-valued features with at most K levels get chi-squared "
        f"instead of KS (default: {DISCRETE_MAX_LEVELS}; 0: never)",
    )
    p_drift.add_argument(
        "--feature-test", action="append", default=[], metavar="COLUMN=TEST",
        help=f"force a feature's test, TEST one of {', '.join(FEATURE_TESTS)}; repeatable",
    )
    p_drift.add_argument(
        "--format", choices=("table", "markdown", "json"), default="table", help="output format"
    )
    p_drift.set_defaults(func=run_drift)

    p_monitor = subparsers.add_parser(
        "monitor",
        help="one monitoring cycle: drift, accuracy, retrain, gate, promote",
        description="Check a labelled batch for drift and accuracy; retrain on the training "
        "data plus the batch when either fails; promote the candidate only when it passes "
        "the gate and paired evidence on held-out rows shows it better than production (or "
        "not worse, when production is below --min-accuracy). The previous model stays in "
        "the folder: `mlcicd rollback --model DIR` serves it again.",
    )
    p_monitor.add_argument("--model", type=Path, required=True, help="production artifact folder")
    p_monitor.add_argument("--reference", type=Path, required=True, help="reference data (CSV)")
    p_monitor.add_argument("--batch", type=Path, required=True, help="new labelled batch (CSV)")
    p_monitor.add_argument("--train", type=Path, required=True, help="training data (CSV)")
    p_monitor.add_argument("--config", type=Path, help="training config (YAML)")
    p_monitor.add_argument("--thresholds", type=Path, help="quality gate thresholds (YAML)")
    p_monitor.add_argument(
        "--min-accuracy", type=float, default=0.9, help="retrain below this batch accuracy"
    )
    p_monitor.add_argument("--history", type=Path, help="JSON-lines file the decision is added to")
    p_monitor.add_argument("--alpha", type=float, default=0.05, help="drift significance level")
    p_monitor.add_argument("--correction", choices=CORRECTIONS, default="bh")
    p_monitor.add_argument("--format", choices=("text", "json"), default="text")
    options.add_force(p_monitor)
    p_monitor.set_defaults(func=run_monitor)


def _add_detection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    parser.add_argument(
        "--correction", choices=CORRECTIONS, default="bh", help="multiple-testing correction"
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="COLUMN",
        help="column(s) to leave out, e.g. the target; repeat or separate with commas",
    )


def run_drift(args: argparse.Namespace) -> int:
    """``mlcicd drift``: print the drift report; exit 1 when the data set drifted."""
    from mlcicd.drift.detect import detect_drift
    from mlcicd.io import read_csv

    PathCheck().read_file("--reference", args.reference).read_file(
        "--current", args.current).check()
    reference = read_csv(args.reference)
    current = read_csv(args.current)
    exclude = [name.strip() for item in args.exclude for name in item.split(",") if name.strip()]
    report = detect_drift(
        reference,
        current,
        alpha=args.alpha,
        correction=args.correction,
        exclude=exclude,
        drift_share=args.drift_share,
        discrete_max_levels=args.discrete_max_levels,
        feature_tests=_feature_tests(args.feature_test),
    )
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    elif args.format == "markdown":
        print(report.to_markdown(), end="")
    else:
        table = report.to_frame()
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(report.summary())
    return EXIT_DRIFT if report.drifted else EXIT_OK


def run_monitor(args: argparse.Namespace) -> int:
    """``mlcicd monitor``: run one monitoring cycle and print the decision."""
    from mlcicd.deploy.monitor import Monitor
    from mlcicd.gate import GateThresholds
    from mlcicd.io import read_csv
    from mlcicd.training import TrainConfig

    # The model folder is replaced on a promotion, so every other path is checked first.
    PathCheck(force=args.force).read_folder("--model", args.model).read_file(
        "--reference", args.reference).read_file("--batch", args.batch).read_file(
        "--train", args.train).read_file("--config", args.config).read_file(
        "--thresholds", args.thresholds).write_file("--history", args.history).check()
    config = TrainConfig.from_yaml(args.config) if args.config else TrainConfig()
    thresholds = GateThresholds.from_yaml(args.thresholds) if args.thresholds else None
    reference = read_csv(args.reference)
    batch = read_csv(args.batch, required_columns=[config.target])
    train_df = read_csv(args.train, required_columns=[config.target])
    monitor = Monitor(
        args.model,
        reference=reference,
        train_data=train_df,
        config=config,
        thresholds=thresholds,
        min_accuracy=args.min_accuracy,
        alpha=args.alpha,
        correction=args.correction,
        history=args.history,
    )
    decision = monitor.run(batch)
    if args.format == "json":
        print(json.dumps(decision.to_dict(), indent=2, sort_keys=True))
    else:
        print(decision.to_text(), end="")
    return EXIT_OK


def _feature_tests(items: list[str]) -> dict[str, str]:
    from mlcicd.errors import InputError

    chosen = {}
    for item in items:
        column, sep, test = item.rpartition("=")
        if not sep or not column or test not in FEATURE_TESTS:
            raise InputError(f"--feature-test: expected COLUMN={'|'.join(FEATURE_TESTS)}, "
                             f"got {item!r}")
        chosen[column] = test
    return chosen
