"""Plausible wrong and lazy answers to lab 3 (the pull-request check); each must get NOT YET."""

from __future__ import annotations

from _corpus import wrong

LAB = "03_pr_model_check"


# --- Exercise 1: regressed_metrics ---------------------------------------------------------
@wrong(LAB, "regressed_metrics", "no tolerance for floating point")
def no_tolerance(baseline, candidate, max_regression):
    return [m for m in baseline if baseline[m] - candidate[m] > max_regression]


@wrong(LAB, "regressed_metrics", "absolute difference (a better candidate is flagged)")
def absolute(baseline, candidate, max_regression):
    return [m for m in baseline if abs(baseline[m] - candidate[m]) > max_regression + 1e-9]


@wrong(LAB, "regressed_metrics", "ignores max_regression (always 0.01)")
def fixed_limit(baseline, candidate, max_regression):
    return [m for m in baseline if baseline[m] - candidate[m] > 0.01 + 1e-9]


@wrong(LAB, "regressed_metrics", "a drop of exactly the limit is flagged (>=)")
def at_limit(baseline, candidate, max_regression):
    return [m for m in baseline if baseline[m] - candidate[m] >= max_regression - 1e-9]


@wrong(LAB, "regressed_metrics", "wrong direction (flags improvements)")
def reversed_direction(baseline, candidate, max_regression):
    return [m for m in baseline if candidate[m] - baseline[m] > max_regression + 1e-9]


@wrong(LAB, "regressed_metrics", "a fixed list of metric names")
def fixed_names(baseline, candidate, max_regression):
    names = [m for m in ("accuracy", "precision", "recall", "f1") if m in baseline]
    return [m for m in names if baseline[m] - candidate[m] > max_regression + 1e-9]


@wrong(LAB, "regressed_metrics", "relative drop instead of points")
def relative(baseline, candidate, max_regression):
    return [m for m in baseline
            if (baseline[m] - candidate[m]) / baseline[m] > max_regression + 1e-9]


@wrong(LAB, "regressed_metrics", "returns nothing")
def nothing(baseline, candidate, max_regression):
    return []


# --- Exercise 2: read_interval -------------------------------------------------------------
@wrong(LAB, "interval_reading", "an interval starting at zero is read as better")
def touching_zero(interval):
    if interval.low >= 0:
        return "better"
    return "worse" if interval.high < 0 else "no evidence"


@wrong(LAB, "interval_reading", "reads the estimate, not the bounds")
def estimate_only(interval):
    if interval.estimate > 0:
        return "better"
    return "worse" if interval.estimate < 0 else "no evidence"


@wrong(LAB, "interval_reading", "better and worse swapped")
def swapped(interval):
    if interval.low > 0:
        return "worse"
    return "better" if interval.high < 0 else "no evidence"


@wrong(LAB, "interval_reading", "an interval ending at zero is read as worse")
def ending_at_zero(interval):
    if interval.low > 0:
        return "better"
    return "worse" if interval.high <= 0 else "no evidence"


# --- Exercise 3: gate_yaml -----------------------------------------------------------------
@wrong(LAB, "gate_yaml", "percentages instead of fractions")
def gate_percentages():
    return "min_accuracy: 90\nmin_recall: 90\nmax_regression: 1\n"


@wrong(LAB, "gate_yaml", "forgets the recall rule")
def gate_no_recall():
    return "min_accuracy: 0.90\nmax_regression: 0.01\n"


@wrong(LAB, "gate_yaml", "a 2-point regression limit")
def gate_loose():
    return "min_accuracy: 0.90\nmin_recall: 0.90\nmax_regression: 0.02\n"


@wrong(LAB, "gate_yaml", "adds a rule the team did not ask for")
def gate_extra():
    return "min_accuracy: 0.90\nmin_recall: 0.90\nmin_f1: 0.9\nmax_regression: 0.01\n"
