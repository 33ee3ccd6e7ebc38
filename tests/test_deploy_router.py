"""The router: sticky, batch-equivalent routing, a complete event log, atomic switches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from mlcicd.deploy import ModelVersion, Router, RoutingTable, stable_bucket, stable_buckets
from mlcicd.errors import ArtifactError, InputError

#: The ``data`` fixture (tests/conftest.py): y = x0 + x1 / 2 > 0 on 2,000 seeded rows.
LINEAR_DATA = (0, 2000, (1.0, 0.5, 0.0, 0.0))


@pytest.fixture(scope="module")
def v1(data):
    X, y = data
    return ModelVersion(LogisticRegression().fit(X, y), "v1")


@pytest.fixture(scope="module")
def v2(data):
    X, y = data
    return ModelVersion(DummyClassifier(strategy="constant", constant=1).fit(X, y), "v2")


class RaisesOnNegative:
    """Fails for any row whose first feature is negative, answers 1 otherwise."""

    def predict(self, X):
        X = np.asarray(X)
        if (X[:, 0] < 0).any():
            raise RuntimeError("negative input")
        return np.ones(len(X), dtype=int)


def split_router(v1, v2, share=0.3):
    router = Router({"blue": v1, "green": v2})
    router.set_weights({"green": share, "blue": 1 - share})
    return router


def test_batch_routing_takes_the_same_decisions_as_one_by_one(data, v1, v2):
    X, _ = data
    keys = [f"user-{i}" for i in range(500)]
    batch = split_router(v1, v2).route_batch(X[:500], keys)
    one_router = split_router(v1, v2)
    singles = [one_router.route(X[i], key=keys[i]) for i in range(500)]
    assert batch.slots.tolist() == [r.slot for r in singles]
    assert batch.versions.tolist() == [r.version for r in singles]
    assert batch.predictions.tolist() == [r.prediction for r in singles]
    assert {"v1", "v2"} == set(batch.versions.tolist())


@pytest.fixture(scope="module")
def fresh_process() -> dict:
    """What a new interpreter (another hash seed) sees of the core library.

    One child for the two tests below: starting one and importing the library is what
    costs (1.3 CPU-s), and neither question disturbs the other.
    """
    code = ("import json, sys, mlcicd.deploy, mlcicd.commands.deploy; "
            "from mlcicd.deploy import stable_bucket; "
            "print(json.dumps({'bucket': stable_bucket('user-7', 'x'), 'serve_modules': "
            "sorted(m for m in ('fastapi', 'uvicorn', 'httpx', 'pydantic') "
            "if m in sys.modules)}))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout)


def test_the_same_key_gets_the_same_bucket_in_another_process(fresh_process):
    assert fresh_process["bucket"] == stable_bucket("user-7", "x")  # JSON keeps every bit


def test_buckets_are_uniform_and_follow_the_weights():
    buckets = stable_buckets([f"k{i}" for i in range(20_000)], salt="s")
    assert buckets.min() >= 0.0 and buckets.max() < 1.0
    shares, _ = np.histogram(buckets, bins=10, range=(0, 1))
    assert np.all(np.abs(shares / 20_000 - 0.1) < 0.01)


def test_raising_a_weight_only_adds_keys_to_that_slot():
    keys = [f"user-{i}" for i in range(5000)]
    buckets = stable_buckets(keys, salt="canary")
    small = RoutingTable((("canary", 0.05), ("stable", 0.95))).slots_for(buckets) == 0
    large = RoutingTable((("canary", 0.25), ("stable", 0.75))).slots_for(buckets) == 0
    assert np.all(large[small])
    assert large.sum() > small.sum()


def test_every_request_is_logged_with_slot_version_latency_and_error(data, v1, v2):
    X, _ = data
    router = split_router(v1, v2)
    router.route_batch(X[:100], [f"u{i}" for i in range(100)])
    router.route(X[100], key="u100")
    events = router.events_frame()
    assert events["request_id"].tolist() == list(range(101))
    assert events["answered"].all()
    assert set(events["version"]) == {"v1", "v2"}
    assert (events["latency_s"] >= 0).all()
    assert events["error"].isna().all()
    assert router.n_requests == 101


def test_a_failing_model_answers_with_an_error_for_exactly_the_failing_rows(data):
    X, _ = data
    router = Router({"only": ModelVersion(RaisesOnNegative(), "fragile")})
    answer = router.route_batch(X[:50], [f"u{i}" for i in range(50)])
    failed = np.array([e is not None for e in answer.errors])
    assert np.array_equal(failed, X[:50, 0] < 0)
    single = router.route(X[int(np.argmax(X[:, 0] < 0))], key="neg")
    assert single.error.startswith("RuntimeError") and single.prediction is None
    assert router.metrics_frame()["errors"].iloc[0] == failed.sum() + 1


def test_labels_arriving_later_are_attached_to_their_request(data, v1):
    X, y = data
    router = Router({"blue": v1})
    answer = router.route_batch(X[:200], [f"u{i}" for i in range(200)])
    router.record_labels(answer.request_ids[:150], y[:150].tolist())
    metrics = router.metrics_frame()
    assert metrics["labelled"].iloc[0] == 150
    expected = np.mean(answer.predictions[:150] == y[:150])
    assert metrics["accuracy"].iloc[0] == pytest.approx(expected)
    with pytest.raises(InputError, match="unknown request id"):
        router.record_label(10_000, 1)


def test_rollback_restores_the_previous_routing_table(v1, v2):
    router = Router({"blue": v1, "green": v2})
    router.switch("green")
    assert router.live_versions() == {"green": "v2"}
    router.rollback()
    assert router.live_versions() == {"blue": "v1"}
    with pytest.raises(InputError, match="nothing to roll back"):
        router.rollback()


def test_a_rollback_to_a_slot_emptied_since_is_refused_and_changes_nothing(v1, v2):
    router = Router({"blue": v1, "green": v2})
    router.switch("green")
    router.clear("blue")
    with pytest.raises(InputError, match="empty"):
        router.rollback()
    assert router.live_versions() == {"green": "v2"}
    router.deploy("blue", v1)
    router.rollback()
    assert router.live_versions() == {"blue": "v1"}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.set_weights({"purple": 1.0}), "unknown slot 'purple'"),
        (lambda r: r.set_weights({"blue": 0.5, "green": 0.6}), "sum to 1"),
        (lambda r: r.set_weights({"blue": 1.5, "green": -0.5}),
         r"RoutingTable: weight of slot 'blue' must be a number in \[0, 1\], got 1.5"),
        (lambda r: r.set_weights({"green": 1.0}), "empty"),
        (lambda r: r.deploy("blue", r.slots["blue"]), "is live"),
        (lambda r: r.deploy("purple", r.slots["blue"]), "unknown slot"),
        (lambda r: r.version_of("purple"), "unknown slot"),
    ],
)
def test_bad_routing_changes_are_refused_and_change_nothing(v1, change, message):
    router = Router({"blue": v1, "green": None})
    before = (router.table, router.slots)
    with pytest.raises(InputError, match=message):
        change(router)
    assert (router.table, router.slots) == before


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda v: Router({}), "non-empty mapping"),
        (lambda v: Router({"blue": None}), "at least one slot"),
        (lambda v: Router({"blue": "model.skops"}), "ModelVersion"),
        (lambda v: Router({"blue": v}, live="green"), "unknown slot"),
        (lambda v: ModelVersion(object(), "v9"), "no predict"),
        (lambda v: ModelVersion(v.model, "  "), "non-empty string"),
    ],
)
def test_constructor_arguments_are_checked_up_front(v1, make, message):
    with pytest.raises(InputError, match=message):
        make(v1)


def test_a_switch_under_concurrent_load_answers_every_request_once(data, v1, v2):
    X, _ = data
    router = Router({"blue": v1, "green": v2})
    answers: list = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        for i in range(150):
            r = router.route(X[i], key=f"w{worker}-{i}")
            with lock:
                answers.append(r)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for _ in range(20):
        router.switch("green")
        router.switch("blue")
    for t in threads:
        t.join()
    events = router.events_frame()
    assert len(answers) == 600 == len(events) == events["answered"].sum()
    assert sorted(r.request_id for r in answers) == list(range(600))
    by_id = events.set_index("request_id")["version"]
    assert all(by_id[r.request_id] == r.version for r in answers)
    assert set(by_id) <= {"v1", "v2"}


def test_a_model_is_loaded_from_a_checked_artifact(tmp_path, data):
    from mlcicd import artifacts
    X, y = data
    artifacts.save_model(LogisticRegression().fit(X, y), tmp_path / "model")
    loaded = ModelVersion.from_artifact(tmp_path / "model")
    assert loaded.version.startswith("sha-")
    assert loaded.model.predict(X[:3]).shape == (3,)
    model_file = next((tmp_path / "model").glob("model-*.skops"))
    model_file.write_bytes(model_file.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ArtifactError):
        ModelVersion.from_artifact(tmp_path / "model")


@settings(max_examples=25, deadline=None)
@given(
    weights=st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).filter(lambda w: sum(w) > 0),
    keys=st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=40),
    salt=st.text(max_size=40),
)
def test_batch_and_single_routing_agree_for_any_weights_keys_and_salt(weights, keys, salt):
    total = sum(weights)
    shares = [w / total for w in weights]
    shares[-1] = max(0.0, 1.0 - sum(shares[:-1]))
    models = {name: ModelVersion(_CONSTANT[name], name) for name in ("a", "b", "c")}
    X = np.zeros((len(keys), 1))

    def fresh() -> Router:
        router = Router(models)
        router.set_weights(dict(zip(("a", "b", "c"), shares, strict=True)), salt=salt)
        return router

    batch = fresh().route_batch(X, keys)
    one = fresh()
    assert batch.slots.tolist() == [one.route(X[i], key=k).slot for i, k in enumerate(keys)]
    assert set(batch.slots) <= {n for n, s in zip(("a", "b", "c"), shares, strict=True) if s > 0}


_CONSTANT = {
    name: DummyClassifier(strategy="constant", constant=i).fit([[0], [1], [2]], [0, 1, 2])
    for i, name in enumerate(("a", "b", "c"))
}


def test_the_core_library_does_not_need_the_serve_extra(fresh_process):
    assert fresh_process["serve_modules"] == []


def test_a_bounded_log_keeps_the_recent_requests_and_counts_all(data, v1):
    X, y = data
    router = Router({"blue": v1}, max_events=100)
    for lo in range(0, 500, 50):
        router.route_batch(X[lo:lo + 50], [f"u{i}" for i in range(lo, lo + 50)])
    router.route(X[500], key="last")
    events = router.events_frame()
    assert router.n_requests == 501
    assert 100 <= len(events) <= 110
    assert events["request_id"].iloc[-1] == 500
    assert events["request_id"].is_monotonic_increasing and events["answered"].all()
    router.record_label(500, int(y[500]))
    with pytest.raises(InputError, match="older than the log keeps"):
        router.record_label(0, 1)
    assert router.metrics_frame()["requests"].sum() == len(events)
    with pytest.raises(InputError, match="max_events"):
        Router({"blue": v1}, max_events=0)


def test_traffic_plot_draws_one_line_per_version(data, v1, v2):
    import matplotlib

    matplotlib.use("Agg")
    from mlcicd.deploy import plot_traffic

    X, _ = data
    router = Router({"blue": v1, "green": v2})
    router.route_batch(X[:300])
    router.switch("green")
    router.route_batch(X[300:600])
    fig = plot_traffic(router, window=50)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["v1", "v2"]


def test_traffic_plot_has_no_false_dip_at_the_first_and_last_requests(data, v1, v2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlcicd.deploy import plot_traffic

    X, _ = data
    only_blue = Router({"blue": v1})
    only_blue.route_batch(X[:300])
    fig = plot_traffic(only_blue, window=50)
    (line,) = fig.axes[0].get_lines()
    assert np.allclose(line.get_ydata(), 1.0)  # all traffic to v1, edges included
    plt.close(fig)

    switched = Router({"blue": v1, "green": v2})
    switched.route_batch(X[:300])
    switched.switch("green")
    switched.route_batch(X[300:600])
    fig = plot_traffic(switched, window=50)
    shares = {line.get_label(): np.asarray(line.get_ydata()) for line in fig.axes[0].get_lines()}
    assert shares["v1"][0] == 1.0 and shares["v2"][0] == 0.0
    assert shares["v1"][-1] == 0.0 and shares["v2"][-1] == 1.0
    assert np.allclose(shares["v1"] + shares["v2"], 1.0)
    plt.close(fig)
