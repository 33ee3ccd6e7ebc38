"""The registry: deployments with lineage, promotion of a candidate, rollback drills."""

from __future__ import annotations

import json

import pytest
from sklearn.dummy import DummyClassifier

from mlcicd.artifacts import load_model, read_metadata, read_metrics, save_model
from mlcicd.cli import main
from mlcicd.errors import ArtifactError, InputError
from mlcicd.registry import history, promote, rollback

X, Y = [[0.0], [1.0], [2.0]], [0, 1, 1]


def _save(folder, strategy: str, **kwargs):
    model = DummyClassifier(strategy=strategy, random_state=0).fit(X, Y)
    return save_model(model, folder, metrics={"accuracy": len(strategy) / 100}, **kwargs)


@pytest.fixture
def production(tmp_path):
    folder = tmp_path / "production"
    _save(folder, "most_frequent", data="fingerprint-a")
    return folder


def _candidate(tmp_path, strategy="uniform"):
    folder = tmp_path / f"candidate-{strategy}"
    _save(folder, strategy, data=f"fingerprint-{strategy}")
    return folder


def test_promotion_keeps_lineage_from_data_to_deployment(production, tmp_path):
    candidate = _candidate(tmp_path)
    deployed = promote(candidate, production, reason="release 2")
    assert (deployed.number, deployed.action, deployed.stage) == (2, "promote", "production")
    assert deployed.replaced == 1 and deployed.reason == "release 2"
    assert deployed.sha256 == read_metadata(candidate)["sha256"]
    assert deployed.data_fingerprint == "fingerprint-uniform"
    assert load_model(production).model.strategy == "uniform"
    assert read_metrics(production) == read_metrics(candidate)


def test_rollback_serves_the_previous_model_again_and_records_itself(production, tmp_path):
    first_sha = read_metadata(production)["sha256"]
    promote(_candidate(tmp_path), production)
    restored = rollback(production, reason="bad release")
    assert (restored.number, restored.action, restored.restores) == (3, "rollback", 1)
    assert read_metadata(production)["sha256"] == first_sha
    assert json.loads((production / "metrics.json").read_text()) == {"accuracy": 0.13}
    stages = [(d.number, d.stage) for d in history(production)]
    assert stages == [(1, "archived"), (2, "rolled back"), (3, "production")]


def test_rolling_back_twice_goes_two_deployments_back(production, tmp_path):
    promote(_candidate(tmp_path, "uniform"), production)
    promote(_candidate(tmp_path, "stratified"), production)
    rollback(production)
    assert load_model(production).model.strategy == "uniform"
    rollback(production)
    assert load_model(production).model.strategy == "most_frequent"
    with pytest.raises(ArtifactError, match="nothing to roll back"):
        rollback(production)


def test_rollback_to_a_chosen_deployment(production, tmp_path):
    promote(_candidate(tmp_path, "uniform"), production)
    promote(_candidate(tmp_path, "stratified"), production)
    assert rollback(production, to=2).restores == 2
    assert load_model(production).model.strategy == "uniform"
    with pytest.raises(ArtifactError, match="no record of deployment 9"):
        rollback(production, to=9)
    with pytest.raises(InputError, match="rollback: to must be a positive integer, got 0"):
        rollback(production, to=0)


def test_a_tampered_or_pruned_target_is_refused_and_nothing_changes(production, tmp_path):
    first_model = read_metadata(production)["model_file"]
    promote(_candidate(tmp_path), production)
    before = read_metadata(production)
    (production / first_model).write_bytes(b"not a model")
    with pytest.raises(ArtifactError, match="sha256 mismatch"):
        rollback(production)
    (production / first_model).unlink()
    with pytest.raises(ArtifactError, match="pruned"):
        rollback(production)
    assert read_metadata(production) == before


def test_old_deployments_files_are_pruned_but_the_recent_ones_kept(production, tmp_path):
    for i in range(7):
        model = DummyClassifier(strategy="constant", constant=i).fit([[0.0], [1.0]], [i, i + 1])
        save_model(model, production)
    kept = {d.number for d in history(production) if d.available}
    assert kept == {4, 5, 6, 7, 8}
    assert [d.number for d in history(production)] == list(range(1, 9))


def test_cli_registry_and_rollback(production, tmp_path, capsys):
    promote(_candidate(tmp_path), production)
    assert main(["registry", "--model", str(production), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["number"], d["stage"]) for d in listed] == [(1, "archived"), (2, "production")]
    assert main(["rollback", "--model", str(production), "--reason", "drill"]) == 0
    assert "deployment 3" in capsys.readouterr().out
    assert main(["registry", "--model", str(production)]) == 0
    table = capsys.readouterr().out
    assert "rollback" in table and "rolled back" in table


def test_cli_rollback_with_nothing_to_return_to_is_one_line_exit_2(production, capsys):
    before = read_metadata(production)
    assert main(["rollback", "--model", str(production)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing to roll back" in err
    assert read_metadata(production) == before
    assert main(["rollback", "--model", str(production.parent / "missing")]) == 2
