"""Saving and loading models safely: hashes, allow-list, and crashes that lose nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import mlcicd.artifact_store as artifact_store
import mlcicd.artifacts as artifacts
from mlcicd.artifacts import (
    ALLOWED_TYPES,
    METADATA_KEYS,
    data_fingerprint,
    load_model,
    read_metadata,
    read_metrics,
    save_model,
)
from mlcicd.errors import ArtifactError, InputError


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=120, n_features=4, random_state=0)
    return pd.DataFrame(X, columns=["a", "b", "c", "d"]), y


def _pipeline(model, scale=False):
    steps = [("imputer", SimpleImputer(strategy="median"))]
    if scale:
        steps.append(("scaler", StandardScaler()))
    return Pipeline([*steps, ("model", model)])


@pytest.fixture(scope="module")
def forest(data):
    X, y = data
    return _pipeline(RandomForestClassifier(n_estimators=10, random_state=0)).fit(X, y)


@pytest.fixture(scope="module")
def other_forest(data):
    X, y = data
    return _pipeline(RandomForestClassifier(n_estimators=10, random_state=1)).fit(X, y)


@pytest.fixture
def saved(tmp_path, forest, data):
    X, _ = data
    save_model(forest, tmp_path / "art", config={"model": "random_forest"},
               metrics={"accuracy": 0.9}, data=X, extra={"note": "first"})
    return tmp_path / "art"


class AlwaysOne(ClassifierMixin, BaseEstimator):
    """A model of our own: not on skops' trusted list, nor on ours."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.ones(len(X), dtype=int)


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize(
    "model, scale",
    [
        (RandomForestClassifier(n_estimators=5, random_state=0), False),
        (GradientBoostingClassifier(n_estimators=5, random_state=0), False),
        (LogisticRegression(random_state=0), True),
    ],
    ids=["random_forest", "gradient_boosting", "logistic_regression"],
)
def test_every_model_type_round_trips_with_equal_predictions(tmp_path, data, model, scale):
    X, y = data
    pipe = _pipeline(model, scale).fit(X, y)
    save_model(pipe, tmp_path)
    loaded = load_model(tmp_path)
    np.testing.assert_array_equal(loaded.model.predict(X), pipe.predict(X))
    np.testing.assert_array_equal(loaded.model.predict_proba(X), pipe.predict_proba(X))


def test_artifact_layout_and_metadata(saved, forest, data):
    X, _ = data
    files = sorted(p.name for p in saved.iterdir())
    meta = json.loads((saved / "metadata.json").read_text())
    model_file = f"model-{meta['sha256'][:12]}.skops"
    metrics_file = f"metrics-{meta['metrics_sha256'][:12]}.json"
    assert files == sorted([".lock", "current", "deployment-000001", "metadata.json",
                            "metrics.json", metrics_file, model_file])
    assert meta["metrics_file"] == metrics_file and meta["deployment"] == 1
    # One link is the commit point: both fixed names resolve into deployment 1.
    assert (saved / "metadata.json").resolve() == saved / "deployment-000001" / "metadata.json"
    assert (saved / "metrics.json").resolve() == saved / "deployment-000001" / "metrics.json"
    assert (saved / "metrics.json").read_bytes() == (saved / metrics_file).read_bytes()
    assert set(METADATA_KEYS) <= set(meta)
    assert meta["model_file"] == model_file
    assert meta["size_bytes"] == (saved / model_file).stat().st_size
    assert meta["created_at"].endswith("+00:00")
    assert {"python", "numpy", "scikit-learn", "skops", "mlcicd"} <= set(meta["versions"])
    assert meta["data_fingerprint"] == data_fingerprint(X)
    assert meta["feature_names"] == ["a", "b", "c", "d"]
    assert meta["classes"] == [0, 1]
    assert meta["config"] == {"model": "random_forest"}
    assert json.loads((saved / metrics_file).read_text()) == {"accuracy": 0.9}
    assert read_metrics(saved) == {"accuracy": 0.9}
    assert load_model(saved).metadata["extra"] == {"note": "first"}


def test_new_save_replaces_old_model_and_keeps_the_previous_one(saved, other_forest, data):
    X, _ = data
    old_file = json.loads((saved / "metadata.json").read_text())["model_file"]
    new_path = save_model(other_forest, saved, metrics={"accuracy": 0.8})
    assert new_path.name != old_file
    assert (saved / old_file).exists()  # a rollback, or a reader of the old metadata, needs it
    assert read_metadata(saved)["lineage"]["previous"]["deployment"] == 1
    loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.model.predict(X), other_forest.predict(X))
    assert read_metrics(saved) == {"accuracy": 0.8}


def _fail_on_metadata(monkeypatch, name="metadata.json"):
    real = artifact_store.atomic_write_bytes

    def flaky(path, data):
        if Path(path).name.startswith(name):
            raise OSError("disk full")
        return real(path, data)

    monkeypatch.setattr(artifact_store, "atomic_write_bytes", flaky)


