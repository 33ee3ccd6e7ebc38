"""The quality gate: thresholds from YAML, every rule reported, clear errors."""

from __future__ import annotations

import json

import pytest

from mlcicd.errors import CheckFailed, InputError
from mlcicd.gate import GateResult, GateThresholds, apply_gate

GOOD = {"accuracy": 0.96, "precision": 0.95, "recall": 0.97, "f1": 0.96, "roc_auc": 0.99}
BASELINE = {"accuracy": 0.95, "precision": 0.96, "recall": 0.96, "f1": 0.96}


def test_a_model_above_every_threshold_passes():
    gate = {"min_accuracy": 0.9, "min_precision": 0.9, "min_recall": 0.9, "min_f1": 0.9}
    result = apply_gate(GOOD, gate)
    assert result.passed
    assert [rule.name for rule in result.rules] == [
        "min_accuracy", "min_precision", "min_recall", "min_f1"
    ]


def test_every_failing_rule_is_reported_not_just_the_first():
    weak = {"accuracy": 0.80, "precision": 0.70, "recall": 0.95, "f1": 0.80}
    gate = {"min_accuracy": 0.9, "min_precision": 0.9, "min_recall": 0.9, "min_f1": 0.9}
    result = apply_gate(weak, gate)
    assert not result.passed
    assert [rule.metric for rule in result.failures] == ["accuracy", "precision", "f1"]
    with pytest.raises(CheckFailed, match="min_precision"):
        result.raise_if_failed()


def test_a_value_exactly_on_the_threshold_passes():
    assert apply_gate({"accuracy": 0.9}, {"min_accuracy": 0.9}).passed


def test_regression_beyond_the_tolerance_fails_against_the_baseline():
    candidate = dict(BASELINE, precision=0.94)  # 2 points below the baseline
    result = apply_gate(candidate, {"max_regression": 0.01}, baseline_metrics=BASELINE)
    assert not result.passed
    (failure,) = result.failures
    assert (failure.name, failure.metric, failure.baseline) == ("max_regression", "precision", 0.96)
    assert failure.limit == pytest.approx(0.95)


def test_a_drop_of_exactly_the_tolerance_passes():
    candidate = dict(BASELINE, accuracy=0.94)
    assert apply_gate(candidate, {"max_regression": 0.01}, baseline_metrics=BASELINE).passed


def test_regression_rule_without_a_baseline_is_skipped_and_said_so():
    result = apply_gate(GOOD, {"min_f1": 0.9, "max_regression": 0.01})
    assert result.passed
    assert [rule.name for rule in result.rules] == ["min_f1"]
    assert "max_regression" in result.skipped[0]
    assert "Skipped" in result.to_markdown()


def test_missing_gated_metric_names_the_key(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"accuracy": 0.9, "precision": 0.9}))
    with pytest.raises(InputError, match=r"metrics.json: missing key 'recall'"):
        apply_gate(path, {"min_recall": 0.9})


def test_missing_metric_in_the_baseline_names_the_baseline():
    expected = "baseline metrics: missing keys 'precision', 'recall', 'f1'"
    with pytest.raises(InputError, match=expected):
        apply_gate(GOOD, {"max_regression": 0.01}, baseline_metrics={"accuracy": 0.9})


@pytest.mark.parametrize("bad", ["0.9", None, float("nan"), True])
def test_a_metric_that_is_not_a_number_is_refused(bad):
    with pytest.raises(InputError, match=r"'accuracy' must be a number in \[0, 1\]"):
        apply_gate({"accuracy": bad}, {"min_accuracy": 0.5})


def test_artifact_metadata_with_nested_metrics_is_accepted(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps({"model_file": "model.skops", "metrics": GOOD}))
    assert apply_gate(path, {"min_accuracy": 0.9}).passed


def test_thresholds_are_read_from_yaml(tmp_path):
    path = tmp_path / "gate.yaml"
    path.write_text("# release gate\nmin_accuracy: 0.9\nmin_f1: 0.85\nmax_regression: 0.01\n")
    thresholds = GateThresholds.from_yaml(path)
    assert thresholds == GateThresholds(min_accuracy=0.9, min_f1=0.85, max_regression=0.01)
    assert apply_gate(GOOD, path).passed


def test_unknown_threshold_key_is_named(tmp_path):
    path = tmp_path / "gate.yaml"
    path.write_text("min_accuracy: 0.9\nmin_acuracy: 0.95\n")
    with pytest.raises(InputError, match=r"gate.yaml: unknown key 'min_acuracy'"):
        GateThresholds.from_yaml(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min_accuracy: 1.5\n", r"min_accuracy must be a number in \[0, 1\], got 1.5"),
        ("min_accuracy: high\n", "min_accuracy must be a number"),
        ("max_regression: -0.01\n", r"max_regression must be a number in \[0, 1\]"),
        ("", "no threshold set"),
        ("- 0.9\n", "expected a mapping"),
        ("min_accuracy: [0.9\n", "not valid YAML"),
    ],
)
def test_bad_thresholds_file_gives_one_clear_error(tmp_path, text, message):
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        GateThresholds.from_yaml(path)


def test_result_renders_as_table_and_markdown():
    result = apply_gate(
        dict(GOOD, recall=0.5), {"min_recall": 0.9, "min_accuracy": 0.9}
    )
    assert isinstance(result, GateResult)
    frame = result.to_frame()
    assert list(frame.columns) == ["rule", "metric", "value", "limit", "passed"]
    assert frame["passed"].tolist() == [True, False]
    markdown = result.to_markdown()
    assert "Quality gate failed ❌" in markdown
    assert "| min_recall | recall | 0.5000 | 0.9000 | ❌ |" in markdown
    assert result.to_dict()["rules"][1]["metric"] == "recall"
    json.dumps(result.to_dict())
