"""``mlcicd compare`` and ``mlcicd gate``: output formats and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json

import pytest
from sklearn.dummy import DummyClassifier

from mlcicd.artifacts import save_model
from mlcicd.cli import main
from mlcicd.compare import MARKER
from mlcicd.datasets import load_breast_cancer_frame, split_frame
from mlcicd.training import TrainConfig, build_pipeline, split_xy


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Three saved models (baseline, same-again candidate, dummy) and a test CSV."""
    root = tmp_path_factory.mktemp("release")
    train_df, test_df = split_frame(load_breast_cancer_frame(), test_size=0.25, seed=0)
    X, y = split_xy(train_df, "target")
    test_csv = root / "test.csv"
    test_df.to_csv(test_csv, index=False)
    config = TrainConfig(model="logistic_regression")
    for name, model in {
        "baseline": build_pipeline(config).fit(X, y),
        "retrained": build_pipeline(config).fit(X, y),
        "dummy": DummyClassifier(strategy="most_frequent").fit(X, y),
    }.items():
        metrics = {"accuracy": float((model.predict(X) == y).mean()),
                   "precision": 0.9, "recall": 0.9, "f1": 0.9}
        save_model(model, root / name, metrics=metrics)
    return root


def _compare(ws, candidate, *extra):
    return main(["compare", "--baseline", str(ws / "baseline"), "--candidate",
                 str(ws / candidate), "--test", str(ws / "test.csv"), "--n-resamples", "200",
                 *extra])


def test_compare_passes_with_exit_0_and_prints_the_comment(workspace, capsys):
    assert _compare(workspace, "retrained") == 0
    out = capsys.readouterr().out
    assert out.startswith(MARKER)
    assert "Candidate passes" in out
    assert "| accuracy |" in out


def test_compare_exits_1_on_a_regression(workspace, capsys):
    assert _compare(workspace, "dummy") == 1
    assert "Candidate fails: accuracy" in capsys.readouterr().out


def test_compare_json_is_machine_readable(workspace, capsys):
    assert _compare(workspace, "dummy", "--format", "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False
    assert "accuracy" in report["failures"]
    assert report["candidate_label"].endswith("dummy")


def test_compare_table_format_lists_every_metric(workspace, capsys):
    assert _compare(workspace, "retrained", "--format", "table") == 0
    out = capsys.readouterr().out
    assert "f1_weighted" in out and "Candidate passes" in out


def test_compare_writes_the_report_to_a_file(workspace, tmp_path, capsys):
    out_file = tmp_path / "comment.md"
    assert _compare(workspace, "dummy", "--out", str(out_file), "--no-timing") == 1
    log = capsys.readouterr().out
    assert log.startswith(f"wrote {out_file}: Candidate fails: accuracy")
    assert log.count("\n") == 1
    text = out_file.read_text(encoding="utf-8")
    assert text.startswith(MARKER) and "Prediction time" not in text


def test_a_looser_max_regression_turns_the_failure_into_a_pass(workspace):
    assert _compare(workspace, "dummy", "--max-regression", "1.0") == 0


def test_a_tampered_model_is_refused_with_exit_2_and_no_report(workspace, tmp_path, capsys):
    import shutil

    copy = tmp_path / "tampered"
    shutil.copytree(workspace / "dummy", copy)
    model_file = next(copy.glob("model-*.skops"))
    model_file.write_bytes(model_file.read_bytes() + b"x")
    out_file = tmp_path / "comment.md"
    out_file.write_text("previous comment")
    code = main(["compare", "--baseline", str(workspace / "baseline"), "--candidate", str(copy),
                 "--test", str(workspace / "test.csv"), "--out", str(out_file)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "model-" in err
    assert out_file.read_text() == "previous comment"


def test_a_test_file_without_the_target_is_exit_2(workspace, capsys):
    assert _compare(workspace, "dummy", "--target", "label") == 2
    assert "'label'" in capsys.readouterr().err


@pytest.fixture()
def gate_files(tmp_path):
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"accuracy": 0.95, "precision": 0.94, "recall": 0.97,
                                   "f1": 0.955}))
    thresholds = tmp_path / "gate.yaml"
    thresholds.write_text("min_accuracy: 0.9\nmin_recall: 0.95\nmax_regression: 0.01\n")
    return metrics, thresholds


def test_gate_passes_with_exit_0(gate_files, capsys):
    metrics, thresholds = gate_files
    assert main(["gate", "--metrics", str(metrics), "--thresholds", str(thresholds)]) == 0
    out = capsys.readouterr().out
    assert "min_recall" in out and "quality gate passed" in out
    assert "skipped: max_regression" in out


def test_gate_fails_with_exit_1_against_a_better_baseline(gate_files, tmp_path, capsys):
    metrics, thresholds = gate_files
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"accuracy": 0.97, "precision": 0.94, "recall": 0.97,
                                    "f1": 0.955}))
    code = main(["gate", "--metrics", str(metrics), "--thresholds", str(thresholds),
                 "--baseline", str(baseline), "--format", "json"])
    assert code == 1
    result = json.loads(capsys.readouterr().out)
    failed = [rule for rule in result["rules"] if not rule["passed"]]
    assert [(r["name"], r["metric"]) for r in failed] == [("max_regression", "accuracy")]


def test_gate_reads_an_artifacts_metrics_file(workspace, tmp_path, capsys):
    thresholds = tmp_path / "gate.yaml"
    thresholds.write_text("min_f1: 0.8\n")
    code = main(["gate", "--metrics", str(workspace / "baseline" / "metrics.json"),
                 "--thresholds", str(thresholds), "--format", "markdown"])
    assert code == 0
    assert "Quality gate passed ✅" in capsys.readouterr().out


def test_gate_with_a_metric_missing_is_exit_2_naming_the_key(gate_files, tmp_path, capsys):
    _, thresholds = gate_files
    metrics = tmp_path / "partial.json"
    metrics.write_text(json.dumps({"accuracy": 0.95}))
    assert main(["gate", "--metrics", str(metrics), "--thresholds", str(thresholds)]) == 2
    err = capsys.readouterr().err
    assert "missing key 'recall'" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_gate_with_an_unknown_threshold_is_exit_2_naming_the_key(gate_files, tmp_path, capsys):
    metrics, _ = gate_files
    thresholds = tmp_path / "typo.yaml"
    thresholds.write_text("min_acc: 0.9\n")
    assert main(["gate", "--metrics", str(metrics), "--thresholds", str(thresholds)]) == 2
    assert "unknown key 'min_acc'" in capsys.readouterr().err
