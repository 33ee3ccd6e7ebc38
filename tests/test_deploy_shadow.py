"""Shadow: users only ever get production's answer; promotion needs paired evidence."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from mlcicd.deploy import ModelVersion, Router, ShadowRelease
from mlcicd.errors import InputError

#: The ``data`` fixture (tests/conftest.py): y = x0 - x2 / 2 > 0 on 1,500 seeded rows.
LINEAR_DATA = (3, 1500, (1.0, 0.0, -0.5))


@pytest.fixture(scope="module")
def models(data):
    X, y = data
    return {
        "weak": ModelVersion(DummyClassifier(strategy="most_frequent").fit(X, y), "v1"),
        "strong": ModelVersion(LogisticRegression().fit(X, y), "v2"),
        "strong_copy": ModelVersion(LogisticRegression().fit(X, y), "v2-copy"),
    }


class Raises:
    def predict(self, X):
        raise RuntimeError("shadow crashed")


class Blocks:
    """Answers only after the test sets ``release`` (or after ``limit`` seconds)."""

    def __init__(self, limit: float = 10.0) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.limit = limit

    def predict(self, X):
        self.started.set()
        self.release.wait(self.limit)
        return np.ones(len(X), dtype=int)


class Sleeps:
    """A slow shadow: each call takes at least ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, X):
        threading.Event().wait(self.seconds)
        return np.ones(len(X), dtype=int)


def production_answers(models, X):
    return models["weak"].model.predict(X).tolist()


def test_users_always_get_the_production_answer(data, models):
    X, y = data
    router = Router({"live": models["weak"], "shadow": None})
    release = ShadowRelease(router, models["strong"], min_samples=100).start()
    answer = router.route_batch(X[:300], [f"u{i}" for i in range(300)])
    single = router.route(X[300], key="u300")
    release.drain()
    assert answer.predictions.tolist() == production_answers(models, X[:300])
    assert set(answer.versions) == {"v1"} and single.version == "v1"
    report = release.report()
    assert report.compared == 301
    assert report.agreement < 1.0  # the shadow did answer differently, unseen by users
    release.stop()


def test_a_shadow_that_raises_never_changes_the_answer(data, models):
    X, y = data
    router = Router({"live": models["weak"], "shadow": None})
    release = ShadowRelease(router, ModelVersion(Raises(), "crashy")).start()
    answer = router.route_batch(X[:200], [f"u{i}" for i in range(200)])
    one = router.route(X[200], key="u200")
    release.drain()
    assert answer.predictions.tolist() == production_answers(models, X[:200])
    assert all(e is None for e in answer.errors) and one.error is None
    report = release.report()
    assert report.shadow_errors == 201
    assert report.compared == 0 and report.decision == "wait"
    release.stop()


def test_a_blocked_shadow_never_delays_the_user_and_overflow_is_dropped(data, models):
    X, _ = data
    blocker = Blocks()
    router = Router({"live": models["weak"], "shadow": None})
    release = ShadowRelease(router, ModelVersion(blocker, "stuck"), max_workers=1,
                            max_pending=2).start()
    first = router.route(X[0], key="a")
    assert blocker.started.wait(5.0)
    # The shadow is stuck inside predict, yet every user request is answered now.
    answers = [router.route(X[i], key=f"u{i}") for i in range(1, 21)]
    assert not blocker.release.is_set()
    assert [a.version for a in [first, *answers]] == ["v1"] * 21
    assert release.dropped_ >= 18  # one running, one queued, the rest dropped
    blocker.release.set()
    assert release.drain(5.0)
    report = release.report()
    assert report.dropped == release.dropped_ and report.compared == 21 - release.dropped_
    release.stop()


def test_a_slow_shadow_is_counted_late_and_left_out(data, models):
    X, y = data
    router = Router({"live": models["weak"], "shadow": None})
    release = ShadowRelease(router, ModelVersion(Sleeps(0.05), "slow"), timeout_s=0.01).start()
    answer = router.route_batch(X[:40], [f"u{i}" for i in range(40)])
    assert release.drain(5.0)
    assert answer.predictions.tolist() == production_answers(models, X[:40])
    report = release.report()
    assert report.late == 40 and report.compared == 0
    release.stop()


