"""CLI subcommands: ``compare`` (baseline vs candidate) and ``gate`` (quality thresholds).

Both exit 0 when the check passes and 1 when it fails; bad input (a missing metric, an
unknown threshold key, a tampered model) is an :class:`~mlcicd.errors.InputError`,
which :mod:`mlcicd.cli` turns into one line on stderr and exit code 2.

The library (pandas, scipy, skops) is imported inside the handlers, so that building
the parser stays fast.
"""

from __future__ import annotations

import argparse
import sys

from mlcicd.commands import options
from mlcicd.errors import EXIT_FAILED, EXIT_OK
from mlcicd.paths import PathCheck


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    compare = subparsers.add_parser(
        "compare",
        help="compare a candidate model with the baseline on a test set (exit 1 on regression)",
        description=(
            "Score two saved models on the same test rows: metrics side by side, paired "
            "bootstrap interval, exact McNemar test, size and timing. Exit 0 when no checked "
            "metric drops by more than the allowed drop, 1 otherwise. Give the quality gate "
            "(--thresholds config/gate.yaml) to take the drop and the checked metrics from it."
        ),
    )
    compare.add_argument("--baseline", required=True, metavar="DIR", help="baseline artifact")
    compare.add_argument("--candidate", required=True, metavar="DIR", help="candidate artifact")
    compare.add_argument("--test", required=True, metavar="CSV", help="labelled test data")
    compare.add_argument("--target", default="target", help="label column")
    policy = compare.add_mutually_exclusive_group()
    policy.add_argument(
        "--thresholds", metavar="YAML",
        help="quality gate whose max_regression and regression_metrics to apply",
    )
    policy.add_argument(
        "--max-regression", type=float, default=None, metavar="DROP",
        help="largest drop allowed for accuracy, precision, recall and F1, as a fraction "
        "(default without --thresholds: 0.01 = 1 pp)",
    )
    compare.add_argument(
        "--n-resamples", type=options.count(1, options.LIMITS["n_resamples"]), default=2000,
        help=f"bootstrap resamples, at most {options.LIMITS['n_resamples']:,}",
    )
    compare.add_argument("--seed", type=options.seed, default=0,
                         help="bootstrap seed, in [0, 2**32)")
    compare.add_argument(
        "--format", choices=("markdown", "json", "table"), default="markdown",
        help="output format (default: markdown, the pull-request comment)",
    )
    compare.add_argument(
        "--no-timing", action="store_true",
        help="leave prediction times out of the markdown (they vary from run to run)",
    )
    compare.add_argument("--out", metavar="FILE", help="write the report here (default: stdout)")
    options.add_force(compare)
    compare.set_defaults(func=run_compare)

    gate = subparsers.add_parser(
        "gate",
        help="check a model's metrics against quality thresholds (exit 1 when a rule fails)",
        description="Apply the thresholds of a YAML file to a metrics JSON file.",
    )
    gate.add_argument("--metrics", required=True, metavar="JSON", help="candidate metrics")
    gate.add_argument("--thresholds", required=True, metavar="YAML", help="gate thresholds")
    gate.add_argument(
        "--baseline", metavar="JSON", help="baseline metrics, for the max_regression rule"
    )
    gate.add_argument(
        "--format", choices=("table", "markdown", "json"), default="table",
        help="output format",
    )
    gate.add_argument("--out", metavar="FILE", help="write the result here (default: stdout)")
    options.add_force(gate)
    gate.set_defaults(func=run_gate)


def run_compare(args: argparse.Namespace) -> int:
    """``mlcicd compare``: print or write the comparison report."""
    from mlcicd.artifacts import load_model
    from mlcicd.compare import compare_models
    from mlcicd.io import read_csv

    PathCheck(force=args.force).read_folder("--baseline", args.baseline).read_folder(
        "--candidate", args.candidate).read_file("--test", args.test).read_file(
        "--thresholds", args.thresholds).write_file("--out", args.out).check()
    baseline = load_model(args.baseline)
    candidate = load_model(args.candidate)
    test_df = read_csv(args.test, required_columns=[args.target])
    report = compare_models(
        baseline,
        candidate,
        test_df,
        args.target,
        n_resamples=args.n_resamples,
        seed=args.seed,
        max_regression=args.max_regression,
        thresholds=args.thresholds,
        baseline_path=args.baseline,
        candidate_path=args.candidate,
    )
    if args.format == "json":
        text = report.to_json() + "\n"
    elif args.format == "table":
        text = report.to_frame().to_string(float_format=lambda v: f"{v:.4f}")
        text += f"\n\n{report.verdict}\n"
    else:
        text = report.to_markdown(include_timing=not args.no_timing)
    _emit(text, args.out, summary=report.verdict)
    return EXIT_OK if report.passed else EXIT_FAILED


def run_gate(args: argparse.Namespace) -> int:
    """``mlcicd gate``: apply the thresholds and print every rule."""
    import json

    from mlcicd.gate import GateThresholds, apply_gate

    PathCheck(force=args.force).read_file("--metrics", args.metrics).read_file(
        "--thresholds", args.thresholds).read_file("--baseline", args.baseline).write_file(
        "--out", args.out).check()
    thresholds = GateThresholds.from_yaml(args.thresholds)
    result = apply_gate(args.metrics, thresholds, baseline_metrics=args.baseline)
    if args.format == "json":
        text = json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n"
    elif args.format == "markdown":
        text = result.to_markdown()
    else:
        frame = result.to_frame()
        text = frame.to_string(index=False, float_format=lambda v: f"{v:.4f}") if len(
            frame
        ) else "(no rule applied)"
        text += "\n" + "".join(f"skipped: {note}\n" for note in result.skipped)
        text += f"\nquality gate {'passed' if result.passed else 'FAILED'}\n"
    _emit(text, args.out, summary=f"quality gate {'passed' if result.passed else 'FAILED'}")
    return EXIT_OK if result.passed else EXIT_FAILED


def _emit(text: str, out: str | None, *, summary: str) -> None:
    # With --out the log still says what happened, in one line.
    if out:
        from mlcicd.io import atomic_write_text

        atomic_write_text(out, text)
        print(f"wrote {out}: {summary}")
    else:
        sys.stdout.write(text)
