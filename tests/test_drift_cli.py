"""`mlcicd drift` and `mlcicd monitor`: output formats and exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mlcicd.artifacts import load_model, save_model
from mlcicd.cli import main
from mlcicd.deploy.monitor import read_history
from mlcicd.drift import make_drifted
from mlcicd.training import TrainConfig, train


def _csv(path, kind="covariate", level=0.0, n=300, seed=0):
    X, y = make_drifted(kind, level, n=n, seed=seed)
    X.assign(target=y).to_csv(path, index=False)
    return path


@pytest.fixture
def files(tmp_path):
    return {
        "ref": _csv(tmp_path / "ref.csv", seed=0),
        "same": _csv(tmp_path / "same.csv", seed=1),
        "drifted": _csv(tmp_path / "drifted.csv", level=0.5, seed=2),
    }


def test_no_drift_exits_0_and_prints_the_table(files, capsys):
    code = main(["drift", "--reference", str(files["ref"]), "--current", str(files["same"]),
                 "--exclude", "target"])
    out = capsys.readouterr().out
    assert code == 0
    assert "no drift" in out and "x1" in out and "target" not in out


def test_drift_exits_1_with_a_markdown_report(files, capsys):
    code = main(["drift", "--reference", str(files["ref"]), "--current", str(files["drifted"]),
                 "--exclude", "target", "--format", "markdown"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("**Data drift: detected**")
    assert "| `x1` | ks |" in out


def test_json_output_is_valid_json_and_honours_the_options(files, capsys):
    code = main(["drift", "--reference", str(files["ref"]), "--current", str(files["drifted"]),
                 "--format", "json", "--alpha", "0.01", "--correction", "bonferroni"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (report["alpha"], report["correction"]) == (0.01, "bonferroni")
    assert {f["feature"] for f in report["features"]} == {"x1", "x2", "target"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--alpha", "2"], "alpha"),
        (["--current", "missing.csv"], "file not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, capsys, extra, message):
    args = ["drift", "--reference", str(files["ref"]), "--current", str(files["same"]), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_no_common_column_exits_2(files, tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n3,4\n")
    assert main(["drift", "--reference", str(files["ref"]), "--current", str(other)]) == 2
    assert "no column in common" in capsys.readouterr().err


def test_monitor_prints_the_decision_and_writes_the_history(files, tmp_path, capsys):
    config = TrainConfig(params={"n_estimators": 20}, cv_folds=3)
    (tmp_path / "config.yaml").write_text("params: {n_estimators: 20}\ncv_folds: 3\n")
    (tmp_path / "gate.yaml").write_text("min_accuracy: 0.85\n")
    save_model(train(config, pd.read_csv(files["ref"])).pipeline, tmp_path / "prod")
    batch = _csv(tmp_path / "batch.csv", level=1.0, n=400, seed=5)
    history = tmp_path / "history.jsonl"
    code = main([
        "monitor", "--model", str(tmp_path / "prod"), "--reference", str(files["ref"]),
        "--batch", str(batch), "--train", str(files["ref"]),
        "--config", str(tmp_path / "config.yaml"), "--thresholds", str(tmp_path / "gate.yaml"),
        "--min-accuracy", "0.9", "--history", str(history),
    ])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("decision: promoted (retrained)")
    assert read_history(history)[0]["outcome"] == "promoted"
    assert load_model(tmp_path / "prod").metadata["extra"]["promoted_by"] == "monitor"


def test_monitor_without_a_model_exits_2(files, tmp_path, capsys):
    code = main(["monitor", "--model", str(tmp_path / "none"), "--reference", str(files["ref"]),
                 "--batch", str(files["same"]), "--train", str(files["ref"])])
    assert code == 2
    assert "no model artifact" in capsys.readouterr().err
