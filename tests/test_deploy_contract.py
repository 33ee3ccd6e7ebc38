"""The contract every deployment strategy must keep (in the spirit of sklearn's check_estimator).

- every request is answered exactly once, by a known version;
- rollback restores the previous version for every user;
- the event log is complete: one answered row per request, and the strategy's
  history records its start and its rollback.
"""

from __future__ import annotations

import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from mlcicd.deploy import (
    ABTest,
    BlueGreenRelease,
    CanaryPlan,
    CanaryRelease,
    HealthCheck,
    ModelVersion,
    Router,
    ShadowRelease,
)
from mlcicd.errors import ArtifactError, InputError

#: The ``data`` fixture (tests/conftest.py): y = x1 > 0 on 900 seeded rows.
LINEAR_DATA = (4, 900, (0.0, 1.0, 0.0))


@pytest.fixture(scope="module")
def versions(data):
    X, y = data
    return (ModelVersion(DummyClassifier(strategy="most_frequent").fit(X, y), "v1"),
            ModelVersion(LogisticRegression().fit(X, y), "v2"))


def blue_green(router, candidate, X, y):
    release = BlueGreenRelease(router, HealthCheck(X[:50], y[:50], min_accuracy=0.8),
                               slots=("stable", "candidate"))
    release.release(candidate)
    return release


def canary(router, candidate, X, y):
    plan = CanaryPlan(steps=(0.2, 0.6, 1.0), min_requests=10, min_labels=0)
    release = CanaryRelease(router, candidate, plan, canary_slot="candidate").start()
    release.advance(force=True)
    return release


def shadow(router, candidate, X, y):
    return ShadowRelease(router, candidate, shadow_slot="candidate").start()


def ab_test(router, candidate, X, y):
    return ABTest(router, candidate, treatment_slot="candidate", split=0.5).start()


STRATEGIES = [blue_green, canary, shadow, ab_test]


@pytest.mark.parametrize("begin", STRATEGIES, ids=lambda f: f.__name__)
def test_every_strategy_keeps_the_deployment_contract(begin, data, versions):
    X, y = data
    v1, v2 = versions
    router = Router({"stable": v1, "candidate": None})
    release = begin(router, v2, X, y)
    sent = 0
    answers = []
    for lo in range(0, 600, 100):
        batch = router.route_batch(X[lo:lo + 100], [f"user-{i}" for i in range(lo, lo + 100)])
        answers.extend(zip(batch.request_ids.tolist(), batch.versions.tolist(), strict=True))
        single = router.route(X[lo], key=f"user-{lo}")
        answers.append((single.request_id, single.version))
        sent += 101
    # Every request answered exactly once, by a known version, as logged.
    events = router.events_frame()
    assert len(events) == sent == len(answers)
    assert sorted(rid for rid, _ in answers) == list(range(sent))
    assert events["answered"].all()
    assert set(events["version"]) <= {"v1", "v2"}
    logged = dict(zip(events["request_id"], events["version"], strict=True))
    assert all(logged[rid] == version for rid, version in answers)
    assert events[["key", "slot", "version", "latency_s"]].notna().all().all()
    # Rollback restores the previous version for everyone.
    release.rollback()
    assert router.live_versions() == {"stable": "v1"}
    after = router.route_batch(X[:200], [f"user-{i}" for i in range(200)])
    assert set(after.versions) == {"v1"}
    # The strategy's own history is complete.
    actions = [h["action"] for h in release.history_]
    assert actions[-1] == "rollback"
    assert actions[0] in ("start", "deploy")
    assert release.status_ == "rolled_back"
    getattr(release, "stop", lambda: None)()


def test_promoting_with_no_candidate_is_refused_by_every_strategy(data, versions):
    X, y = data
    v1, v2 = versions
    router = Router({"stable": v1, "candidate": None})
    before = (router.table, router.slots)
    blue_green_release = BlueGreenRelease(router, HealthCheck(X[:20], y[:20]),
                                          slots=("stable", "candidate"))
    with pytest.raises(InputError, match="no checked candidate"):
        blue_green_release.switch()
    with pytest.raises(InputError, match="no candidate to promote"):
        CanaryRelease(router, v2, canary_slot="candidate").promote()
    with pytest.raises(InputError, match="no candidate to promote"):
        ShadowRelease(router, v2, shadow_slot="candidate").promote()
    with pytest.raises(InputError, match="not running"):
        ABTest(router, v2, treatment_slot="candidate").conclude()
    assert (router.table, router.slots) == before


def test_an_unknown_version_is_named_in_the_error(versions):
    router = Router({"stable": versions[0], "candidate": versions[1]})
    assert router.slot_of("v2") == "candidate"
    with pytest.raises(InputError, match="unknown version 'v9'.*'v1', 'v2'"):
        router.slot_of("v9")


@pytest.fixture(scope="module")
def tampered_artifact(tmp_path_factory, data):
    from mlcicd import artifacts
    X, y = data
    folder = tmp_path_factory.mktemp("tampered") / "candidate"
    artifacts.save_model(LogisticRegression().fit(X, y), folder)
    model_file = next(folder.glob("model-*.skops"))
    payload = bytearray(model_file.read_bytes())
    payload[len(payload) // 2] ^= 0xFF  # one flipped byte, same size
    model_file.write_bytes(bytes(payload))
    return folder


@pytest.mark.parametrize("begin", STRATEGIES, ids=lambda f: f.__name__)
def test_a_candidate_failing_its_hash_check_is_refused_by_every_strategy(
        begin, data, versions, tampered_artifact):
    X, y = data
    router = Router({"stable": versions[0], "candidate": None})
    before = (router.table, router.slots, router.n_requests)
    with pytest.raises(ArtifactError, match="sha256"):
        begin(router, tampered_artifact, X, y)
    assert (router.table, router.slots, router.n_requests) == before
    assert router.mirror is None
