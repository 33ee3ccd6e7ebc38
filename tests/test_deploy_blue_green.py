"""Blue-green: only a healthy candidate takes traffic, all at once, with instant rollback."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from mlcicd.deploy import BlueGreenRelease, HealthCheck, ModelVersion, Router
from mlcicd.errors import ArtifactError, InputError

#: The ``data`` fixture (tests/conftest.py): y = x0 - x2 > 0 on 1,000 seeded rows.
LINEAR_DATA = (1, 1000, (1.0, 0.0, -1.0))


@pytest.fixture(scope="module")
def models(data):
    X, y = data
    return {
        "v1": ModelVersion(LogisticRegression(C=0.1).fit(X, y), "v1"),
        "v2": ModelVersion(LogisticRegression(C=10.0).fit(X, y), "v2"),
        "dummy": ModelVersion(DummyClassifier(strategy="most_frequent").fit(X, y), "dummy"),
    }


@pytest.fixture()
def release(data, models):
    X, y = data
    router = Router({"blue": models["v1"], "green": None})
    return BlueGreenRelease(router, HealthCheck(X[:100], y[:100], min_accuracy=0.9))


class Broken:
    def predict(self, X):
        raise RuntimeError("model file is corrupt")


class WaitsOnEvent:
    """Predicts only once the test lets it (a deterministic stand-in for a slow model)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, X):
        threading.Event().wait(self.seconds)
        return np.zeros(len(X), dtype=int)


def test_a_healthy_candidate_takes_all_traffic_at_once(data, models, release):
    X, _ = data
    report = release.release(models["v2"])
    assert report.passed and report.failures() == []
    assert release.router.live_versions() == {"green": "v2"}
    answer = release.router.route_batch(X[:300], [f"u{i}" for i in range(300)])
    assert set(answer.versions) == {"v2"}


def test_a_failed_health_check_never_switches(data, models, release):
    X, _ = data
    report = release.release(models["dummy"])
    assert not report.passed and report.failures() == ["accuracy"]
    assert "failed: accuracy" in report.to_markdown()
    assert release.router.live_versions() == {"blue": "v1"}
    assert release.router.version_of("green") is None
    assert release.status_ == "check_failed"
    with pytest.raises(InputError, match="no checked candidate"):
        release.switch()
    assert set(release.router.route_batch(X[:50]).versions) == {"v1"}


def test_a_model_that_raises_fails_the_check_without_raising(release):
    report = release.deploy(ModelVersion(Broken(), "broken"))
    assert not report.passed
    assert report.failures() == ["answers"]
    assert "corrupt" in report.to_frame().set_index("name").loc["answers", "detail"]


def test_a_slow_model_fails_the_latency_limit(data, models):
    X, y = data
    router = Router({"blue": models["v1"], "green": None})
    check = HealthCheck(X[:20], y[:20], max_latency_ms=5.0, latency_probes=3)
    report = BlueGreenRelease(router, check).deploy(ModelVersion(WaitsOnEvent(0.02), "slow"))
    assert report.failures() == ["latency"]
    assert router.live_versions() == {"blue": "v1"}


def test_rollback_goes_back_to_the_warm_previous_version(data, models, release):
    X, _ = data
    release.release(models["v2"])
    release.rollback()
    assert release.router.live_versions() == {"blue": "v1"}
    # The previous model object is the one serving: nothing was reloaded.
    assert release.router.slots["blue"].model is models["v1"].model
    # The candidate stays warm in green, ready for a re-switch.
    assert release.router.version_of("green") == "v2"
    assert set(release.router.route_batch(X[:50]).versions) == {"v1"}
    assert [h["action"] for h in release.history_] == ["deploy", "switch", "rollback"]


def test_a_failed_candidate_keeps_the_previous_version_warm(models, release):
    release.release(models["v2"])
    release.deploy(models["dummy"])  # goes to the idle blue slot, fails
    assert release.router.version_of("blue") == "v1"
    release.rollback()
    assert release.router.live_versions() == {"blue": "v1"}


def test_rollback_before_any_switch_is_refused(release):
    with pytest.raises(InputError, match="nothing to roll back"):
        release.rollback()


def test_a_tampered_artifact_is_refused_and_nothing_changes(tmp_path, data, release):
    from mlcicd import artifacts
    X, y = data
    folder = tmp_path / "candidate"
    artifacts.save_model(LogisticRegression().fit(X, y), folder)
    model_file = next(folder.glob("model-*.skops"))
    model_file.write_bytes(model_file.read_bytes().replace(b"Logistic", b"Logistiq", 1))
    before = (release.router.table, release.router.slots)
    with pytest.raises(ArtifactError):
        release.deploy(folder)
    assert (release.router.table, release.router.slots) == before
    assert release.history_ == []


def test_an_artifact_that_passes_its_check_is_released(tmp_path, data, release):
    from mlcicd import artifacts
    X, y = data
    artifacts.save_model(LogisticRegression().fit(X, y), tmp_path / "ok")
    assert release.release(tmp_path / "ok").passed
    assert release.router.live_versions()["green"].startswith("sha-")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"X_smoke": []}, "empty"),
        ({"X_smoke": [[0.0]], "y_smoke": [0, 1]}, "2 labels for 1"),
        ({"X_smoke": [[0.0]], "min_accuracy": 0.9}, "needs y_smoke"),
        ({"X_smoke": [[0.0]], "y_smoke": [0], "min_accuracy": 1.5}, "min_accuracy"),
        ({"X_smoke": [[0.0]], "max_latency_ms": 0}, "max_latency_ms"),
    ],
)
def test_health_check_arguments_are_checked_up_front(kwargs, message):
    with pytest.raises(InputError, match=message):
        HealthCheck(**kwargs)


def test_a_release_needs_two_known_slots_one_of_them_live(models, data):
    X, y = data
    check = HealthCheck(X[:10], y[:10])
    with pytest.raises(InputError, match="unknown slot"):
        BlueGreenRelease(Router({"blue": models["v1"]}), check)
    with pytest.raises(InputError, match="two different"):
        BlueGreenRelease(Router({"blue": models["v1"]}), check, slots=("blue", "blue"))
