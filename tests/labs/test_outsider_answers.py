"""An outsider's answers to the labs: each wrong one gets NOT YET, each right variant passes.

Written by someone who did not write the labs or their checks, after reading only the
exercises: plausible slips (a different floor for empty bins, bins cut on the wrong
sample, a rule that never aborts, a test that asserts something always true, a repair
that drops every row) and answers that are right but not written like the reference
(``np.digitize`` for ``searchsorted``, ``alpha / m`` for ``p * m``, JSON for YAML). The
second list guards against a check so strict it rejects a correct learner.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlcicd.datasets import TARGET
from mlcicd.drift import detect_drift, labelling_rule
from mlcicd.labs.testrun import lab_fixtures
from mlcicd.training import evaluate, split_xy
from mlcicd.validation import ColumnSchema, Schema

sys.path.insert(0, str(Path(__file__).parent))
from _corpus import run_check  # noqa: E402 - the corpora's shared harness
from wrong_lab2 import _columns, _good_repair  # noqa: E402 - the corpus's own helpers

MIN_ACCURACY = 0.9
WRONG: list[tuple[str, str, object]] = []
RIGHT: list[tuple[str, str, object]] = []


def wrong(exercise: str, mistake: str):
    def register(answer):
        WRONG.append((exercise, mistake, answer))
        return answer
    return register


def right(exercise: str, how: str):
    def register(answer):
        RIGHT.append((exercise, how, answer))
        return answer
    return register


def _named(functions, names):
    for function, name in zip(functions, names, strict=True):
        function.__name__ = name
    return list(functions)


# === Lab 1: data drift ====================================================================
@wrong("covariate_shift", "moves x1 the other way")
def shift_minus(X, shift):
    moved = X.assign(x1=X["x1"] - shift)
    return moved, labelling_rule(moved)


@wrong("covariate_shift", "shift in standard deviations of x1")
def shift_in_sd(X, shift):
    moved = X.assign(x1=X["x1"] + shift * X["x1"].std())
    return moved, labelling_rule(moved)


@right("covariate_shift", "copy then assign a column")
def shift_copy(X, shift):
    moved = X.copy()
    moved["x1"] = moved["x1"] + shift
    return moved, np.asarray(labelling_rule(moved))


def _psi(edges_from, reference, current, bins=10, floor=1e-4, formula="psi"):
    edges = np.unique(np.quantile(edges_from, np.linspace(0, 1, bins + 1)[1:-1]))

    def shares(values):
        counts = np.bincount(np.searchsorted(edges, values, side="right"),
                             minlength=edges.size + 1)
        return np.maximum(counts / len(values), floor)

    ref, cur = shares(np.asarray(reference)), shares(np.asarray(current))
    if formula == "kl":
        return float(np.sum(cur * np.log(cur / ref)))
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@wrong("psi", "bins cut at the current sample's quantiles")
def psi_current_bins(reference, current, bins=10):
    return _psi(current, reference, current, bins)


@wrong("psi", "bins cut at the pooled sample's quantiles")
def psi_pooled_bins(reference, current, bins=10):
    return _psi(np.concatenate([reference, current]), reference, current, bins)


@wrong("psi", "an empty bin gets 1e-6, not 1e-4")
def psi_tiny_floor(reference, current, bins=10):
    return _psi(reference, reference, current, bins, floor=1e-6)


@wrong("psi", "one-way Kullback-Leibler divergence, not PSI")
def psi_kl(reference, current, bins=10):
    return _psi(reference, reference, current, bins, formula="kl")


@wrong("psi", "adds 1e-4 to every share instead of flooring empty bins")
def psi_additive(reference, current, bins=10):
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref = np.bincount(np.searchsorted(edges, reference, side="right"),
                      minlength=edges.size + 1) / len(reference) + 1e-4
    cur = np.bincount(np.searchsorted(edges, current, side="right"),
                      minlength=edges.size + 1) / len(current) + 1e-4
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@right("psi", "np.digitize instead of searchsorted")
def psi_digitize(reference, current, bins=10):
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref = np.bincount(np.digitize(reference, edges), minlength=edges.size + 1) / len(reference)
    cur = np.bincount(np.digitize(current, edges), minlength=edges.size + 1) / len(current)
    ref, cur = np.clip(ref, 1e-4, None), np.clip(cur, 1e-4, None)
    return float(((cur - ref) * np.log(cur / ref)).sum())


@right("psi", "a loop over bins with a histogram")
def psi_histogram(reference, current, bins=10):
    inner = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    total = 0.0
    ref_counts, _ = np.histogram(reference, edges)
    cur_counts, _ = np.histogram(current, edges)
    for r, c in zip(ref_counts, cur_counts, strict=True):
        r_share = max(r / len(reference), 1e-4)
        c_share = max(c / len(current), 1e-4)
        total += (c_share - r_share) * math.log(c_share / r_share)
    return total


@wrong("bonferroni", "multiplies alpha by the number of features")
def alpha_times_m(pvalues, alpha):
    return [name for name, p in pvalues.items() if p < alpha * len(pvalues)]


@wrong("bonferroni", "returns the corrected p-values, not the names")
def corrected_values(pvalues, alpha):
    return [p * len(pvalues) for p in pvalues.values() if p * len(pvalues) < alpha]


@right("bonferroni", "alpha / m threshold, sorted by p-value")
def alpha_over_m(pvalues, alpha):
    threshold = alpha / len(pvalues) if pvalues else 0.0
    return sorted((n for n, p in pvalues.items() if p < threshold), key=pvalues.get)


# === Lab 2: testing ML ====================================================================
@wrong("schema", "scores as percentages (max 100)")
def schema_percent():
    return Schema(columns=_columns(score=ColumnSchema("score", dtype="float", nullable=False,
                                                      min=0, max=100)), max_duplicate_rows=0)


@wrong("schema", "income may never be missing")
def schema_income_required():
    return Schema(columns=_columns(income=ColumnSchema("income", dtype="float", nullable=False,
                                                       min=0)), max_duplicate_rows=0)


@right("schema", "columns in another order")
def schema_reordered():
    return Schema(columns=tuple(reversed(_columns())), max_duplicate_rows=0)


@wrong("repair", "drops every row")
def repair_nothing_left(df):
    return df.iloc[0:0].copy()


@wrong("repair", "drops rows with missing income instead of filling them")
def repair_drop_missing_income(df):
    out = df.drop_duplicates().copy()
    out = out[out["income"].notna()]
    return _good_repair(out)


@right("repair", "same steps, written with query and a mask on a copy")
def repair_other_style(df):
    out = df.copy().drop_duplicates()
    out["weight_kg"] = pd.to_numeric(out["weight_kg"], errors="coerce")
    out["height_cm"] = np.where(out["height_cm"] < 3, out["height_cm"] * 100, out["height_cm"])
    out["city"] = out["city"].str.title()
    out["income"] = out["income"].fillna(out["income"].median())
    out = out.query("0 <= age <= 120 and income >= 0 and 0 <= score <= 1")
    return out.dropna(subset=["weight_kg"]).reset_index(drop=True)


def _balance(model, test_df):
    X, _ = split_xy(test_df, TARGET)
    predictions = pd.Series(model.predict(X)).astype(str)
    shares = predictions.value_counts(normalize=True)
    assert min(shares.get("0", 0.0), shares.get("1", 0.0)) >= 0.10


def _accuracy(model, test_df):
    assert evaluate(model, test_df, TARGET)["accuracy"] >= MIN_ACCURACY


PERF = ("test_accuracy_is_at_least_the_minimum", "test_predictions_are_not_degenerate")


def _always_true(model, test_df):
    X, _ = split_xy(test_df, TARGET)
    assert len(model.predict(X)) >= 0


def _truthy_accuracy(model, test_df):
    assert evaluate(model, test_df, TARGET)["accuracy"]


def _accuracy_by_hand(model, test_df):
    X, y = split_xy(test_df, TARGET)
    accuracy = float(np.mean(model.predict(X) == y.to_numpy()))
    assert accuracy >= MIN_ACCURACY, accuracy


wrong("performance_tests", "balance test asserts len(x) >= 0")(
    _named([_accuracy, _always_true], PERF))
wrong("performance_tests", "accuracy test asserts the accuracy is truthy")(
    _named([_truthy_accuracy, _balance], PERF))
right("performance_tests", "accuracy by hand, balance with value_counts")(
    _named([_accuracy_by_hand, _balance], PERF))

INTEGRATION = ("test_pipeline_trains_on_data_with_gaps", "test_training_is_reproducible")


def _gaps(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    predictions = make_pipeline(0).fit(X, y).predict(X_test)
    assert len(predictions) == len(X_test) and not pd.isna(predictions).any()


def _reproducible(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    runs = [make_pipeline(3).fit(X, y).predict(X_test) for _ in range(2)]
    assert np.array_equal(runs[0], runs[1])


def _gaps_not_none(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    assert make_pipeline(0).fit(X, y).predict(X) is not None


def _reproducible_one_fit(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    fitted = make_pipeline(7).fit(X, y)
    assert (fitted.predict(X) == fitted.predict(X)).all()


wrong("integration_tests", "gaps test asserts predictions is not None")(
    _named([_gaps_not_none, _reproducible], INTEGRATION))
wrong("integration_tests", "reproducibility compares one fitted model with itself")(
    _named([_gaps, _reproducible_one_fit], INTEGRATION))
wrong("integration_tests", "forgets 'only known classes' (the exercise asks for it)")(
    _named([_gaps, _reproducible], INTEGRATION))


def _gaps_known_classes(make_pipeline, train_with_gaps, test_df):
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    predictions = make_pipeline(0).fit(X, y).predict(X_test)
    assert len(predictions) == len(X_test) and not pd.isna(predictions).any()
    assert np.isin(predictions, y.unique()).all()


right("integration_tests", "np.isin, np.array_equal, another seed")(
    _named([_gaps_known_classes, _reproducible], INTEGRATION))


# === Lab 3: the pull-request check ========================================================
@wrong("regressed_metrics", "max_regression read as percent points (x 100)")
def regressed_percent(baseline, candidate, max_regression):
    return [n for n, v in baseline.items() if candidate[n] < v - max_regression / 100 - 1e-9]


@wrong("regressed_metrics", "stops at the first regressed metric")
def regressed_first_only(baseline, candidate, max_regression):
    for name, value in baseline.items():
        if candidate[name] < value - max_regression - 1e-9:
            return [name]
    return []


@wrong("regressed_metrics", "a tolerance of 1e-3 lets real regressions through")
def regressed_loose(baseline, candidate, max_regression):
    return [n for n, v in baseline.items() if candidate[n] < v - max_regression - 1e-3]


@right("regressed_metrics", "round the drop, sorted names")
def regressed_rounded(baseline, candidate, max_regression):
    return sorted(n for n in baseline if round(baseline[n] - candidate[n], 9) > max_regression)


@wrong("interval_reading", "never says worse (only 'contains 0 or not')")
def interval_never_worse(interval):
    return "no evidence" if interval.low <= 0 <= interval.high else "better"


@wrong("interval_reading", "an upper bound of exactly 0 reads as worse")
def interval_high_zero(interval):
    if interval.low > 0:
        return "better"
    return "worse" if interval.high <= 0 else "no evidence"


@right("interval_reading", "one expression on the sign of each bound")
def interval_compact(interval):
    return {(True, False): "better", (False, True): "worse"}.get(
        (interval.low > 0, interval.high < 0), "no evidence")


@wrong("gate_yaml", "keys with dashes")
def gate_dashes():
    return "min-accuracy: 0.90\nmin-recall: 0.90\nmax-regression: 0.01\n"


@wrong("gate_yaml", "a 10-point regression limit")
def gate_ten_points():
    return "min_accuracy: 0.90\nmin_recall: 0.90\nmax_regression: 0.1\n"


@right("gate_yaml", "JSON (a subset of YAML)")
def gate_json():
    return json.dumps({"max_regression": 0.01, "min_recall": 0.9, "min_accuracy": 0.9})


# === Lab 4: deployment strategies =========================================================
def _canary(n_pairs, estimate, lower, upper, margin, min_labels, *, strict=False, abort="abort",
            fixed_min=None):
    if n_pairs < (min_labels if fixed_min is None else fixed_min):
        return "wait"
    worse, close = upper < 0, lower > -2 * margin
    if worse and close:
        good = estimate > -margin if strict else estimate >= -margin
        return "promote" if good else abort
    if worse:
        return abort
    return "promote" if close else "wait"


@wrong("canary_decision", "never aborts (waits instead)")
def canary_never_aborts(n_pairs, estimate, lower, upper, margin, min_labels):
    return _canary(n_pairs, estimate, lower, upper, margin, min_labels, abort="wait")


@wrong("canary_decision", "an estimate of exactly -margin aborts (> instead of >=)")
def canary_strict_estimate(n_pairs, estimate, lower, upper, margin, min_labels):
    return _canary(n_pairs, estimate, lower, upper, margin, min_labels, strict=True)


@wrong("canary_decision", "ignores min_labels (always 30)")
def canary_fixed_min_labels(n_pairs, estimate, lower, upper, margin, min_labels):
    return _canary(n_pairs, estimate, lower, upper, margin, min_labels, fixed_min=30)


@right("canary_decision", "decides in another order")
def canary_other_order(n_pairs, estimate, lower, upper, margin, min_labels):
    if n_pairs < min_labels:
        return "wait"
    if lower > -2 * margin:
        return "abort" if upper < 0 and estimate < -margin else "promote"
    return "abort" if upper < 0 else "wait"


def _unit(user_id, algorithm="sha256"):
    digest = hashlib.new(algorithm, user_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@wrong("assign_group", "share_b taken as a percentage")
def group_percent(user_id, share_b):
    return "B" if _unit(user_id) * 100 < share_b else "A"


@wrong("assign_group", "the first byte / 255: share 1 leaves some users in A")
def group_first_byte(user_id, share_b):
    digest = hashlib.sha256(user_id.encode("utf-8")).digest()
    return "B" if digest[0] / 255 < share_b else "A"


@right("assign_group", "hexdigest modulo 10,000, B at the top of the range")
def group_hex_top(user_id, share_b):
    bucket = int(hashlib.sha256(user_id.encode()).hexdigest(), 16) % 10_000 / 10_000
    return "B" if bucket >= 1 - share_b else "A"


@right("assign_group", "MD5 instead of SHA-256 (also stable across processes)")
def group_md5(user_id, share_b):
    return "B" if _unit(user_id, "md5") < share_b else "A"


def _spread(p_a, p_b, alpha, power, pooled=True):
    z_alpha, z_power = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    p_bar = (p_a + p_b) / 2
    null = math.sqrt(2 * p_bar * (1 - p_bar)) if pooled else math.sqrt(
        p_a * (1 - p_a) + p_b * (1 - p_b))
    return z_alpha * null + z_power * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))


@wrong("users_needed", "both groups together (2n)")
def users_total(p_a, p_b, alpha, power):
    return 2 * math.ceil(_spread(p_a, p_b, alpha, power) ** 2 / (p_b - p_a) ** 2)


@wrong("users_needed", "unpooled variance under the null")
def users_unpooled(p_a, p_b, alpha, power):
    return math.ceil(_spread(p_a, p_b, alpha, power, pooled=False) ** 2 / (p_b - p_a) ** 2)


@wrong("users_needed", "z of 1 - power")
def users_wrong_power(p_a, p_b, alpha, power):
    return users_needed_right(p_a, p_b, alpha, 1 - power)


@right("users_needed", "isf and a -(-x // 1) ceiling")
def users_needed_right(p_a, p_b, alpha, power):
    z = stats.norm.isf(alpha / 2) * math.sqrt((p_a + p_b) * (1 - (p_a + p_b) / 2))
    z += stats.norm.isf(1 - power) * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
    return int(-(-(z**2 / (p_a - p_b) ** 2) // 1))


# === Lab 5: end to end ====================================================================
def _windows(stream, window):
    return range(0, len(stream) - window + 1, window)


@wrong("first_drifted_window", "skips the first window")
def window_skip_first(reference, stream, window, alpha):
    for start in _windows(stream, window)[1:]:
        if detect_drift(reference, stream.iloc[start:start + window], alpha=alpha).drifted:
            return start
    return None


@wrong("first_drifted_window", "-1 instead of None when nothing drifts")
def window_minus_one(reference, stream, window, alpha):
    found = window_enumerate(reference, stream, window, alpha)
    return -1 if found is None else found


@wrong("first_drifted_window", "compares each window with the stream's first window")
def window_first_as_reference(reference, stream, window, alpha):
    return window_enumerate(stream.iloc[:window], stream, window, alpha)


@right("first_drifted_window", "enumerate over chunk numbers")
def window_enumerate(reference, stream, window, alpha):
    for number in range(len(stream) // window):
        chunk = stream.iloc[number * window:(number + 1) * window]
        if detect_drift(reference, chunk, alpha=alpha).drifted:
            return number * window
    return None


def _monitor(drifted, accuracy, min_accuracy, passes, estimate, lower, upper, margin):
    ok = accuracy >= min_accuracy
    if not drifted and ok:
        return "no retrain"
    if not passes:
        return "rejected"
    if ok:
        return "promoted" if lower > 0 else "rejected"
    if upper < 0 and lower > -2 * margin:
        return "promoted" if estimate >= -margin else "rejected"
    return "promoted" if lower > -2 * margin else "rejected"


@wrong("monitor_decision", "ignores drift: retrains only on low accuracy")
def monitor_ignores_drift(drifted, accuracy, min_accuracy, passes, estimate, lower, upper,
                          margin):
    return _monitor(False, accuracy, min_accuracy, passes, estimate, lower, upper, margin)


@wrong("monitor_decision", "production fine: promotes on a positive estimate")
def monitor_estimate(drifted, accuracy, min_accuracy, passes, estimate, lower, upper, margin):
    if drifted and accuracy >= min_accuracy and passes:
        return "promoted" if estimate > 0 else "rejected"
    return _monitor(drifted, accuracy, min_accuracy, passes, estimate, lower, upper, margin)


@wrong("monitor_decision", "production failing: any candidate that passes the gate")
def monitor_any_gated(drifted, accuracy, min_accuracy, passes, estimate, lower, upper, margin):
    if accuracy < min_accuracy and passes:
        return "promoted"
    return _monitor(drifted, accuracy, min_accuracy, passes, estimate, lower, upper, margin)


@right("monitor_decision", "a table of cases")
def monitor_table(drifted, accuracy, min_accuracy, passes, estimate, lower, upper, margin):
    production_ok = not accuracy < min_accuracy
    if production_ok and not drifted:
        return "no retrain"
    shown_better = lower > 0
    close = lower > -2 * margin
    surely_worse = upper < 0
    if not passes or (production_ok and not shown_better):
        return "rejected"
    if production_ok or (close and not (surely_worse and estimate < -margin)):
        return "promoted"
    return "rejected"


# === the checks ===========================================================================
@pytest.fixture(scope="module")
def fixtures():
    return lab_fixtures(seed=0, n_estimators=20)


@pytest.mark.parametrize(("exercise", "mistake", "answer"), WRONG,
                         ids=[f"{e}: {m}" for e, m, _ in WRONG])
def test_outsider_wrong_answer_gets_not_yet(exercise, mistake, answer, fixtures):
    result = run_check(exercise, answer, fixtures)
    assert not result.passed, f"{mistake!r} passed: {result}"
    assert str(result).startswith("NOT YET: ")


@pytest.mark.parametrize(("exercise", "how", "answer"), RIGHT,
                         ids=[f"{e}: {h}" for e, h, _ in RIGHT])
def test_outsider_right_answer_passes(exercise, how, answer, fixtures):
    result = run_check(exercise, answer, fixtures)
    assert result.passed, f"{how!r} rejected: {result}"


def test_every_lab_has_six_wrong_and_two_right_outsider_answers():
    lab_of = {"covariate_shift": 1, "psi": 1, "bonferroni": 1, "schema": 2, "repair": 2,
              "performance_tests": 2, "integration_tests": 2, "regressed_metrics": 3,
              "interval_reading": 3, "gate_yaml": 3, "canary_decision": 4, "assign_group": 4,
              "users_needed": 4, "first_drifted_window": 5, "monitor_decision": 5}
    wrong_per_lab = pd.Series([lab_of[e] for e, _, _ in WRONG]).value_counts()
    right_per_lab = pd.Series([lab_of[e] for e, _, _ in RIGHT]).value_counts()
    assert wrong_per_lab.reindex(range(1, 6)).min() >= 6, wrong_per_lab
    assert right_per_lab.reindex(range(1, 6)).min() >= 2, right_per_lab
