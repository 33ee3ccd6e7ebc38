"""CLI subcommands of the model group: ``train`` and ``evaluate``.

``mlcicd train --config CONFIG.yaml --train TRAIN.csv [--test TEST.csv] --out DIR``
trains, prints the metrics and saves the artifact (see :mod:`mlcicd.artifacts`); the
artifact is written only after training succeeded, so a failure leaves ``DIR`` as it was.

``mlcicd evaluate --model DIR --data TEST.csv [--out metrics.json] [--format table|json]``
loads a verified artifact and measures it on labelled data. ``--out`` may replace an
earlier report, but not one of the inputs nor a file inside an artifact (``--force``).

The library (pandas, scikit-learn, skops) is imported inside the handlers, so that
building the parser stays fast.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

from mlcicd.commands import options
from mlcicd.paths import PathCheck


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    p_train = subparsers.add_parser(
        "train",
        help="train a model from a CSV file and save it as a verified artifact",
        description="Train the configured pipeline, print its metrics and save the artifact.",
    )
    p_train.add_argument("--config", type=Path, help="training config (YAML); defaults if omitted")
    p_train.add_argument("--train", type=Path, required=True, help="training data (CSV)")
    p_train.add_argument(
        "--test", type=Path, help="test data (CSV); default: hold out config.test_size"
    )
    p_train.add_argument("--out", type=Path, required=True, help="artifact folder to write")
    p_train.set_defaults(func=run_train)

    p_eval = subparsers.add_parser(
        "evaluate",
        help="measure a saved model on labelled data",
        description="Load a verified model artifact and compute its metrics on a CSV file.",
    )
    p_eval.add_argument("--model", type=Path, required=True, help="artifact folder")
    p_eval.add_argument("--data", type=Path, required=True, help="labelled data (CSV)")
    p_eval.add_argument(
        "--target", help="label column (default: the one the model was trained with)"
    )
    p_eval.add_argument("--out", type=Path, help="also write the metrics to this JSON file")
    p_eval.add_argument("--format", choices=("table", "json"), default="table")
    options.add_force(p_eval)
    p_eval.set_defaults(func=run_evaluate)


def run_train(args: argparse.Namespace) -> int:
    """``mlcicd train``: train, print the metrics and save the artifact."""
    from mlcicd.artifacts import data_fingerprint, save_model
    from mlcicd.io import read_csv
    from mlcicd.training import TrainConfig, split_xy, train
    from mlcicd.validation.input_schema import infer_input_schema

    PathCheck().read_file("--config", args.config).read_file("--train", args.train).read_file(
        "--test", args.test).write_folder("--out", args.out).check()
    config = TrainConfig.from_yaml(args.config) if args.config else TrainConfig()
    train_df = read_csv(args.train, required_columns=[config.target])
    test_df = read_csv(args.test, required_columns=[config.target]) if args.test else None
    # Checked here too, so that an error names the file rather than "training data".
    train_features, _ = split_xy(train_df, config.target, source=str(args.train))
    if test_df is not None:
        split_xy(test_df, config.target, source=str(args.test))
    result = train(config, train_df, test_df)
    extra = {
        "train_file": str(args.train),
        "test_file": str(args.test) if args.test else None,
        "test_fingerprint": data_fingerprint(test_df) if test_df is not None else None,
        "n_train": result.n_train,
        "n_test": result.n_test,
        "cv_scores": result.cv_scores,
        "prediction_balance": result.prediction_balance,
        # The rows the served model accepts: see mlcicd.validation.input_schema.
        "input_schema": infer_input_schema(train_features),
    }
    model_path = save_model(
        result.pipeline,
        args.out,
        config=config,
        metrics=result.metrics,
        data=train_df,
        extra=extra,
    )
    print(f"model: {config.model} trained on {result.n_train} rows, tested on {result.n_test}")
    print(format_table(result.metrics))
    print(f"saved: {model_path}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """``mlcicd evaluate``: measure a verified artifact on labelled data."""
    from mlcicd.artifacts import load_model
    from mlcicd.io import read_csv, write_json
    from mlcicd.training import evaluate

    PathCheck(force=args.force).read_folder("--model", args.model).read_file(
        "--data", args.data).write_file("--out", args.out).check()
    loaded = load_model(args.model)
    target = args.target or (loaded.metadata.get("config") or {}).get("target") or "target"
    df = read_csv(args.data, required_columns=[target])
    metrics = evaluate(loaded.model, df, target, source=str(args.data),
                       name=f"model {args.model}")
    if args.out:
        write_json(args.out, metrics)
    if args.format == "json":
        print(json.dumps(metrics, indent=2, sort_keys=True))
    else:
        print(f"model: {loaded.path} on {args.data} ({len(df)} rows)")
        print(format_table(metrics))
    return 0


def format_table(metrics: Mapping[str, float]) -> str:
    """Metrics as a two-column, aligned plain-text table.

    >>> print(format_table({"accuracy": 0.95, "f1": 0.9}))
    metric    value
    --------  ------
    accuracy  0.9500
    f1        0.9000
    """
    width = max([len("metric"), *map(len, metrics)])
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  ------"]
    for name, value in metrics.items():
        lines.append(f"{name:<{width}}  {value:.4f}")
    return "\n".join(lines)
