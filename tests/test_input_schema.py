"""The input schema ``mlcicd train`` stores, and what the server does with it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from mlcicd.cli import main
from mlcicd.deploy.versions import FeatureLimits, ModelVersion
from mlcicd.validation.input_schema import infer_input_schema


@pytest.fixture(scope="module")
def cancer():
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    return frame


def _limits(schema, features: pd.DataFrame) -> FeatureLimits:
    class Named:  # what a pipeline fitted on a DataFrame exposes
        feature_names_in_ = np.array(features.columns)
        n_features_in_ = features.shape[1]

        def predict(self, X):
            return np.zeros(len(X))

    return ModelVersion(Named(), "v", input_schema=schema).limits


def test_legitimate_unseen_rows_are_refused_rarely(cancer):
    """Fit the schema on the training part of 20 seeded splits; serve the held-out part."""
    features = cancer.drop(columns=["target"])
    refused = total = 0
    for seed in range(20):
        fit_part, held_out = train_test_split(features, test_size=0.25, random_state=seed,
                                              stratify=cancer["target"])
        limits = _limits(infer_input_schema(fit_part), fit_part)
        refused += sum(limits.problem(row) is not None for row in held_out.to_numpy(float))
        total += len(held_out)
    upper = beta.ppf(0.95, refused + 1, total - refused)  # Clopper-Pearson, one-sided
    print(f"refused {refused} of {total} held-out rows (95 % upper bound {upper:.4f})")
    assert upper < 0.01


def test_gross_errors_are_refused_and_missing_values_accepted(cancer):
    features = cancer.drop(columns=["target"])
    schema = infer_input_schema(features)
    limits = _limits(schema, features)
    row = features.to_numpy(float)[0]
    for position, bad in ((0, -999.0), (3, features["mean_area"].max() * 1000), (5, -0.5)):
        wrong = row.copy()
        wrong[position] = bad
        assert limits.problem(wrong) is not None, (position, bad)
    missing = row.copy()
    missing[2] = np.nan
    assert limits.problem(missing) is None
    # Only rules that apply to one row are kept.
    assert {key for rules in schema["columns"].values() for key in rules} == {
        "dtype", "min", "max"}


def test_a_served_artifact_from_mlcicd_train_refuses_out_of_schema_rows(tmp_path, cancer):
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("fastapi")
    from mlcicd.testing import ServerProcess

    cancer.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "train.yaml").write_text("model: logistic_regression\ncv_folds: 2\n")
    assert main(["train", "--config", str(tmp_path / "train.yaml"), "--train",
                 str(tmp_path / "train.csv"), "--out", str(tmp_path / "model")]) == 0
    metadata = json.loads((tmp_path / "model" / "metadata.json").read_text())
    columns = metadata["extra"]["input_schema"]["columns"]
    # Metadata is written with sorted keys; the server orders columns by the model's names.
    assert sorted(columns) == sorted(c for c in cancer.columns if c != "target")
    rows = cancer.drop(columns=["target"]).to_numpy(float)
    # Every training row passes the limits `mlcicd serve` builds from the artifact
    # (ModelVersion.from_artifact, as the server loads it) ...
    served = ModelVersion.from_artifact(tmp_path / "model")
    assert [i for i, row in enumerate(rows) if served.limits.problem(row) is not None] == []
    # ... and over HTTP, the rows on the schema's edges (each column's smallest and
    # largest value, where a limit lost in the metadata's round trip would refuse one).
    edges = sorted({int(i) for i in (*rows.argmin(axis=0), *rows.argmax(axis=0))})
    outside = rows[0].copy()
    outside[3] = columns["mean_area"]["max"] * 2
    with ServerProcess(tmp_path / "model") as url, httpx.Client(base_url=url,
                                                                 timeout=30) as client:
        answers = [client.post("/predict", json={"features": rows[i].tolist()}).status_code
                   for i in edges]
        refused = client.post("/predict", json={"features": outside.tolist()})
        metrics = client.get("/metrics").json()
    assert len(edges) >= 20 and answers.count(200) == len(edges)
    assert refused.status_code == 422
    assert "mean_area" in refused.json()["detail"] and "above its maximum" in str(
        refused.json()["detail"])
    # The refused row never reached the model, so it is no model error.
    assert metrics["requests"] == len(edges) and metrics["versions"][0]["errors"] == 0