def test_a_clearly_better_shadow_is_promoted_by_the_paired_test(data, models):
    X, y = data
    router = Router({"live": models["weak"], "shadow": None})
    release = ShadowRelease(router, models["strong"], min_samples=200).run(X, y)
    report = release.report_
    assert report.decision == "promote" and report.analysis == "sequential"
    assert report.interval.lower(0.05) > 0.2
    assert report.mcnemar.pvalue < 0.05
    assert report.mcnemar.b_only_correct > report.mcnemar.a_only_correct
    assert report.shadow_accuracy > report.production_accuracy
    assert router.live_versions() == {"live": "v1"}
    release.promote()
    assert router.live_versions() == {"shadow": "v2"}
    assert router.mirror is None
    release.rollback()
    assert router.live_versions() == {"live": "v1"}


def test_an_equal_shadow_is_promoted_as_not_worse_but_shows_no_gain_read_once(data, models):
    X, y = data
    router = Router({"live": models["strong"], "shadow": None})
    release = ShadowRelease(router, models["strong_copy"], min_samples=200).run(X, y)
    assert release.report_.agreement == 1.0
    assert release.report_.decision == "promote"
    assert "not worse than the margin allows" in release.report_.reason
    release.stop()
    router = Router({"live": models["strong"], "shadow": None})
    fixed = ShadowRelease(router, models["strong_copy"], min_samples=200,
                          analysis="fixed-horizon").run(X, y)
    assert (fixed.report_.decision, fixed.report_.analysis) == ("keep", "fixed-horizon")
    assert "Analysis: fixed-horizon. **keep**" in fixed.report_.to_markdown()
    with pytest.raises(InputError, match="not promoted"):
        fixed.promote()
    assert router.live_versions() == {"live": "v2"}
    fixed.stop()


def test_a_worse_shadow_is_kept_out(data, models):
    X, y = data
    router = Router({"live": models["strong"], "shadow": None})
    release = ShadowRelease(router, models["weak"], min_samples=200).run(X, y)
    assert release.report_.decision == "keep"
    assert "shadow is worse" in release.report_.reason
    with pytest.raises(InputError, match="not promoted"):
        release.promote()
    release.stop()


def test_an_empty_stream_is_refused_before_anything_changes(models):
    router = Router({"live": models["weak"], "shadow": None})
    with pytest.raises(InputError, match="stream is empty"):
        ShadowRelease(router, models["strong"]).run(np.zeros((0, 3)), [])
    assert router.mirror is None and router.version_of("shadow") is None


def test_a_replayed_row_counts_once(data, models):
    X, y = data
    router = Router({"live": models["weak"], "shadow": None})
    # 150 rows replayed 10 times under their own keys: 150 labelled pairs, not 1,500.
    keys = [f"row-{i}" for i in range(150)] * 10
    release = ShadowRelease(router, models["strong"], min_samples=200).run(
        np.tile(X[:150], (10, 1)), np.tile(y[:150], 10), keys)
    report = release.report_
    assert (report.labelled, report.replays_ignored, report.decision) == (150, 1350, "wait")
    release.stop()


def test_too_few_labels_means_wait_even_with_a_large_raw_gain(data, models):
    X, y = data
    router = Router({"live": models["weak"], "shadow": None})
    release = ShadowRelease(router, models["strong"], min_samples=500).run(X[:100], y[:100])
    report = release.report_
    assert report.shadow_accuracy - report.production_accuracy > 0.2
    assert report.decision == "wait" and report.mcnemar is None
    release.stop()


def test_report_lists_accuracy_and_latency_of_both(data, models):
    X, y = data
    router = Router({"live": models["weak"], "shadow": None})
    release = ShadowRelease(router, models["strong"], min_samples=50).run(X[:300], y[:300])
    frame = release.report_.to_frame()
    assert list(frame.columns) == ["production", "shadow"]
    assert frame.loc["version"].tolist() == ["v1", "v2"]
    assert all(frame.loc["p50_ms"] >= 0)
    text = release.report_.to_markdown()
    assert "| version | v1 | v2 |" in text and release.report_.decision in text
    release.stop()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"shadow_slot": "purple"}, "unknown slot"),
        ({"shadow_slot": "live"}, "is the live slot"),
        ({"max_workers": 0}, "max_workers"),
        ({"max_pending": 0}, "max_pending"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"alpha": 1.5}, "alpha"),
        ({"analysis": "bayesian"}, "analysis must be one of"),
        ({"margin": 1.2}, "margin must be"),
        ({"beta": 0.6}, "beta must be"),
    ],
)
def test_bad_arguments_are_refused_up_front(models, kwargs, message):
    router = Router({"live": models["weak"], "shadow": None})
    with pytest.raises(InputError, match=message):
        ShadowRelease(router, models["strong"], **kwargs)
    assert router.mirror is None and router.version_of("shadow") is None
