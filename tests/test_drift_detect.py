"""detect_drift: verdicts, the report, false alarms, and bad input handled without a crash."""

from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mlcicd.drift import DriftReport, detect_drift, make_drifted
from mlcicd.errors import InputError
from mlcicd.io import write_json

matplotlib.use("Agg")


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift * 10, 10, n),
            "income": rng.lognormal(10, 0.5, n),
            "score": rng.integers(0, 5, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
        }
    )


def test_same_distribution_is_not_flagged():
    rng = np.random.default_rng(0)
    report = detect_drift(_frame(rng, 500), _frame(rng, 400))
    assert not report.drifted
    assert report.drifted_features == []
    assert "0 of 4" in report.reason


def test_a_shifted_feature_is_flagged_and_named():
    rng = np.random.default_rng(1)
    report = detect_drift(_frame(rng, 500), _frame(rng, 400, shift=0.5))
    assert report.drifted
    assert report.drifted_features == ["age"]
    assert report.ranked()[0].feature == "age"


def test_simulated_covariate_drift_is_detected_on_both_features():
    reference, _ = make_drifted("covariate", 0.0, n=500, seed=0)
    current, _ = make_drifted("covariate", 0.3, n=500, seed=1)
    assert detect_drift(reference, current).drifted_features == ["x1", "x2"]


def test_false_alarm_rate_stays_within_alpha_over_many_seeds():
    # 200 data sets with nothing drifted: the share flagged must stay within alpha plus a
    # three-sigma binomial margin. Fixed seeds: the outcome is the same on every run.
    alpha, runs = 0.05, 200
    alarms = 0
    for seed in range(runs):
        rng = np.random.default_rng(10_000 + seed)
        alarms += detect_drift(_frame(rng, 150), _frame(rng, 150), alpha=alpha).drifted
    margin = 3 * math.sqrt(alpha * (1 - alpha) / runs)
    assert alarms / runs <= alpha + margin


def test_bonferroni_is_stricter_than_no_correction():
    rng = np.random.default_rng(5)
    ref, cur = _frame(rng, 300), _frame(rng, 300, shift=0.12)
    plain = detect_drift(ref, cur, correction="none").to_frame()
    strict = detect_drift(ref, cur, correction="bonferroni").to_frame()
    assert (strict["corrected_pvalue"] >= plain["corrected_pvalue"]).all()
    assert (strict["pvalue"] == plain["pvalue"]).all()


def test_share_rule_needs_enough_drifted_features():
    rng = np.random.default_rng(1)
    ref, cur = _frame(rng, 500), _frame(rng, 400, shift=0.5)
    assert detect_drift(ref, cur, drift_share=0.25).drifted
    assert not detect_drift(ref, cur, drift_share=0.5).drifted


def test_report_table_markdown_and_json_carry_every_feature():
    rng = np.random.default_rng(2)
    report = detect_drift(_frame(rng, 200), _frame(rng, 200, shift=1.0))
    table = report.to_frame()
    assert list(table.columns) == [
        "feature", "test", "statistic", "pvalue", "corrected_pvalue", "psi", "wasserstein",
        "drifted", "note",
    ]
    assert table.set_index("feature").loc["city", "test"] == "chi2"
    assert math.isnan(table.set_index("feature").loc["city", "psi"])
    markdown = report.to_markdown()
    assert "**Data drift: detected**" in markdown
    assert all(f"`{name}`" in markdown for name in ["age", "income", "score", "city"])
    assert json.loads(json.dumps(report.to_dict(), allow_nan=False))["drifted"] is True


def test_report_json_file_has_no_nan(tmp_path):
    rng = np.random.default_rng(2)
    report = detect_drift(_frame(rng, 100), _frame(rng, 100))
    path = write_json(tmp_path / "drift.json", report.to_dict())
    assert "NaN" not in path.read_text()


def test_plot_shows_the_most_drifted_features():
    rng = np.random.default_rng(3)
    report = detect_drift(_frame(rng, 200), _frame(rng, 200, shift=1.0))
    fig = report.plot(top=2)
    try:
        titles = [ax.get_title() for ax in fig.axes]
        assert len(titles) == 2 and titles[0].startswith("age")
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_excluded_and_one_sided_columns():
    rng = np.random.default_rng(4)
    ref = _frame(rng, 100).assign(target=1, old=2.0)
    cur = _frame(rng, 100).assign(target=0, new="x")
    report = detect_drift(ref, cur, exclude=["target"])
    notes = report.to_frame().set_index("feature")["note"]
    assert "target" not in notes.index
    assert notes["old"] == "only in reference" and notes["new"] == "only in current"
    assert report.untested_features == ["old", "new"]


def test_text_against_numbers_and_all_missing_columns_are_marked_not_tested():
    rng = np.random.default_rng(6)
    ref = _frame(rng, 100).assign(code=1.5, empty=np.nan)
    cur = _frame(rng, 100).assign(code="A1", empty=3.0)
    rows = detect_drift(ref, cur).to_frame().set_index("feature")
    assert rows.loc["code", "test"] == "not tested"
    assert "numbers in reference but text in current" in rows.loc["code", "note"]
    assert rows.loc["empty", "note"] == "no values in reference"
    assert not rows.loc["code", "drifted"]


def test_missing_values_are_dropped_and_noted():
    rng = np.random.default_rng(7)
    cur = _frame(rng, 100)
    cur.loc[:9, "age"] = np.nan
    rows = detect_drift(_frame(rng, 100), cur).to_frame().set_index("feature")
    assert "10 current" in rows.loc["age", "note"]


@pytest.mark.parametrize(
    ("reference", "current", "kwargs", "message"),
    [
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}), {}, "no column in common"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": []}), {}, "current data has no rows"),
        (pd.DataFrame({"a": [1.0]}), [[1.0]], {}, "current must be a pandas DataFrame"),
        (pd.DataFrame({"a": [np.nan]}), pd.DataFrame({"a": [1.0]}), {}, "no feature could"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [1.0]}), {"alpha": 1.5}, "alpha"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [1.0]}), {"correction": "x"}, "correc"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [1.0]}), {"drift_share": 0}, "share"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [1.0]}), {"columns": ["z"]}, "'z'"),
        (pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]), pd.DataFrame({"a": [1.0]}), {},
         "repeated column"),
    ],
)
def test_bad_input_is_one_clear_error(reference, current, kwargs, message):
    with pytest.raises(InputError, match=message):
        detect_drift(reference, current, **kwargs)


def test_report_is_a_dataclass_with_the_decision_rule():
    rng = np.random.default_rng(8)
    report = detect_drift(_frame(rng, 50), _frame(rng, 50), alpha=0.01, correction="bonferroni")
    assert isinstance(report, DriftReport)
    assert (report.alpha, report.correction, report.n_reference) == (0.01, "bonferroni", 50)
