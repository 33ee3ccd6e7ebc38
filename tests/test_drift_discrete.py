"""Integer-coded features get a test for discrete data, and categories are counted right.

KS assumes a continuous distribution: on a feature with a handful of levels its
p-values are far too large, so it almost never alarms and misses real shifts.
detect_drift sends such features to chi-squared; these tests measure what a user would
notice (how often each test alarms) over a few hundred seeded samples, with a
Clopper-Pearson bound on every rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlcicd.drift import ChiSquared, detect_drift
from mlcicd.errors import InputError

ALPHA = 0.05
LEVELS = [0.4, 0.3, 0.2, 0.1]
SHIFTED = [0.32, 0.30, 0.23, 0.15]


def alarm_counts(current_shares: list[float], trials: int) -> dict[str, int]:
    """No-drift (or shifted) samples of a 4-level feature: alarms of chi2 and of KS."""
    alarms = {"chi2": 0, "ks": 0}
    for trial in range(trials):
        rng = np.random.default_rng(20_000 + trial)
        reference = pd.DataFrame({"level": rng.choice(4, 200, p=LEVELS)})
        current = pd.DataFrame({"level": rng.choice(4, 200, p=current_shares)})
        alarms["chi2"] += detect_drift(reference, current, alpha=ALPHA).drifted
        alarms["ks"] += detect_drift(
            reference, current, alpha=ALPHA, feature_tests={"level": "ks"}
        ).drifted
    return alarms


def interval(successes: int, trials: int) -> tuple[float, float]:
    ci = stats.binomtest(successes, trials).proportion_ci(0.99, method="exact")
    return ci.low, ci.high


def test_a_four_level_feature_is_tested_with_chi_squared_and_says_so():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"level": rng.choice(4, 300, p=LEVELS), "size": rng.normal(size=300)})
    rows = detect_drift(frame, frame.sample(frac=1, random_state=1)).to_frame()
    rows = rows.set_index("feature")
    assert rows.loc["level", "test"] == "chi2"
    assert "integer-coded, 4 levels" in rows.loc["level", "note"]
    assert rows.loc["size", "test"] == "ks"


def test_chi_squared_alarms_at_its_nominal_rate_where_ks_hardly_ever_does():
    trials = 400
    alarms = alarm_counts(LEVELS, trials)
    low, high = interval(alarms["chi2"], trials)
    assert low <= ALPHA <= high, (alarms, low, high)
    # KS on the same samples: far below the 5 % it promises (it cannot see ties).
    assert interval(alarms["ks"], trials)[1] < ALPHA, alarms


def test_chi_squared_finds_a_moderate_shift_more_often_than_ks():
    trials = 300
    alarms = alarm_counts(SHIFTED, trials)
    assert interval(alarms["chi2"], trials)[0] > interval(alarms["ks"], trials)[1], alarms


def test_the_rule_can_be_turned_off_or_overridden_per_feature():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"level": rng.choice(4, 200), "code": rng.integers(0, 50, 200)})
    cur = pd.DataFrame({"level": rng.choice(4, 200), "code": rng.integers(0, 50, 200)})
    assert detect_drift(ref, cur).to_frame().set_index("feature")["test"].to_dict() == {
        "level": "chi2", "code": "ks"}
    off = detect_drift(ref, cur, discrete_max_levels=0).to_frame()
    assert off["test"].tolist() == ["ks", "ks"]
    forced = detect_drift(ref, cur, feature_tests={"level": "ks", "code": "chi2"}).to_frame()
    assert forced["test"].tolist() == ["ks", "chi2"]


def test_fractional_values_keep_a_feature_continuous():
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.choice([0.0, 0.5, 1.0], 200)})
    assert detect_drift(ref, ref.copy()).to_frame()["test"].tolist() == ["ks"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"discrete_max_levels": -1}, "discrete_max_levels"),
        ({"discrete_max_levels": 2.5}, "discrete_max_levels"),
        ({"feature_tests": {"level": "anova"}}, "expected one of ks, chi2"),
        ({"feature_tests": {"nope": "ks"}}, "not tested: nope"),
        ({"feature_tests": {"city": "ks"}}, "'city' holds text"),
    ],
)
def test_bad_test_choices_are_one_clear_error(kwargs, message):
    frame = pd.DataFrame({"level": [0, 1, 2, 3] * 10, "city": ["a", "b"] * 20})
    with pytest.raises(InputError, match=message):
        detect_drift(frame, frame, **kwargs)


def test_nan_in_a_plain_list_is_missing_not_a_category():
    result = ChiSquared().test(["a", "b", float("nan"), "a"], ["a", "b", "b", float("nan")])
    assert "missing values dropped: 1 reference, 1 current" in result.note
    assert "nan" not in result.note.replace("missing values dropped", "")
    assert (result.n_reference, result.n_current) == (3, 3)


def test_one_and_one_point_zero_are_the_same_category():
    result = ChiSquared().test([1, 2, 2, 1], [1.0, 2.0, 2.0, 1.0])
    assert (result.statistic, result.pvalue) == (0.0, 1.0)
    assert "categories not in reference" not in result.note
    mixed = ChiSquared().test(pd.Series([1, 2, 2, 1]), pd.Series([1.0, 2.0, np.nan, 2.0, 1.0]))
    assert mixed.statistic == 0.0 and "1 current" in mixed.note


def test_the_cli_routes_and_overrides_like_the_library(tmp_path, capsys):
    """The routing and the overrides through ``mlcicd.cli.main`` in this process (the
    command line parsed as the console script parses it); the bad option once through a
    real ``python -m mlcicd`` process, where its one-line error is what a person sees."""
    import json
    import subprocess
    import sys

    from mlcicd.cli import main
    from mlcicd.commands import drift as cli
    from mlcicd.drift import detect

    assert (cli.DISCRETE_MAX_LEVELS, cli.FEATURE_TESTS) == (
        detect.DISCRETE_MAX_LEVELS, detect.FEATURE_TESTS)
    rng = np.random.default_rng(9)
    for name in ("ref", "cur"):
        pd.DataFrame({"level": rng.choice(4, 200), "x": rng.normal(size=200)}).to_csv(
            tmp_path / f"{name}.csv", index=False)
    args = ["drift", "--reference", str(tmp_path / "ref.csv"),
            "--current", str(tmp_path / "cur.csv"), "--format", "json"]

    def tests_of(*extra: str) -> dict[str, str]:
        assert main([*args, *extra]) in (0, 1)  # drift found or not: both are reports
        report = json.loads(capsys.readouterr().out)
        return {f["feature"]: f["test"] for f in report["features"]}

    assert tests_of() == {"level": "chi2", "x": "ks"}
    assert tests_of("--discrete-max-levels", "0") == {"level": "ks", "x": "ks"}
    assert tests_of("--feature-test", "x=chi2") == {"level": "chi2", "x": "chi2"}
    bad = subprocess.run([sys.executable, "-m", "mlcicd", *args, "--feature-test", "level=anova"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "--feature-test" in bad.stderr
