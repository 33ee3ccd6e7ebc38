"""Baseline vs candidate on breast cancer: the report a pull request gets."""

from __future__ import annotations

import matplotlib
import pytest
from sklearn.dummy import DummyClassifier

from mlcicd.artifacts import load_model, save_model
from mlcicd.compare import MARKER, ComparisonReport, compare_models
from mlcicd.datasets import load_breast_cancer_frame, split_frame
from mlcicd.errors import InputError
from mlcicd.training import TrainConfig, build_pipeline, split_xy

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data():
    return split_frame(load_breast_cancer_frame(), test_size=0.25, seed=0)


def _fit(config: TrainConfig, train_df):
    return build_pipeline(config).fit(*split_xy(train_df, "target"))


@pytest.fixture(scope="module")
def models(data):
    train_df, _ = data
    X, y = split_xy(train_df, "target")
    return {
        "logistic": _fit(TrainConfig(model="logistic_regression"), train_df),
        "logistic_again": _fit(TrainConfig(model="logistic_regression"), train_df),
        "dummy": DummyClassifier(strategy="most_frequent").fit(X, y),
    }


@pytest.fixture(scope="module")
def good_report(models, data):
    return compare_models(models["logistic"], models["logistic_again"], data[1], n_resamples=500)


@pytest.fixture(scope="module")
def bad_report(models, data):
    return compare_models(models["logistic"], models["dummy"], data[1], n_resamples=500)


def test_a_retrained_identical_candidate_passes(good_report):
    assert good_report.passed
    assert good_report.failures == []
    assert all(change == 0 for change in good_report.changes.values())
    assert good_report.mcnemar.pvalue == 1.0
    ci = good_report.accuracy_ci
    assert (ci.low, ci.estimate, ci.high) == (0.0, 0.0, 0.0)
    assert good_report.verdict == "Candidate passes: no metric regresses by more than 1.0 pp."


def test_a_clearly_better_candidate_passes_and_the_statistics_say_so(models, data):
    train_df, test_df = data
    guesser = DummyClassifier(strategy="stratified", random_state=0).fit(
        *split_xy(train_df, "target")
    )
    report = compare_models(guesser, models["logistic"], test_df, n_resamples=500)
    assert report.passed
    assert all(change > 0 for change in report.changes.values())
    assert report.accuracy_ci.low > 0
    assert report.mcnemar.significant()
    assert "the candidate is very likely better" in report.to_markdown()


def test_a_majority_class_candidate_fails_and_the_statistics_agree(bad_report):
    assert not bad_report.passed
    assert {"accuracy", "precision", "f1"} <= set(bad_report.failures)
    # Only the gate's metrics decide; ROC AUC also collapses but is shown, not checked.
    assert "roc_auc" not in bad_report.failures and "roc_auc" in bad_report.changes
    # Predicting "benign" for everyone has perfect recall: it is not a failure.
    assert "recall" not in bad_report.failures
    assert bad_report.accuracy_ci.high < 0
    assert bad_report.mcnemar.significant()
    assert bad_report.mcnemar.a_only_correct > bad_report.mcnemar.b_only_correct
    assert bad_report.verdict.startswith("Candidate fails: accuracy -")


def test_every_metric_is_side_by_side_with_its_change(bad_report):
    frame = bad_report.to_frame()
    assert list(frame.columns) == ["baseline", "candidate", "change", "checked", "passed"]
    assert list(frame.index[:4]) == ["accuracy", "precision", "recall", "f1"]
    assert "roc_auc" in frame.index
    row = frame.loc["accuracy"]
    assert row["change"] == pytest.approx(row["candidate"] - row["baseline"])
    assert not row["passed"]


def test_markdown_is_a_pull_request_comment(bad_report):
    text = bad_report.to_markdown()
    assert text.startswith(MARKER + "\n## Model check: candidate fails ❌")
    assert "| Metric | Baseline | Candidate | Change | Check |" in text
    accuracy = bad_report.to_frame().loc["accuracy"]
    assert (
        f"| accuracy | {accuracy['baseline']:.4f} | {accuracy['candidate']:.4f} | "
        f"{100 * accuracy['change']:+.2f} pp | ❌ |"
    ) in text
    assert "| recall |" in text and "| ✅ |" in text
    assert "**Candidate fails:" in text
    details = text[text.index("<details>") : text.index("</details>")]
    assert "bootstrap interval" in details
    assert "McNemar" in details and "the baseline is very likely better" in details
    assert "Model size" in details
    assert "Prediction time per 1,000 rows" in details


