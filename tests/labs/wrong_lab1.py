"""Plausible wrong and lazy answers to lab 1 (data drift); every one must get NOT YET."""

from __future__ import annotations

import numpy as np
import pandas as pd
from _corpus import wrong

from mlcicd.drift import PopulationStabilityIndex, adjust_pvalues, labelling_rule, make_drifted
from mlcicd.drift.estimate import first_alarms
from mlcicd.drift.psi_null import quiet_size

LAB = "01_data_drift"


# --- Exercise 1: covariate_shift ---------------------------------------------------------
@wrong(LAB, "covariate_shift", "moves x2 instead of x1")
def shift_x2(X, shift):
    moved = X.assign(x2=X["x2"] + shift)
    return moved, labelling_rule(moved)


@wrong(LAB, "covariate_shift", "labels the points before they moved")
def old_labels(X, shift):
    return X.assign(x1=X["x1"] + shift), labelling_rule(X)


@wrong(LAB, "covariate_shift", "ignores its shift argument (always 1.5)")
def fixed_shift(X, shift):
    moved = X.assign(x1=X["x1"] + 1.5)
    return moved, labelling_rule(moved)


@wrong(LAB, "covariate_shift", "changes the frame it was given")
def in_place(X, shift):
    X["x1"] = X["x1"] + shift
    return X, labelling_rule(X)


@wrong(LAB, "covariate_shift", "moves both features")
def both_features(X, shift):
    moved = X + shift
    return moved, labelling_rule(moved)


@wrong(LAB, "covariate_shift", "calls the library's drift simulator instead")
def library_drift(X, shift):
    return make_drifted("covariate", min(abs(shift), 1.0), len(X), 0)


@wrong(LAB, "covariate_shift", "labels with a turned rule (that is concept drift)")
def turned_rule(X, shift):
    moved = X.assign(x1=X["x1"] + shift)
    return moved, labelling_rule(moved, level=0.5)


@wrong(LAB, "covariate_shift", "returns the features only")
def features_only(X, shift):
    return X.assign(x1=X["x1"] + shift)


# --- Exercise 2: psi -----------------------------------------------------------------------
def _shares(values, edges, floor=1e-4, side="right"):
    counts = np.bincount(np.searchsorted(edges, values, side=side), minlength=edges.size + 1)
    return np.maximum(counts / len(values), floor)


def _edges(reference, bins):
    return np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))


@wrong(LAB, "psi", "ignores bins (always 10)")
def psi_ten_bins(reference, current, bins=10):
    edges = _edges(reference, 10)
    ref, cur = _shares(reference, edges), _shares(current, edges)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@wrong(LAB, "psi", "log10 instead of the natural logarithm")
def psi_log10(reference, current, bins=10):
    edges = _edges(reference, bins)
    ref, cur = _shares(reference, edges), _shares(current, edges)
    return float(np.sum((cur - ref) * np.log10(cur / ref)))


@wrong(LAB, "psi", "no floor for empty bins (infinite)")
def psi_no_floor(reference, current, bins=10):
    edges = _edges(reference, bins)
    ref, cur = _shares(reference, edges, 0.0), _shares(current, edges, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.nansum((cur - ref) * np.log(cur / ref)))


@wrong(LAB, "psi", "floor of 1e-3 instead of 1e-4")
def psi_big_floor(reference, current, bins=10):
    edges = _edges(reference, bins)
    ref, cur = _shares(reference, edges, 1e-3), _shares(current, edges, 1e-3)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@wrong(LAB, "psi", "equal-width bins instead of quantiles")
def psi_equal_width(reference, current, bins=10):
    edges = np.linspace(np.min(reference), np.max(reference), bins + 1)[1:-1]
    ref, cur = _shares(reference, edges), _shares(current, edges)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@wrong(LAB, "psi", "calls the library's PSI")
def psi_library(reference, current, bins=10):
    return PopulationStabilityIndex(bins=bins).test(reference, current).statistic


@wrong(LAB, "psi", "searchsorted's default side (a value on an edge goes below it)")
def psi_side_left(reference, current, bins=10):
    edges = _edges(reference, bins)
    ref, cur = _shares(reference, edges, side="left"), _shares(current, edges, side="left")
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@wrong(LAB, "psi", "one bin too few (off by one in linspace)")
def psi_off_by_one(reference, current, bins=10):
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins)[1:-1]))
    ref, cur = _shares(reference, edges), _shares(current, edges)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@wrong(LAB, "psi", "sums absolute share differences")
