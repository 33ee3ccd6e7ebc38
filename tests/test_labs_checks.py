"""The labs' self-checks: a right answer passes, and each typical mistake gets a hint naming it."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from mlcicd.datasets import people_schema
from mlcicd.drift import labelling_rule
from mlcicd.labs import checks
from mlcicd.labs.testrun import lab_fixtures
from mlcicd.validation import Schema


def hint(result) -> str:
    assert not result.passed, f"expected a hint, got {result}"
    return result.message


# --- lab 1 --------------------------------------------------------------------------------


def test_covariate_shift_that_relabels_with_the_old_points_is_told_the_rule_stays():
    def shifted_but_old_labels(X, shift):
        return X.assign(x1=X["x1"] + shift), labelling_rule(X)

    def both_moved(X, shift):
        return X + shift, labelling_rule(X + shift)

    assert "labelling rule applied to the *shifted* points" in hint(
        checks.check_covariate_shift(shifted_but_old_labels)
    )
    assert "x2 stay" in hint(checks.check_covariate_shift(both_moved))


def test_psi_without_a_floor_for_empty_bins_is_told_why_it_is_infinite():
    def naive_psi(reference, current, bins=10):
        edges = np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1])
        ref = np.bincount(np.searchsorted(edges, reference), minlength=bins) / len(reference)
        cur = np.bincount(np.searchsorted(edges, current), minlength=bins) / len(current)
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sum((cur - ref) * np.log(cur / ref)))

    assert "empty bins a tiny share" in hint(checks.check_psi(naive_psi))


def test_uncorrected_p_values_fail_the_bonferroni_check():
    def uncorrected(pvalues, alpha):
        return [name for name, p in pvalues.items() if p < alpha]

    assert "0.05 / 4" in hint(checks.check_bonferroni(uncorrected))


# --- lab 2 --------------------------------------------------------------------------------


def test_a_schema_without_age_bounds_is_told_it_misses_impossible_ages():
    reference = people_schema().to_dict()
    reference["columns"]["age"].pop("max")
    reference["columns"]["age"].pop("min")
    for key in ("mean_min", "mean_max", "std_max"):
        for column in reference["columns"].values():
            column.pop(key, None)
    message = hint(checks.check_schema(Schema.from_dict(reference)))
    assert "impossible ages" in message and "min=0 and max=120" in message


def test_a_schema_that_rejects_clean_data_is_told_so():
    strict = people_schema().to_dict()
    strict["columns"]["income"]["max"] = 1000
    assert "rejects clean data" in hint(checks.check_schema(Schema.from_dict(strict)))


def test_a_repair_that_edits_its_input_is_told_to_copy():
    def in_place(df):
        df.loc[df.index[0], "city"] = "Paris"
        return df

    assert "work on a copy" in hint(checks.check_repair(in_place))


@pytest.fixture(scope="module")
def fixtures():
    return lab_fixtures(seed=0, n_estimators=20)


def test_a_performance_test_that_cannot_fail_is_caught(fixtures):
    def test_accuracy_is_at_least_the_minimum(model, test_df):
        assert model is not None

    def test_predictions_are_not_degenerate(model, test_df):
        assert model is not None

    message = hint(checks.check_performance_tests(
        [test_accuracy_is_at_least_the_minimum, test_predictions_are_not_degenerate],
        model=fixtures["model"], test_df=fixtures["test_df"],
    ))
    assert "passes on a model that always predicts the most frequent class" in message


def test_an_integration_test_on_clean_data_misses_a_pipeline_without_imputer(fixtures):
    def test_pipeline_trains_on_data_with_gaps(make_pipeline, test_df):
        X, y = test_df.drop(columns="target"), test_df["target"]
        predictions = make_pipeline(0).fit(X, y).predict(X)
        assert len(predictions) == len(X) and set(predictions) <= {0, 1}
        assert not np.isnan(predictions.astype(float)).any()

    def test_training_is_reproducible(make_pipeline, test_df):
        X, y = test_df.drop(columns="target"), test_df["target"]
        first = make_pipeline(3).fit(X, y).predict(X)
        assert (first == make_pipeline(3).fit(X, y).predict(X)).all()

    message = hint(checks.check_integration_tests(
        [test_pipeline_trains_on_data_with_gaps, test_training_is_reproducible],
        make_pipeline=fixtures["make_pipeline"],
        train_with_gaps=fixtures["train_with_gaps"], test_df=fixtures["test_df"],
    ))
    assert "without an imputer" in message


# --- lab 3 --------------------------------------------------------------------------------


def test_a_regression_rule_without_tolerance_is_told_about_floats():
    def strict_rule(baseline, candidate, max_regression):
        return [m for m in baseline if baseline[m] - candidate[m] > max_regression]

    assert "floating point" in hint(checks.check_regressed_metrics(strict_rule))


def test_an_interval_touching_zero_is_no_evidence():
    def reader(interval):
        return "better" if interval.low >= 0 else "worse" if interval.high < 0 else "no evidence"

    assert "starts exactly at zero" in hint(checks.check_interval_reading(reader))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min_accuracy: 90\nmin_recall: 90\nmax_regression: 1\n", "does not load"),
        ("min_accuracy: 0.9\nmax_regression: 0.01\n", "no min_recall rule"),
        ("min_accuracy: 0.9\nmin_recall: 0.9\nmax_regression: 0.02\n", "max_regression is 0.02"),
    ],
)
def test_gate_yaml_mistakes_are_named(text, expected):
    assert expected in hint(checks.check_gate_yaml(lambda: text))


# --- lab 4 --------------------------------------------------------------------------------


def test_a_canary_that_judges_without_enough_labels_is_told_to_wait():
    def impatient(n_pairs, estimate, lower, upper, margin, min_labels):
        return "abort" if upper < 0 else "promote" if lower > -2 * margin else "wait"

    assert "fewer than min_labels" in hint(checks.check_canary_decision(impatient))


def test_python_hash_for_ab_groups_is_caught_across_processes():
    def assign_group(user_id, share_b):
        return "B" if (hash(user_id) % 1000) / 1000 < share_b else "A"

    assert "salted per process" in hint(checks.check_assign_group(assign_group))


def test_a_sha256_assignment_passes():
    def assign_group(user_id, share_b):
        bucket = int(hashlib.sha256(user_id.encode()).hexdigest()[:15], 16) / 16**15
        return "B" if bucket < share_b else "A"

    assert checks.check_assign_group(assign_group).passed


def test_a_sample_size_with_one_sided_z_is_off():
    from scipy import stats

    def one_sided(p_a, p_b, alpha, power):
        z = stats.norm.ppf(1 - alpha) + stats.norm.ppf(power)
        return int(np.ceil(z**2 * (p_a * (1 - p_a) + p_b * (1 - p_b)) / (p_b - p_a) ** 2))

    assert "users per group" in hint(checks.check_users_needed(one_sided))



def test_the_margin_cases_expect_what_the_library_picks():
    from mlcicd.labs.checks_release import _MARGIN_CASES
    from mlcicd.oc import largest_safe_margin

    for curves, worse_by, max_risk, expected, story in _MARGIN_CASES:
        assert largest_safe_margin(curves, worse_by, max_risk) == expected, story


def test_a_margin_read_from_the_estimate_is_told_about_the_upper_bound():
    def estimate(curves, worse_by, max_risk):
        safe = [m for m, c in curves.items()
                if c.loc[(c["difference"] + worse_by).abs().idxmin(), "promote_rate"] <= max_risk]
        return max(safe) if safe else None

    assert "upper bound is 0.14" in hint(checks.check_pick_margin(estimate))


def test_served_answers_compared_as_positions_are_told_to_use_labels():
    def positions(offline, served, index):
        rows = [i for i, (a, b) in enumerate(zip(offline, served, strict=True))
                if str(a) != str(b)]
        return len(rows) / len(index), rows

    assert "not their positions" in hint(checks.check_served_mismatches(positions))


# --- lab 5 --------------------------------------------------------------------------------


def test_an_alarm_from_the_first_window_regardless_is_wrong():
    assert "expected 500" in hint(checks.check_first_drifted_window(lambda r, s, w, a: 0))


def test_a_monitor_that_promotes_a_tie_is_told_a_tie_is_not_a_promotion():
    def tie(drifted, accuracy, minimum, gate, estimate, lower, upper, margin):
        if not drifted and accuracy >= minimum:
            return "no retrain"
        return "promoted" if gate and estimate >= 0 else "rejected"

    assert "a tie is not a promotion" in hint(checks.check_monitor_decision(tie))
