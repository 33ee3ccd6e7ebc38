"""Plausible wrong and lazy answers to lab 4 (deployment strategies); each must get NOT YET."""

from __future__ import annotations

import hashlib
import math
import random

import numpy as np
from _corpus import wrong
from scipy import stats

from mlcicd.deploy import required_sample_size, stable_bucket
from mlcicd.oc import largest_safe_margin
from mlcicd.skew import compare_answers

LAB = "04_deployment_strategies"


# --- sticky A/B groups ---------------------------------------------------------------------
@wrong(LAB, "assign_group", "Python's hash(), salted per process")
def python_hash(user_id, share_b):
    return "B" if (hash(user_id) % 1000) / 1000 < share_b else "A"


@wrong(LAB, "assign_group", "no hash: the id's number modulo 100")
def numeric_suffix(user_id, share_b):
    digits = "".join(c for c in user_id if c.isdigit()) or "0"
    return "B" if int(digits) % 100 < share_b * 100 else "A"


@wrong(LAB, "assign_group", "a random draw per call")
def random_draw(user_id, share_b):
    return "B" if random.random() < share_b else "A"  # noqa: S311 - the mistake on show


@wrong(LAB, "assign_group", "B above share_b instead of below")
def inverted(user_id, share_b):
    bucket = int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:8], "big") / 2**64
    return "B" if bucket >= share_b else "A"


@wrong(LAB, "assign_group", "hashes only the first four characters")
def prefix_hash(user_id, share_b):
    bucket = int.from_bytes(hashlib.sha256(user_id[:4].encode()).digest()[:8], "big") / 2**64
    return "B" if bucket < share_b else "A"


@wrong(LAB, "assign_group", "calls the library's stable_bucket")
def library_bucket(user_id, share_b):
    return "B" if stable_bucket(user_id) < share_b else "A"


@wrong(LAB, "assign_group", "returns lower-case groups")
def lower_case(user_id, share_b):
    bucket = int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:8], "big") / 2**64
    return "b" if bucket < share_b else "a"


@wrong(LAB, "assign_group", "a new bucket for each share (salted with share_b)")
def salted_by_share(user_id, share_b):
    digest = hashlib.sha256(f"{user_id}:{share_b}".encode()).digest()
    return "B" if int.from_bytes(digest[:8], "big") / 2**64 < share_b else "A"


# --- users_needed --------------------------------------------------------------------------
def _n(p_a, p_b, alpha, power):
    z_alpha, z_power = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    p_bar = (p_a + p_b) / 2
    spread = (z_alpha * math.sqrt(2 * p_bar * (1 - p_bar))
              + z_power * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b)))
    return spread**2 / (p_b - p_a) ** 2


@wrong(LAB, "users_needed", "int() rounds down")
def rounds_down(p_a, p_b, alpha, power):
    return int(_n(p_a, p_b, alpha, power))


@wrong(LAB, "users_needed", "round() instead of rounding up")
def rounds_nearest(p_a, p_b, alpha, power):
    return round(_n(p_a, p_b, alpha, power))


@wrong(LAB, "users_needed", "a one-sided z")
def one_sided(p_a, p_b, alpha, power):
    z = stats.norm.ppf(1 - alpha) + stats.norm.ppf(power)
    return math.ceil(z**2 * (p_a * (1 - p_a) + p_b * (1 - p_b)) / (p_b - p_a) ** 2)


@wrong(LAB, "users_needed", "ignores power (always 80 %)")
def fixed_power(p_a, p_b, alpha, power):
    return math.ceil(_n(p_a, p_b, alpha, 0.8))


@wrong(LAB, "users_needed", "calls the library")
def library_size(p_a, p_b, alpha, power):
    return required_sample_size(p_a, p_b, alpha=alpha, power=power)


@wrong(LAB, "users_needed", "returns a float")
def as_float(p_a, p_b, alpha, power):
    return float(math.ceil(_n(p_a, p_b, alpha, power)))


@wrong(LAB, "users_needed", "pooled variance on both terms")
def pooled_only(p_a, p_b, alpha, power):
    p_bar = (p_a + p_b) / 2
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return math.ceil(z**2 * 2 * p_bar * (1 - p_bar) / (p_b - p_a) ** 2)


