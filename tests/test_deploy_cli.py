"""`mlcicd deploy canary|blue-green` and `mlcicd serve`: exit codes a pipeline can trust."""

from __future__ import annotations

import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlcicd import artifacts, datasets
from mlcicd.cli import main


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("deploy-cli")
    df = datasets.load_breast_cancer_frame()
    train, test = datasets.split_frame(df, test_size=0.3, seed=0)
    X, y = train.drop(columns=["target"]), train["target"]
    good = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    good2 = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500)).fit(X, y)
    bad = DummyClassifier(strategy="most_frequent").fit(X, y)
    for name, model in (("stable", good), ("good", good2), ("bad", bad)):
        artifacts.save_model(model, root / name)
    test.to_csv(root / "test.csv", index=False)
    return root


def test_a_good_candidate_is_promoted_by_the_canary_command(workspace, capsys):
    code = main(["deploy", "canary", "--stable", str(workspace / "stable"),
                 "--candidate", str(workspace / "good"), "--data", str(workspace / "test.csv"),
                 "--timeline", str(workspace / "timeline.csv"), "--plot",
                 str(workspace / "canary.png")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "promoted" in out
    assert (workspace / "timeline.csv").read_text().startswith("step,weight")
    assert (workspace / "canary.png").stat().st_size > 0


def test_a_bad_candidate_is_rolled_back_by_the_canary_command(workspace, capsys):
    code = main(["deploy", "canary", "--stable", str(workspace / "stable"),
                 "--candidate", str(workspace / "bad"), "--data", str(workspace / "test.csv")])
    captured = capsys.readouterr()
    assert code == 1
    assert "abort" in captured.out
    assert "not promoted" in captured.err


def test_a_canary_whose_data_runs_out_is_inconclusive_and_exit_code_1(workspace, capsys):
    code = main(["deploy", "canary", "--stable", str(workspace / "stable"),
                 "--candidate", str(workspace / "good"), "--data", str(workspace / "test.csv"),
                 "--repeat", "1", "--min-requests", "1000"])
    captured = capsys.readouterr()
    assert code == 1
    assert "inconclusive" in captured.out and "inconclusive" in captured.err
    assert captured.err.count("\n") == 1


def test_an_empty_stream_is_exit_code_2(workspace, tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    header = (workspace / "test.csv").read_text().splitlines()[0]
    empty.write_text(header + "\n")
    code = main(["deploy", "canary", "--stable", str(workspace / "stable"),
                 "--candidate", str(workspace / "good"), "--data", str(empty)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err


def test_blue_green_switches_only_a_healthy_candidate(workspace, capsys):
    base = ["deploy", "blue-green", "--live", str(workspace / "stable"),
            "--smoke", str(workspace / "test.csv")]
    assert main([*base, "--candidate", str(workspace / "good")]) == 0
    assert "switched" in capsys.readouterr().out
    assert main([*base, "--candidate", str(workspace / "bad")]) == 1
    assert "health check failed" in capsys.readouterr().err


def test_a_tampered_candidate_is_exit_code_2_without_traceback(workspace, tmp_path, capsys):
    folder = tmp_path / "tampered"
    artifacts.save_model(DummyClassifier().fit([[0.0], [1.0]], [0, 1]), folder)
    model_file = next(folder.glob("model-*.skops"))
    model_file.write_bytes(model_file.read_bytes() + b"x")
    code = main(["deploy", "blue-green", "--live", str(workspace / "stable"),
                 "--candidate", str(folder), "--smoke", str(workspace / "test.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--steps", "0.5,0.2"], "strictly increasing"),
        (["--steps", "0.5,1.5"], "(0, 1]"),
        (["--steps", "a,b"], "--steps"),
        (["--repeat", "0"], "--repeat"),
        (["--max-accuracy-drop", "0"], "--max-accuracy-drop must be a number in (0, 1), got 0.0"),
        (["--max-accuracy-drop", "1.5"], "--max-accuracy-drop must be a number in (0, 1)"),
        (["--alpha", "0.7"], "--alpha must be a number in (0, 0.5), got 0.7"),
        (["--beta", "0"], "--beta must be a number in (0, 0.5)"),
    ],
)
def test_bad_canary_options_are_exit_code_2(workspace, capsys, extra, message):
    code = main(["deploy", "canary", "--stable", str(workspace / "stable"),
                 "--candidate", str(workspace / "good"), "--data", str(workspace / "test.csv"),
                 *extra])
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [(["--port", "70000"], "--port"),
                                            (["--max-events", "0"], "--max-events")])
def test_serve_refuses_bad_options_before_loading_anything(workspace, capsys, extra, message):
    assert main(["serve", "--model", str(workspace / "stable"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_deploy_without_a_strategy_prints_usage(capsys):
    assert main(["deploy"]) == 2
    assert "canary" in capsys.readouterr().err
