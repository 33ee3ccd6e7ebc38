"""Canary: a good candidate is promoted step by step, a bad one rolled back at once."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.figure  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from mlcicd.deploy import CanaryPlan, CanaryRelease, ModelVersion, Router  # noqa: E402
from mlcicd.errors import InputError  # noqa: E402

PLAN = CanaryPlan(steps=(0.05, 0.10, 0.25, 0.50, 1.0), min_requests=60, min_labels=40)


@pytest.fixture(scope="module")
def stream():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(8000, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    keys = [f"user-{i}" for i in range(len(X))]
    return X, y, keys


@pytest.fixture(scope="module")
def models(stream):
    X, y, _ = stream
    return {
        "stable": ModelVersion(LogisticRegression(C=0.05).fit(X[:500], y[:500]), "v1"),
        "good": ModelVersion(LogisticRegression(C=1.0).fit(X[:500], y[:500]), "v2"),
        "bad": ModelVersion(DummyClassifier(strategy="most_frequent").fit(X, y), "v2-bad"),
    }


@pytest.fixture(scope="module")
def promoted(stream, models):
    X, y, keys = stream
    return CanaryRelease(new_router(models), models["good"], PLAN).run(X, y, keys)


def new_router(models):
    return Router({"stable": models["stable"], "canary": None})


class FailsOften:
    def __init__(self) -> None:
        self.calls = 0

    def predict(self, X):
        self.calls += 1
        if self.calls % 3 == 0:
            raise RuntimeError("out of memory")
        return np.zeros(len(X), dtype=int)


def test_a_good_candidate_is_promoted_step_by_step(promoted):
    release, router = promoted, promoted.router
    assert release.status_ == "promoted"
    timeline = release.timeline_frame()
    assert timeline["weight"].tolist() == list(PLAN.steps)
    assert timeline["decision"].tolist() == ["continue"] * 4 + ["promote"]
    assert (timeline["canary_requests"] >= PLAN.min_requests).all()
    assert router.live_versions() == {"canary": "v2"}


def test_a_bad_candidate_is_rolled_back(stream, models):
    X, y, keys = stream
    router = new_router(models)
    release = CanaryRelease(router, models["bad"], PLAN).run(X, y, keys)
    assert release.status_ == "aborted"
    last = release.timeline_frame().iloc[-1]
    assert last["decision"] == "abort" and "accuracy" in last["reasons"][0]
    assert last["weight"] == 0.05
    # All traffic goes back to stable at once, for every user.
    assert router.live_versions() == {"stable": "v1"}
    assert set(router.route_batch(X[:500], keys[:500]).versions) == {"v1"}
    # Only a few percent of users ever saw the bad model.
    events = router.events_frame()
    assert (events["version"] == "v2-bad").mean() < 0.10


def test_a_candidate_that_raises_is_aborted_on_its_error_rate(stream, models):
    X, _, keys = stream
    router = new_router(models)
    plan = CanaryPlan(steps=(0.2, 1.0), min_requests=50, min_labels=0)
    release = CanaryRelease(router, ModelVersion(FailsOften(), "flaky"), plan)
    release.run(X[:2000], keys=keys[:2000], batch_size=20)
    assert release.status_ == "aborted"
    assert "error rate" in release.timeline_frame()["reasons"].iloc[-1][0]
    assert router.live_versions() == {"stable": "v1"}


def test_assignment_is_sticky_and_each_step_only_adds_users(stream, models):
    X, _, keys = stream
    router = new_router(models)
    release = CanaryRelease(router, models["good"], CanaryPlan(min_labels=0)).start()
    seen = []
    for _ in range(3):
        first = router.route_batch(X[:2000], keys[:2000]).versions
        again = router.route_batch(X[:2000], keys[:2000]).versions
        assert np.array_equal(first, again)
        seen.append(first == "v2")
        release.advance(force=True)
    assert np.all(seen[1][seen[0]]) and np.all(seen[2][seen[1]])
    assert seen[0].sum() < seen[1].sum() < seen[2].sum()


def test_not_enough_requests_means_wait(stream, models):
    X, y, keys = stream
    router = new_router(models)
    release = CanaryRelease(router, models["good"], PLAN).start()
    router.route_batch(X[:100], keys[:100])
    analysis = release.analyze()
    assert analysis.decision == "wait"
    assert router.table.live == {"canary": 0.05, "stable": 0.95}


def test_rollback_after_promotion_restores_stable(stream, models):
    X, y, keys = stream
    router = new_router(models)
    plan = CanaryPlan(steps=(0.5, 1.0), min_requests=50, min_labels=20)
    release = CanaryRelease(router, models["good"], plan).run(X, y, keys)
    assert release.status_ == "promoted"
    release.rollback()
    assert release.status_ == "rolled_back"
    assert router.live_versions() == {"stable": "v1"}


def test_abort_sends_everyone_back_to_stable_at_once(stream, models):
    X, _, keys = stream
    router = new_router(models)
    release = CanaryRelease(router, models["good"], PLAN).start()
    release.advance(force=True)
    release.advance(force=True)
    release.abort()
    assert router.live_versions() == {"stable": "v1"}
    with pytest.raises(InputError, match="not running"):
        release.abort()


def test_timeline_and_plot_show_traffic_share_and_metrics(promoted):
    release = promoted
    frame = release.timeline_frame()
    for column in ("step", "weight", "requests_so_far", "error_rate", "canary_accuracy",
                   "stable_accuracy", "decision"):
        assert column in frame.columns
    fig = release.plot()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": (0.1, 0.05, 1.0)}, "strictly increasing"),
        ({"steps": (0.1, 0.1)}, "strictly increasing"),
        ({"steps": (0.5, 1.5)}, r"\(0, 1\]"),
        ({"steps": (0.0, 0.5)}, r"\(0, 1\]"),
        ({"steps": ()}, "at least one step"),
        ({"min_requests": 0}, "min_requests"),
        ({"max_error_rate": 2.0}, "max_error_rate"),
        ({"max_latency_ms": -1.0}, "max_latency_ms"),
    ],
)
def test_a_bad_plan_is_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        CanaryPlan(**kwargs)


def test_bad_release_arguments_are_refused_and_change_nothing(models):
    router = new_router(models)
    before = (router.table, router.slots)
    with pytest.raises(InputError, match="unknown slot"):
        CanaryRelease(router, models["good"], canary_slot="purple")
    with pytest.raises(InputError, match="is the live slot"):
        CanaryRelease(router, models["good"], canary_slot="stable")
    with pytest.raises(InputError, match="ModelVersion or an artifact"):
        CanaryRelease(router, 42).start()
    with pytest.raises(InputError, match="not running"):
        CanaryRelease(router, models["good"]).advance()
    assert (router.table, router.slots) == before


def test_run_checks_the_stream_before_starting(stream, models):
    X, y, keys = stream
    router = new_router(models)
    release = CanaryRelease(router, models["good"], PLAN)
    with pytest.raises(InputError, match="labels for"):
        release.run(X[:10], y[:9])
    assert release.status_ == "ready" and router.live_versions() == {"stable": "v1"}


def test_a_manual_promotion_needs_a_passing_analysis_or_force(stream, models):
    X, y, keys = stream
    router = new_router(models)
    release = CanaryRelease(router, models["good"], PLAN).start()
    with pytest.raises(InputError, match="analysis says wait"):
        release.promote()
    assert router.table.live == {"canary": 0.05, "stable": 0.95}
    release.promote(force=True)
    assert release.status_ == "promoted" and router.live_versions() == {"canary": "v2"}


# ---------------------------------------------------------------- sequential analysis
class AlwaysFails:
    def predict(self, X):
        raise RuntimeError("model file is corrupt")


class Switchable:
    """Predicts like ``model`` until ``broken`` is set, then raises."""

    def __init__(self, model) -> None:
        self.model, self.broken = model, False

    def predict(self, X):
        if self.broken:
            raise RuntimeError("stable replica is down")
        return self.model.predict(X)


def test_a_canary_that_raises_on_every_call_is_aborted_at_its_first_failures(stream, models):
    X, y, keys = stream
    router = new_router(models)
    release = CanaryRelease(router, ModelVersion(AlwaysFails(), "broken"), PLAN)
    release.run(X, y, keys, batch_size=5)
    assert release.status_ == "aborted"
    failed = router.events_frame()["error"].notna().sum()
    assert 1 <= failed <= 5  # one batch of 5 requests at most reaches the canary
    assert "error rate" in release.timeline_frame()["reasons"].iloc[-1][0]


def test_a_stream_that_ends_before_a_decision_is_inconclusive(stream, models):
    X, y, keys = stream
    router = new_router(models)
    release = CanaryRelease(router, models["good"], PLAN).run(X[:600], y[:600], keys[:600])
    assert release.status_ == "inconclusive"
    assert router.live_versions() == {"stable": "v1"}
    assert release.timeline_frame()["decision"].iloc[-1] == "inconclusive"
    assert release.history_frame()["action"].iloc[-1] == "inconclusive"
    with pytest.raises(InputError, match="not running"):
        release.advance()


def test_an_empty_stream_is_refused_before_anything_changes(models):
    router = new_router(models)
    release = CanaryRelease(router, models["good"], PLAN)
    with pytest.raises(InputError, match="stream is empty"):
        release.run(np.empty((0, 3)), [])
    assert release.status_ == "ready" and router.live_versions() == {"stable": "v1"}


def test_no_step_continues_or_promotes_before_min_requests(promoted):
    decided = promoted.timeline_frame()
    assert (decided["canary_requests"] >= PLAN.min_requests).all()


def test_the_default_salt_names_the_release_not_the_file(models):
    release = CanaryRelease(new_router(models), models["good"], PLAN).start()
    assert release.salt == "canary:v1->v2"


def test_replayed_rows_count_once_in_the_paired_evidence(stream, models):
    X, y, _ = stream
    rows = np.tile(np.arange(150), 20)
    keys = [f"row-{i}" for i in rows]
    plan = CanaryPlan(steps=(0.5, 1.0), min_requests=10_000)  # stays at 50 % throughout
    router = new_router(models)
    release = CanaryRelease(router, models["good"], plan)
    release.run(X[rows], y[rows], keys)
    events = router.events_frame()
    canary_keys = events.loc[events["slot"] == "canary", "key"]
    assert release.evidence_.canary_requests == len(canary_keys) > 1000
    assert release.evidence_.pairs == canary_keys.nunique() < 150


def test_paired_evidence_counts_each_labelled_canary_request_with_both_answers(stream, models):
    X, y, keys = stream
    router = new_router(models)
    plan = CanaryPlan(steps=(0.3, 1.0), min_requests=10_000)  # never leaves step 0
    release = CanaryRelease(router, models["good"], plan).run(X[:2000], y[:2000], keys[:2000])
    events = router.events_frame()
    canary = events[events["slot"] == "canary"]
    stable_answers = models["stable"].model.predict(X[canary["request_id"].to_numpy()])
    canary_right = (canary["prediction"] == canary["label"]).to_numpy()
    stable_right = stable_answers == canary["label"].to_numpy()
    ev = release.evidence_
    assert ev.pairs == len(canary)
    assert ev.canary_only == int((canary_right & ~stable_right).sum())
    assert ev.stable_only == int((stable_right & ~canary_right).sum())


def test_a_failing_stable_answer_for_the_evidence_never_reaches_a_user(stream, models):
    X, y, keys = stream
    stable = Switchable(models["stable"].model)
    router = Router({"stable": ModelVersion(stable, "v1"), "canary": None})
    plan = CanaryPlan(steps=(0.5, 1.0), min_requests=10_000)
    release = CanaryRelease(router, models["good"], plan).start()
    stable.broken = True
    answer = router.route_batch(X[:200], keys[:200])
    on_canary = answer.slots == "canary"
    assert on_canary.any() and all(e is None for e in answer.errors[on_canary])
    assert router.mirror_failures >= 1
    release.analyze()
    assert release.evidence_.pairs == 0


def test_a_two_arm_plan_compares_canary_users_with_stable_users(stream, models):
    X, y, keys = stream
    plan = CanaryPlan(steps=(0.1, 0.5, 1.0), min_requests=60, paired=False)
    release = CanaryRelease(new_router(models), models["good"], plan).run(X, y, keys)
    assert release.status_ == "promoted"
    ev = release.evidence_
    assert ev.pairs == 0 and ev.stable_labelled > ev.canary_labelled > 0


def test_analyze_can_run_beside_traffic_from_another_thread(stream, models):
    import threading

    X, y, keys = stream
    router = new_router(models)
    release = CanaryRelease(router, models["good"], CanaryPlan(min_requests=10**6)).start()
    stop, failures = threading.Event(), []

    def analyse_repeatedly() -> None:
        while not stop.is_set():
            try:
                release.analyze()
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(exc)

    worker = threading.Thread(target=analyse_repeatedly)
    worker.start()
    for lo in range(0, 3000, 100):
        answer = router.route_batch(X[lo:lo + 100], keys[lo:lo + 100])
        router.record_labels(answer.request_ids, y[lo:lo + 100].tolist())
    stop.set()
    worker.join()
    release.analyze()
    events = router.events_frame()
    assert failures == []
    assert release.evidence_.canary_requests == int((events["slot"] == "canary").sum())
    assert release.evidence_.pairs == release.evidence_.canary_requests


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_accuracy_drop": 0.0}, r"max_accuracy_drop must be a number in \(0, 1\)"),
        ({"max_accuracy_drop": 1.5}, "max_accuracy_drop"),
        ({"alpha": 0.5}, r"alpha must be a number in \(0, 0.5\)"),
        ({"beta": 0.0}, r"beta must be a number in \(0, 0.5\)"),
        ({"min_labels": -1}, "min_labels"),
        ({"paired": "yes"}, "paired"),
    ],
)
def test_a_plan_with_impossible_error_rates_or_margin_is_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        CanaryPlan(**kwargs)
