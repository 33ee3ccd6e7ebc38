"""``mlcicd train`` and ``mlcicd evaluate``: outputs, exit codes, and nothing lost on error."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from mlcicd.artifacts import load_model
from mlcicd.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    X, y = make_classification(n_samples=160, n_features=4, random_state=1)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(target=y)
    df.iloc[:120].to_csv(folder / "train.csv", index=False)
    df.iloc[120:].to_csv(folder / "test.csv", index=False)
    (folder / "config.yaml").write_text(
        "model: random_forest\nparams:\n  n_estimators: 20\ncv_folds: 3\nseed: 0\n"
    )
    return folder


@pytest.fixture(scope="module")
def artifact(files):
    out = files / "model"
    code = main(["train", "--config", str(files / "config.yaml"), "--train",
                 str(files / "train.csv"), "--test", str(files / "test.csv"), "--out", str(out)])
    assert code == 0
    return out


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _train(files, out, train="train.csv", config="config.yaml"):
    argv = ["train", "--train", str(files / train), "--out", str(out)]
    if config:
        argv += ["--config", str(files / config)]
    return main(argv)


def test_train_prints_metrics_and_saves_a_verified_artifact(artifact, files):
    meta = load_model(artifact).metadata
    assert meta["config"]["params"] == {"n_estimators": 20}
    assert meta["extra"]["n_test"] == 40
    assert meta["extra"]["test_fingerprint"] is not None
    assert set(json.loads((artifact / "metrics.json").read_text())) >= {"accuracy", "cv_mean"}


def test_train_output_is_a_metrics_table(files, tmp_path, capsys):
    assert _train(files, tmp_path / "m") == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "cv_mean" in out and "saved:" in out


def test_train_without_config_uses_the_defaults(files, tmp_path):
    assert _train(files, tmp_path / "m", config=None) == 0
    assert load_model(tmp_path / "m").metadata["config"]["model"] == "random_forest"


def test_evaluate_table_json_and_out_file(artifact, files, tmp_path, capsys):
    out_file = tmp_path / "metrics.json"
    argv = ["evaluate", "--model", str(artifact), "--data", str(files / "test.csv")]
    assert main([*argv, "--out", str(out_file)]) == 0
    assert "accuracy" in capsys.readouterr().out
    assert main([*argv, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out_file.read_text())
    saved = json.loads((artifact / "metrics.json").read_text())
    assert printed["accuracy"] == pytest.approx(saved["accuracy"])


BAD_TRAIN = {
    "empty.csv": b"",
    "header.csv": b"a,b,c,d,target\n",
    "binary.csv": bytes(range(256)) * 4,
    "no_target.csv": b"a,b,c,d\n1,2,3,4\n",
    "text.csv": b"a,b,c,d,target\n" + b"1,2,3,4,0\n1,2,3,4,1\n" * 10 + b"x,2,3,4,1\n",
    "inf.csv": b"a,b,c,d,target\n" + b"1,2,3,4,0\n1,2,3,4,1\n" * 10 + b"inf,2,3,4,1\n",
}


@pytest.mark.parametrize("name", sorted(BAD_TRAIN))
def test_bad_training_data_exits_2_and_keeps_the_artifact(name, artifact, files, capsys):
    (files / name).write_bytes(BAD_TRAIN[name])
    before = _snapshot(artifact)
    assert _train(files, artifact, train=name) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mlcicd: error:") and name in err
    assert _snapshot(artifact) == before


def test_text_and_inf_errors_name_the_column(files, tmp_path, capsys):
    for name in ("text.csv", "inf.csv"):
        (files / name).write_bytes(BAD_TRAIN[name])
        assert _train(files, tmp_path / "m", train=name) == 2
        assert "column 'a'" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_missing_values_are_fine(files, tmp_path):
    df = pd.read_csv(files / "train.csv")
    df.loc[::7, "b"] = np.nan
    df.to_csv(files / "nan.csv", index=False)
    assert _train(files, tmp_path / "m", train="nan.csv") == 0


@pytest.mark.parametrize(
    "config_text, message",
    [("model: svm\n", "unknown model 'svm'"), ("n_trees: 3\n", "unknown key"),
     ("params:\n  depth: 3\n", "unknown hyper-parameter 'depth'")],
)
def test_bad_config_exits_2_and_keeps_the_artifact(config_text, message, artifact, files, capsys):
    (files / "bad.yaml").write_text(config_text)
    before = _snapshot(artifact)
    assert _train(files, artifact, config="bad.yaml") == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert _snapshot(artifact) == before


def _copy_artifact(artifact, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name, content in _snapshot(artifact).items():
        (copy / name).write_bytes(content)
    return copy


@pytest.mark.parametrize("damage", ["tamper", "truncate"])
def test_evaluate_refuses_a_damaged_model(damage, artifact, files, tmp_path, capsys):
    copy = _copy_artifact(artifact, tmp_path)
    model_file = next(copy.glob("model-*.skops"))
    content = bytearray(model_file.read_bytes())
    if damage == "tamper":
        content[100] ^= 1
    else:
        content = content[: len(content) // 2]
    model_file.write_bytes(bytes(content))
    code = main(["evaluate", "--model", str(copy), "--data", str(files / "test.csv")])
    err = capsys.readouterr().err
    assert code == 2 and model_file.name in err and err.count("\n") == 1


def test_evaluate_missing_target_exits_2(artifact, files, capsys):
    (files / "unlabelled.csv").write_text("a,b,c,d\n1,2,3,4\n")
    argv = ["evaluate", "--model", str(artifact), "--data", str(files / "unlabelled.csv")]
    assert main(argv) == 2
    assert "'target'" in capsys.readouterr().err


def test_evaluate_bad_data_does_not_write_the_out_file(artifact, files, tmp_path):
    out_file = tmp_path / "metrics.json"
    out_file.write_text("{}")
    (files / "empty.csv").write_bytes(b"")
    argv = ["evaluate", "--model", str(artifact), "--data", str(files / "empty.csv")]
    assert main([*argv, "--out", str(out_file)]) == 2
    assert out_file.read_text() == "{}"


def test_errors_show_no_traceback_in_a_real_process(files, tmp_path):
    (files / "empty.csv").write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "-m", "mlcicd", "train", "--train", str(files / "empty.csv"),
         "--out", str(tmp_path / "m")],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "empty" in result.stderr
