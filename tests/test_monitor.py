"""The monitoring cycle decides like a careful person would, and never breaks production."""

from __future__ import annotations

import json

import pytest

import mlcicd.artifact_store as artifact_store
from mlcicd.artifacts import load_model, save_model
from mlcicd.deploy.monitor import Monitor, read_history
from mlcicd.drift import make_drifted
from mlcicd.errors import ArtifactError, InputError
from mlcicd.gate import GateThresholds
from mlcicd.training import TrainConfig, train

CONFIG = TrainConfig(params={"n_estimators": 25}, cv_folds=3)
WEAK = TrainConfig(params={"n_estimators": 1, "max_depth": 1}, cv_folds=3)


def _labelled(kind: str, level: float, n: int, seed: int):
    X, y = make_drifted(kind, level, n=n, seed=seed)
    return X.assign(target=y)


@pytest.fixture
def world(tmp_path):
    train_df = _labelled("covariate", 0.0, 600, seed=0)
    model_dir = tmp_path / "production"
    save_model(train(CONFIG, train_df).pipeline, model_dir, config=CONFIG)
    return {
        "train": train_df,
        "reference": train_df.drop(columns="target"),
        "model_dir": model_dir,
        "history": tmp_path / "history.jsonl",
        "sha": load_model(model_dir).metadata["sha256"],
    }


def _monitor(world, **kwargs):
    options = {"config": CONFIG, "min_accuracy": 0.9, "history": world["history"], **kwargs}
    return Monitor(
        world["model_dir"], reference=world["reference"], train_data=world["train"], **options
    )


def test_no_drift_and_good_accuracy_keeps_the_model(world):
    decision = _monitor(world).run(_labelled("covariate", 0.0, 300, seed=1))
    assert decision.outcome == "no retrain"
    assert not decision.retrained and not decision.promoted
    assert decision.model_after == world["sha"]
    assert load_model(world["model_dir"]).metadata["sha256"] == world["sha"]
    assert [r["outcome"] for r in read_history(world["history"])] == ["no retrain"]


def test_drift_with_an_accuracy_drop_retrains_and_promotes(world):
    batch = _labelled("covariate", 1.0, 400, seed=2)
    decision = _monitor(world).run(batch)
    assert decision.outcome == "promoted" and decision.promoted
    assert any("data drift" in r for r in decision.reasons)
    assert any("below the minimum" in r for r in decision.reasons)
    assert decision.candidate_metrics["accuracy"] >= decision.production_holdout_metrics[
        "accuracy"
    ]
    promoted = load_model(world["model_dir"])
    assert promoted.metadata["sha256"] == decision.model_after != world["sha"]
    assert promoted.metadata["extra"]["replaces"] == world["sha"]
    # The promoted model keeps an input schema, so a server refuses rows it never saw.
    assert set(promoted.metadata["extra"]["input_schema"]["columns"]) == {"x1", "x2"}
    fresh = _labelled("covariate", 1.0, 400, seed=3)
    new_acc = (promoted.model.predict(fresh[["x1", "x2"]]) == fresh["target"]).mean()
    assert new_acc > decision.batch_metrics["accuracy"]


def test_a_candidate_failing_the_gate_is_rejected_and_the_reason_recorded(world):
    strict = GateThresholds(min_accuracy=0.95)
    decision = _monitor(world, config=WEAK, thresholds=strict).run(
        _labelled("covariate", 1.0, 400, seed=2)
    )
    assert decision.outcome == "rejected" and not decision.promoted
    assert "quality gate failed" in decision.reasons[-1]
    assert load_model(world["model_dir"]).metadata["sha256"] == world["sha"]
    record = read_history(world["history"])[-1]
    assert record["outcome"] == "rejected" and record["gate"]["passed"] is False


def test_a_candidate_worse_than_production_is_rejected_even_if_it_passes_the_gate(world):
    # Production is fine on this batch but a demanding minimum triggers a retraining;
    # the weak candidate clears a lenient gate yet is less accurate than production.
    lenient = GateThresholds(min_accuracy=0.5)
    decision = _monitor(world, config=WEAK, thresholds=lenient, min_accuracy=0.999).run(
        _labelled("covariate", 0.0, 400, seed=4)
    )
    assert decision.retrained and decision.outcome == "rejected"
    assert "not shown non-inferior" in decision.reasons[-1]
    assert load_model(world["model_dir"]).metadata["sha256"] == world["sha"]


def test_a_crash_during_promotion_leaves_the_old_model_loadable(world, monkeypatch):
    real_write = artifact_store.atomic_write_bytes

    def crash_on_commit(path, data):
        if str(path).endswith("metadata.json"):
            raise OSError("disk full while writing metadata.json")
        return real_write(path, data)

    monkeypatch.setattr(artifact_store, "atomic_write_bytes", crash_on_commit)
    batch = _labelled("covariate", 1.0, 400, seed=2)
    decision = _monitor(world).run(batch)
    assert decision.outcome == "failed" and not decision.promoted
    assert "disk full" in decision.error
    kept = load_model(world["model_dir"])
    assert kept.metadata["sha256"] == world["sha"] == decision.model_after
    assert len(kept.model.predict(batch[["x1", "x2"]])) == len(batch)
    assert read_history(world["history"])[-1]["outcome"] == "failed"


def test_history_keeps_every_decision_in_order(world):
    monitor = _monitor(world)
    monitor.run(_labelled("covariate", 0.0, 200, seed=5))
    monitor.run(_labelled("covariate", 1.0, 400, seed=6))
    records = read_history(world["history"])
    assert [r["outcome"] for r in records] == ["no retrain", "promoted"]
    assert all(json.dumps(r, allow_nan=False) for r in records)
    assert records[1]["model_before"] == world["sha"] != records[1]["model_after"]


def test_missing_production_model_is_an_artifact_error(world, tmp_path):
    monitor = Monitor(tmp_path / "nowhere", reference=world["reference"],
                      train_data=world["train"], config=CONFIG)
    with pytest.raises(ArtifactError):
        monitor.run(_labelled("covariate", 0.0, 50, seed=7))


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"min_accuracy": 1.5}, "min_accuracy"), ({"holdout_share": 1}, "hold")]
)
def test_bad_monitor_settings_are_refused(world, kwargs, message):
    with pytest.raises(InputError, match=message):
        _monitor(world, **kwargs)


def test_a_batch_without_labels_is_refused(world):
    with pytest.raises(InputError, match="target"):
        _monitor(world).run(_labelled("covariate", 0.0, 50, seed=8).drop(columns="target"))
