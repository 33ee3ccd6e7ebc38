"""Plausible wrong and lazy answers to lab 4 (deployment strategies); each must get NOT YET."""

from __future__ import annotations

import hashlib
import math
import random

from _corpus import wrong
from scipy import stats

from mlcicd.deploy import required_sample_size, stable_bucket

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
