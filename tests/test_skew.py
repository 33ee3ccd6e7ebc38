"""Training-serving skew: the same rows through the offline model and the serving path."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from mlcicd.errors import InputError
from mlcicd.skew import check_skew, compare_answers, http_predictions


@pytest.fixture(scope="module")
def model_and_rows():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(0, 1, 400), "b": rng.normal(5, 2, 400)})
    y = (X["a"] + 0.5 * (X["b"] - 5) > 0).astype(int)
    model = make_pipeline(SimpleImputer(strategy="median"), LogisticRegression()).fit(X, y)
    rows = X.iloc[:80].copy()
    rows.iloc[::7, 1] = np.nan  # some rows arrive with a missing value
    return model, rows


@pytest.fixture()
def toy_server(model_and_rows):
    """A stdlib HTTP server answering /predict with the model, as the real server does."""
    model, rows = model_and_rows

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if len(body["features"]) != rows.shape[1]:
                self.send_response(422)
                self.end_headers()
                self.wfile.write(b'{"detail": "expected 2 features"}')
                return
            row = pd.DataFrame([[np.nan if v is None else v for v in body["features"]]],
                               columns=rows.columns)
            answer = json.dumps({"prediction": int(model.predict(row)[0])}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=5)


def test_faithful_serving_path_has_no_skew(model_and_rows, toy_server):
    model, rows = model_and_rows
    report = check_skew(model, rows, lambda r: http_predictions(toy_server, r))
    assert report.passed and report.n_mismatches == 0
    assert report.n_rows == len(rows)


def test_client_that_sends_columns_in_another_order_is_caught(model_and_rows, toy_server):
    model, rows = model_and_rows
    report = check_skew(model, rows, lambda r: http_predictions(toy_server, r[["b", "a"]]))
    assert not report.passed
    assert report.n_mismatches > 10
    assert set(report.mismatches.index) <= set(rows.index)


def test_client_that_fills_missing_values_with_zero_is_caught(model_and_rows):
    model, rows = model_and_rows
    report = check_skew(model, rows, lambda r: model.predict(r.fillna(0.0)))
    missing_rows = set(rows.index[rows.isna().any(axis=1)])
    assert report.n_mismatches > 0
    assert set(report.mismatches.index) <= missing_rows


def test_server_refusal_is_one_clear_error(toy_server):
    with pytest.raises(InputError, match="HTTP 422"):
        http_predictions(toy_server, np.zeros((1, 3)))
    with pytest.raises(InputError, match="http://"):
        http_predictions("ftp://example.org", np.zeros((1, 2)))


def test_labels_compare_as_text_and_lengths_must_match():
    assert compare_answers([1, 0], [1.0, "0"]).n_mismatches == 0
    with pytest.raises(InputError, match="one length"):
        compare_answers([1, 0], [1])
    with pytest.raises(InputError, match="max_mismatch_rate"):
        compare_answers([1], [1], max_mismatch_rate=2)