# --- the canary's accuracy guardrail -------------------------------------------------------
@wrong(LAB, "canary_decision", "the old point rule: estimate below -margin aborts")
def point_rule(n_pairs, estimate, lower, upper, margin, min_labels):
    if n_pairs < min_labels:
        return "wait"
    return "abort" if estimate < -margin else "promote"


@wrong(LAB, "canary_decision", "abs(): a better canary is aborted too")
def absolute(n_pairs, estimate, lower, upper, margin, min_labels):
    if n_pairs < min_labels:
        return "wait"
    if abs(estimate) > margin and (upper < 0 or lower > 0):
        return "abort"
    return "promote" if lower > -2 * margin else "wait"


@wrong(LAB, "canary_decision", "judges before min_labels pairs")
def impatient(n_pairs, estimate, lower, upper, margin, min_labels):
    worse, close = upper < 0, lower > -2 * margin
    if worse and close:
        return "promote" if estimate >= -margin else "abort"
    return "abort" if worse else "promote" if close else "wait"


@wrong(LAB, "canary_decision", "promotes within one margin instead of two")
def one_margin(n_pairs, estimate, lower, upper, margin, min_labels):
    if n_pairs < min_labels:
        return "wait"
    worse, close = upper < 0, lower > -margin
    if worse and close:
        return "promote" if estimate >= -margin else "abort"
    return "abort" if worse else "promote" if close else "wait"


@wrong(LAB, "canary_decision", "ignores margin (always 0.05)")
def fixed_margin(n_pairs, estimate, lower, upper, margin, min_labels):
    if n_pairs < min_labels:
        return "wait"
    worse, close = upper < 0, lower > -0.1
    if worse and close:
        return "promote" if estimate >= -0.05 else "abort"
    return "abort" if worse else "promote" if close else "wait"


@wrong(LAB, "canary_decision", "<= and >= at the thresholds")
def inclusive(n_pairs, estimate, lower, upper, margin, min_labels):
    if n_pairs < min_labels:
        return "wait"
    worse, close = upper <= 0, lower >= -2 * margin
    if worse and close:
        return "promote" if estimate >= -margin else "abort"
    return "abort" if worse else "promote" if close else "wait"


@wrong(LAB, "canary_decision", "the lower bound below 0 aborts (wrong bound)")
def wrong_bound(n_pairs, estimate, lower, upper, margin, min_labels):
    if n_pairs < min_labels:
        return "wait"
    if lower < 0:
        return "abort"
    return "promote"


@wrong(LAB, "canary_decision", "never promotes, only waits or aborts")
def never_promotes(n_pairs, estimate, lower, upper, margin, min_labels):
    if n_pairs >= min_labels and upper < 0:
        return "abort"
    return "wait"


@wrong(LAB, "canary_decision", "both bounds hold: always aborts")
def both_abort(n_pairs, estimate, lower, upper, margin, min_labels):
    if n_pairs < min_labels:
        return "wait"
    if upper < 0:
        return "abort"
    return "promote" if lower > -2 * margin else "wait"


# --- pick_margin (Step 7) ------------------------------------------------------------------
def _row(curve, worse_by):
    return curve.loc[(curve["difference"] + worse_by).abs().idxmin()]


def _pick_safe(curves, is_safe, pick=max):
    """``pick`` of the margins whose curve ``is_safe``, or None when none is."""
    safe = [margin for margin, curve in curves.items() if is_safe(curve)]
    return pick(safe) if safe else None


@wrong(LAB, "pick_margin", "calls the library's largest_safe_margin")
def library_margin(curves, worse_by, max_risk):
    return largest_safe_margin(curves, worse_by, max_risk)


@wrong(LAB, "pick_margin", "reads the estimate instead of its upper bound")
def point_estimate(curves, worse_by, max_risk):
    return _pick_safe(curves, lambda c: _row(c, worse_by)["promote_rate"] <= max_risk)


@wrong(LAB, "pick_margin", "reads the lower bound")
def lower_bound(curves, worse_by, max_risk):
    return _pick_safe(curves, lambda c: _row(c, worse_by)["promote_low"] <= max_risk)


@wrong(LAB, "pick_margin", "the smallest safe margin")
def smallest_safe(curves, worse_by, max_risk):
    return _pick_safe(curves, lambda c: _row(c, worse_by)["promote_high"] <= max_risk, pick=min)