@pytest.mark.parametrize("failing_file", ["metadata.json", "metrics-", "model-", "metrics.json"])
def test_crash_while_writing_metadata_keeps_previous_artifact(
    saved, other_forest, forest, data, monkeypatch, failing_file
):
    X, _ = data
    before = _snapshot(saved)
    _fail_on_metadata(monkeypatch, failing_file)
    with pytest.raises(OSError, match="disk full"):
        save_model(other_forest, saved, metrics={"accuracy": 0.1})
    monkeypatch.undo()
    loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.model.predict(X), forest.predict(X))
    assert read_metrics(saved) == {"accuracy": 0.9}
    after = _snapshot(saved)
    for name, content in before.items():
        assert after[name] == content
    assert not list(saved.glob(".*tmp*"))
    assert [p.name for p in saved.glob("deployment-*")] == ["deployment-000001"]


def test_crash_while_writing_model_keeps_previous_artifact(saved, other_forest, monkeypatch):
    before = _snapshot(saved)

    def broken(path, data):
        raise OSError("crash mid-write")

    monkeypatch.setattr(artifact_store, "atomic_write_bytes", broken)
    with pytest.raises(OSError):
        save_model(other_forest, saved)
    monkeypatch.undo()
    assert _snapshot(saved) == before
    load_model(saved)


def test_crash_during_first_save_leaves_no_loadable_artifact(tmp_path, forest, monkeypatch):
    _fail_on_metadata(monkeypatch)
    with pytest.raises(OSError):
        save_model(forest, tmp_path / "new")
    monkeypatch.undo()
    assert not list((tmp_path / "new").glob("metrics*"))
    with pytest.raises(ArtifactError, match="metadata.json not found"):
        load_model(tmp_path / "new")


def _model_file(folder):
    return next(folder.glob("model-*.skops"))


def test_one_changed_byte_is_refused(saved):
    path = _model_file(saved)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(ArtifactError, match="sha256 mismatch") as info:
        load_model(saved)
    message = str(info.value)
    assert path.name in message and "expected" in message


def test_truncated_model_is_refused(saved):
    path = _model_file(saved)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ArtifactError, match="truncated") as info:
        load_model(saved)
    assert path.name in str(info.value)


def test_missing_model_file_is_refused(saved):
    _model_file(saved).unlink()
    with pytest.raises(ArtifactError, match="model file not found"):
        load_model(saved)


def test_metadata_missing_a_key_is_a_clear_error(saved):
    meta_path = saved / "metadata.json"
    meta = json.loads(meta_path.read_text())
    del meta["sha256"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="missing key.*'sha256'"):
        load_model(saved)


def test_corrupt_metadata_is_a_clear_error(saved):
    (saved / "metadata.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_model(saved)


def test_model_file_pointing_outside_the_folder_is_refused(saved):
    meta_path = saved / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["model_file"] = "../elsewhere.skops"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="invalid model_file"):
        load_model(saved)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ArtifactError, match="folder not found"):
        load_model(tmp_path / "nowhere")


def test_artifact_error_is_an_input_error():
    assert issubclass(ArtifactError, InputError)


def test_saving_a_type_outside_the_allow_list_is_refused_and_writes_nothing(tmp_path, data):
    X, y = data
    pipe = _pipeline(AlwaysOne()).fit(X, y)
    with pytest.raises(ArtifactError, match="outside the allow-list: .*AlwaysOne"):
        save_model(pipe, tmp_path / "art")
    assert not (tmp_path / "art").exists()


def test_loading_a_type_outside_the_allow_list_is_refused(saved, data, monkeypatch):
    X, y = data
    pipe = _pipeline(AlwaysOne()).fit(X, y)
    # Someone saved it with a wider allow-list; our loader still says no.
    import skops.io as sio

    untrusted = tuple(sio.get_untrusted_types(data=sio.dumps(pipe)))
    monkeypatch.setattr(artifacts, "ALLOWED_TYPES", (*ALLOWED_TYPES, *untrusted))
    save_model(pipe, saved)
    monkeypatch.undo()
    with pytest.raises(ArtifactError, match="outside the allow-list: .*AlwaysOne"):
        load_model(saved)


def test_allow_list_is_exactly_what_our_models_need():
    assert ALLOWED_TYPES == ("numpy.dtype", "sklearn.tree._tree.Tree")


def test_saving_into_a_file_path_is_refused(tmp_path, forest):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(ArtifactError, match="not a folder"):
        save_model(forest, target)
    assert target.read_text() == "x"


def test_version_mismatches_are_reported(saved):
    assert load_model(saved).version_mismatches == {}
    meta_path = saved / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["versions"]["scikit-learn"] = "0.1"
    meta_path.write_text(json.dumps(meta))
    mismatches = load_model(saved).version_mismatches
    assert list(mismatches) == ["scikit-learn"] and mismatches["scikit-learn"][0] == "0.1"