def test_markdown_without_timing_is_the_same_on_every_run(models, data):
    runs = [
        compare_models(models["logistic"], models["dummy"], data[1], n_resamples=200)
        for _ in range(2)
    ]
    texts = [r.to_markdown(include_timing=False) for r in runs]
    assert texts[0] == texts[1]
    assert "Prediction time" not in texts[0]


def test_json_round_trips_to_an_equal_report(bad_report):
    text = bad_report.to_json()
    assert ComparisonReport.from_json(text) == bad_report
    data = bad_report.to_dict()
    assert data["passed"] is False
    assert data["failures"] == bad_report.failures
    assert data["mcnemar"]["b_only_correct"] == bad_report.mcnemar.b_only_correct


def test_a_looser_tolerance_lets_a_small_drop_pass(models, data):
    strict = compare_models(models["logistic"], models["dummy"], data[1], max_regression=0.01)
    loose = compare_models(models["logistic"], models["dummy"], data[1], max_regression=1.0)
    assert not strict.passed and loose.passed
    assert "100.0 pp" in loose.verdict


def test_the_gate_file_sets_the_tolerance_and_the_checked_metrics(models, data, tmp_path):
    gate = tmp_path / "gate.yaml"
    gate.write_text("min_accuracy: 0.5\nmax_regression: 0.05\nregression_metrics: [roc_auc]\n")
    report = compare_models(models["logistic"], models["dummy"], data[1], thresholds=gate)
    assert (report.max_regression, report.checked, report.failures) == (
        0.05, ["roc_auc"], ["roc_auc"])
    assert "| accuracy |" in report.to_markdown() and "| – |" in report.to_markdown()
    with pytest.raises(InputError, match="not both"):
        compare_models(models["logistic"], models["dummy"], data[1], thresholds=gate,
                       max_regression=0.01)


def test_saved_artifacts_are_compared_with_their_file_sizes(models, data, tmp_path):
    base_file = save_model(models["logistic"], tmp_path / "baseline")
    cand_file = save_model(models["dummy"], tmp_path / "candidate")
    report = compare_models(load_model(tmp_path / "baseline"), tmp_path / "candidate", data[1],
                            n_resamples=100)
    assert report.baseline_size_bytes == base_file.stat().st_size
    assert report.candidate_size_bytes == cand_file.stat().st_size
    assert report.baseline_label == str(tmp_path / "baseline")
    assert report.candidate_label == str(tmp_path / "candidate")
    assert report.baseline_ms_per_1000 > 0


def test_plain_estimators_get_a_size_and_a_timing(good_report):
    assert good_report.baseline_size_bytes > 0
    assert good_report.candidate_ms_per_1000 > 0
    assert good_report.baseline_label == "baseline"


def test_a_missing_feature_column_is_named(models, data):
    test_df = data[1].drop(columns=[data[1].columns[0]])
    with pytest.raises(InputError, match=str(data[1].columns[0])):
        compare_models(models["logistic"], models["dummy"], test_df)


def test_a_missing_target_column_is_named(models, data):
    with pytest.raises(InputError, match="label"):
        compare_models(models["logistic"], models["dummy"], data[1], target="label")


@pytest.mark.parametrize("bad", [-0.1, 1.5, "0.01"])
def test_a_bad_tolerance_is_refused(models, data, bad):
    with pytest.raises(InputError, match="max_regression"):
        compare_models(models["logistic"], models["dummy"], data[1], max_regression=bad)


def test_something_that_is_not_a_model_is_refused(models, data):
    with pytest.raises(InputError, match="candidate: expected a fitted estimator"):
        compare_models(models["logistic"], object(), data[1])


def test_an_unfitted_model_is_refused(models, data):
    unfitted = build_pipeline(TrainConfig(model="logistic_regression"))
    with pytest.raises(InputError, match="candidate: the model is not fitted"):
        compare_models(models["logistic"], unfitted, data[1])


def test_plot_shows_one_bar_per_metric(bad_report):
    ax = bad_report.plot()
    assert len(ax.patches) == len(bad_report.changes)