def psi_abs(reference, current, bins=10):
    edges = _edges(reference, bins)
    return float(np.sum(np.abs(_shares(current, edges) - _shares(reference, edges))))


@wrong(LAB, "psi", "a constant")
def psi_constant(reference, current, bins=10):
    return 0.1


# --- Exercise 3: Bonferroni ----------------------------------------------------------------
@wrong(LAB, "bonferroni", "no correction")
def uncorrected(pvalues, alpha):
    return [name for name, p in pvalues.items() if p < alpha]


@wrong(LAB, "bonferroni", "<= instead of <")
def at_most(pvalues, alpha):
    return [name for name, p in pvalues.items() if p * len(pvalues) <= alpha]


@wrong(LAB, "bonferroni", "Holm's step-down instead")
def holm(pvalues, alpha):
    ordered = sorted(pvalues.items(), key=lambda item: item[1])
    flagged = []
    for rank, (name, p) in enumerate(ordered):
        if p * (len(ordered) - rank) >= alpha:
            break
        flagged.append(name)
    return flagged


@wrong(LAB, "bonferroni", "Sidak's threshold instead")
def sidak(pvalues, alpha):
    threshold = 1 - (1 - alpha) ** (1 / max(len(pvalues), 1))
    return [name for name, p in pvalues.items() if p < threshold]


@wrong(LAB, "bonferroni", "ignores alpha (always 0.05)")
def fixed_alpha(pvalues, alpha):
    return [name for name, p in pvalues.items() if p * len(pvalues) < 0.05]


@wrong(LAB, "bonferroni", "calls the library's correction")
def library_correction(pvalues, alpha):
    adjusted = adjust_pvalues(list(pvalues.values()), "bonferroni")
    return [name for name, p in zip(pvalues, adjusted, strict=True) if p < alpha]


@wrong(LAB, "bonferroni", "divides by one test fewer")
def m_minus_one(pvalues, alpha):
    return [name for name, p in pvalues.items() if p * max(len(pvalues) - 1, 1) < alpha]


@wrong(LAB, "bonferroni", "crashes when no feature is given")
def divides_first(pvalues, alpha):
    threshold = alpha / len(pvalues)
    return [name for name, p in pvalues.items() if p < threshold]


@wrong(LAB, "bonferroni", "flags every feature")
def everything(pvalues, alpha):
    return list(pvalues)


# --- Exercise 3: the smallest quiet sample size -------------------------------------------
def _alarm_share(values, threshold):
    return float(np.mean(np.asarray(values) >= threshold))


def _from_largest(null_psi, is_noisy):
    """Walk the sizes from the largest down; the last one before the first noisy size."""
    answer = None
    for n in sorted(null_psi, reverse=True):
        if is_noisy(null_psi[n]):
            break
        answer = n
    return answer


@wrong(LAB, "quiet_size", "compares the mean PSI with the threshold instead of counting alarms")
def quiet_by_mean(null_psi, threshold=0.1):
    return _from_largest(null_psi, lambda values: np.mean(values) >= threshold)


@wrong(LAB, "quiet_size", "a PSI exactly at the threshold is not counted (> instead of >=)")
def quiet_strict(null_psi, threshold=0.1):
    return _from_largest(null_psi, lambda values: np.mean(np.asarray(values) > threshold) >= 0.5)


@wrong(LAB, "quiet_size", "half the repeats counts as quiet (<= half)")
def quiet_at_half(null_psi, threshold=0.1):
    return _from_largest(null_psi, lambda values: _alarm_share(values, threshold) > 0.5)


@wrong(LAB, "quiet_size", "the first quiet size, even when a larger one is noisy")
def first_quiet(null_psi, threshold=0.1):
    for n in sorted(null_psi):
        if _alarm_share(null_psi[n], threshold) < 0.5:
            return n
    return None


@wrong(LAB, "quiet_size", "trusts the dictionary to be sorted")
def unsorted_sizes(null_psi, threshold=0.1):
    answer = None
    for n in reversed(list(null_psi)):
        if _alarm_share(null_psi[n], threshold) >= 0.5:
            break
        answer = n
    return answer