@wrong(LAB, "pick_margin", "the row at +worse_by (a better candidate)")
def wrong_sign(curves, worse_by, max_risk):
    return _pick_safe(curves, lambda c: _row(c, -worse_by)["promote_high"] <= max_risk)


@wrong(LAB, "pick_margin", "strictly below the risk")
def strict_bound(curves, worse_by, max_risk):
    return _pick_safe(curves, lambda c: _row(c, worse_by)["promote_high"] < max_risk)


@wrong(LAB, "pick_margin", "the first safe margin in the dict's order")
def first_safe(curves, worse_by, max_risk):
    for margin, curve in curves.items():
        if _row(curve, worse_by)["promote_high"] <= max_risk:
            return margin
    return None


@wrong(LAB, "pick_margin", "exact float equality to find the row")
def exact_row(curves, worse_by, max_risk):
    safe = []
    for margin, curve in curves.items():
        rows = curve[curve["difference"] == -worse_by]
        if len(rows) and rows["promote_high"].iloc[0] <= max_risk:
            safe.append(margin)
    return max(safe) if safe else None


@wrong(LAB, "pick_margin", "reads abort_rate as the risk")
def abort_column(curves, worse_by, max_risk):
    return _pick_safe(curves, lambda c: _row(c, worse_by)["abort_rate"] <= max_risk)


@wrong(LAB, "pick_margin", "the smallest margin, always (the safest-looking guess)")
def always_smallest(curves, worse_by, max_risk):
    return min(curves)


# --- served_mismatches (Step 8) ------------------------------------------------------------
def _text(answer):
    number = isinstance(answer, int | float | np.integer | np.floating)
    return str(int(answer)) if number and float(answer).is_integer() else str(answer)


def _differing(offline, served, index):
    pairs = zip(index, offline, served, strict=True)
    return [label for label, a, b in pairs if _text(a) != _text(b)]


@wrong(LAB, "served_mismatches", "calls the library's compare_answers")
def library_compare(offline, served, index):
    report = compare_answers(offline, served, index=index)
    return report.mismatch_rate, list(report.mismatches.index)


@wrong(LAB, "served_mismatches", "positions instead of the rows' labels")
def positions(offline, served, index):
    rows = [i for i, (a, b) in enumerate(zip(offline, served, strict=True)) if _text(a) != _text(b)]
    return len(rows) / len(index), rows


@wrong(LAB, "served_mismatches", "compares the raw values (\"1\" is not 1)")
def raw_values(offline, served, index):
    rows = [label for label, a, b in zip(index, offline, served, strict=True) if a != b]
    return len(rows) / len(index), rows


@wrong(LAB, "served_mismatches", "str() of each answer (\"1.0\" is not \"1\")")
def plain_str(offline, served, index):
    rows = [label for label, a, b in zip(index, offline, served, strict=True) if str(a) != str(b)]
    return len(rows) / len(index), rows


@wrong(LAB, "served_mismatches", "converts every answer with int(float(...))")
def as_int(offline, served, index):
    rows = [label for label, a, b in zip(index, offline, served, strict=True)
            if int(float(a)) != int(float(b))]
    return len(rows) / len(index), rows


@wrong(LAB, "served_mismatches", "mismatches divided by matches")
def per_match(offline, served, index):
    rows = _differing(offline, served, index)
    return len(rows) / max(1, len(index) - len(rows)), rows


@wrong(LAB, "served_mismatches", "the rate in percent")
def percent(offline, served, index):
    rows = _differing(offline, served, index)
    return 100 * len(rows) / len(index), rows


@wrong(LAB, "served_mismatches", "returns the rows that agree")
def agreeing_rows(offline, served, index):
    rows = [label for label in index if label not in _differing(offline, served, index)]
    return 1 - len(rows) / len(index), rows


@wrong(LAB, "served_mismatches", "labels shifted by one")
def shifted_labels(offline, served, index):
    pairs = enumerate(zip(offline, served, strict=True))
    rows = [index[min(i + 1, len(index) - 1)] for i, (a, b) in pairs if _text(a) != _text(b)]
    return len(rows) / len(index), rows


@wrong(LAB, "served_mismatches", "no skew, whatever the answers")
def no_skew(offline, served, index):
    return 0.0, []