@wrong(LAB, "quiet_size", "ignores the threshold (always 0.1)")
def quiet_fixed_threshold(null_psi, threshold=0.1):
    return _from_largest(null_psi, lambda values: _alarm_share(values, 0.1) >= 0.5)


@wrong(LAB, "quiet_size", "the largest quiet size instead of the smallest")
def largest_quiet(null_psi, threshold=0.1):
    quiet = [n for n in null_psi if _alarm_share(null_psi[n], threshold) < 0.5]
    return max(quiet) if quiet else None


@wrong(LAB, "quiet_size", "returns 0 instead of None when no size is quiet")
def zero_for_none(null_psi, threshold=0.1):
    answer = 0
    for n in sorted(null_psi, reverse=True):
        if _alarm_share(null_psi[n], threshold) >= 0.5:
            break
        answer = n
    return answer


@wrong(LAB, "quiet_size", "the answer for the default parameters, hard-coded")
def quiet_hard_coded(null_psi, threshold=0.1):
    return 200


@wrong(LAB, "quiet_size", "calls the library's quiet_size")
def quiet_library(null_psi, threshold=0.1):
    return quiet_size(null_psi, threshold)


# --- Exercise 5: the batch on which an alarm is known --------------------------------------
@wrong(LAB, "first_alarm_batch", "ignores the label delay (the batch the alarm is about)")
def alarm_no_delay(alarms, label_delay, after=0):
    for batch, alarm in enumerate(alarms):
        if batch >= after and alarm:
            return batch
    return None


@wrong(LAB, "first_alarm_batch", "subtracts the delay")
def alarm_minus_delay(alarms, label_delay, after=0):
    for batch, alarm in enumerate(alarms):
        if batch >= after and alarm:
            return batch - label_delay
    return None


@wrong(LAB, "first_alarm_batch", "ignores after")
def alarm_ignores_after(alarms, label_delay, after=0):
    for batch, alarm in enumerate(alarms):
        if alarm:
            return batch + label_delay
    return None


@wrong(LAB, "first_alarm_batch", "skips the batch equal to after (> instead of >=)")
def alarm_strictly_after(alarms, label_delay, after=0):
    for batch, alarm in enumerate(alarms):
        if batch > after and alarm:
            return batch + label_delay
    return None


@wrong(LAB, "first_alarm_batch", "counts batches from after instead of from 0")
def alarm_relative(alarms, label_delay, after=0):
    for position, alarm in enumerate(alarms[after:]):
        if alarm:
            return position + label_delay
    return None


@wrong(LAB, "first_alarm_batch", "the last alarm instead of the first")
def alarm_last(alarms, label_delay, after=0):
    fired = [batch for batch, alarm in enumerate(alarms) if batch >= after and alarm]
    return fired[-1] + label_delay if fired else None


@wrong(LAB, "first_alarm_batch", "treats an alarm known on batch 0 as no alarm")
def alarm_falsy_zero(alarms, label_delay, after=0):
    fired = [batch + label_delay for batch, alarm in enumerate(alarms) if batch >= after and alarm]
    return (fired[0] if fired else 0) or None


@wrong(LAB, "first_alarm_batch", "one batch late (delay + 1)")
def alarm_one_late(alarms, label_delay, after=0):
    for batch, alarm in enumerate(alarms):
        if batch >= after and alarm:
            return batch + label_delay + 1
    return None


@wrong(LAB, "first_alarm_batch", "-1 instead of None when nothing fires")
def alarm_minus_one(alarms, label_delay, after=0):
    for batch, alarm in enumerate(alarms):
        if batch >= after and alarm:
            return batch + label_delay
    return -1


@wrong(LAB, "first_alarm_batch", "calls the library's first_alarms")
def alarm_library(alarms, label_delay, after=0):
    frame = pd.DataFrame({"labels_known_on": np.arange(len(alarms)) + label_delay,
                          "label_alarm": alarms, "estimate_alarm": alarms,
                          "prediction_alarm": alarms})
    day = first_alarms(frame, after=after)["labels"]
    return None if np.isnan(day) else int(day)
