"""An outsider's answers to the steps added to lab 4 (issue 13): exercises 4 and 5.

Written from the exercise text alone, before reading the authors' corpus: slips a learner
makes in ``pick_margin`` (the estimate or the lower bound for the upper bound, ``<`` at
the limit, the smallest or first safe margin, the curve's last row or the worst row
beyond ``-worse_by`` for the row nearest it) and in ``served_mismatches`` (positions for
labels, ``str`` or ``float`` comparisons, a percentage, a sorted list or a set, ``int()``
that turns 2.5 into 2) and correct answers written unlike the reference (``np.interp``,
pandas, an index loop), each run through the real check as the notebook runs it. Five
passed before the checks got a steep-and-noisy curve, out-of-order row labels and an
answer that is not a whole number: the last row, the worst row beyond, a sorted list, and
both ``int()`` and ``str(x).split(".")[0]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _corpus import outsider_tests, registrar

WRONG: list[tuple[str, object]] = []
RIGHT: list[tuple[str, object]] = []
#: The exercise of each answer, by how its name starts.
EXERCISE_OF = {"margin_": "pick_margin", "skew_": "served_mismatches"}

wrong, right = registrar(WRONG), registrar(RIGHT)


# === Exercise 4: pick_margin ==============================================================
def _row(curve, worse_by):
    return curve.loc[(curve["difference"] + worse_by).abs().idxmin()]


def _safe(curves, is_safe):
    return [margin for margin, curve in curves.items() if is_safe(curve)]


@wrong
def margin_from_the_estimate(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: _row(c, worse_by)["promote_rate"] <= max_risk)
    return max(safe) if safe else None


@wrong
def margin_from_the_lower_bound(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: _row(c, worse_by)["promote_low"] <= max_risk)
    return max(safe) if safe else None


@wrong
def margin_bound_strictly_under(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: _row(c, worse_by)["promote_high"] < max_risk)
    return max(safe) if safe else None


@wrong
def margin_smallest_safe(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: _row(c, worse_by)["promote_high"] <= max_risk)
    return min(safe) if safe else None


@wrong
def margin_first_safe_in_dict_order(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: _row(c, worse_by)["promote_high"] <= max_risk)
    return safe[0] if safe else None


@wrong
def margin_the_safest(curves, worse_by, max_risk):
    return min(curves, key=lambda m: _row(curves[m], worse_by)["promote_high"])


@wrong
def margin_exact_difference(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: (c.loc[c["difference"] == -worse_by, "promote_high"]
                                    <= max_risk).all())
    return max(safe) if safe else None


@wrong
def margin_row_at_plus_worse_by(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: _row(c, -worse_by)["promote_high"] <= max_risk)
    return max(safe) if safe else None


@wrong
def margin_zero_when_none(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: _row(c, worse_by)["promote_high"] <= max_risk)
    return max(safe) if safe else 0.0


@wrong
def margin_last_row(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: c["promote_high"].iloc[-1] <= max_risk)
    return max(safe) if safe else None


@wrong
def margin_worst_row_beyond(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: c.loc[c["difference"] <= -worse_by + 1e-9,
                                         "promote_high"].max() <= max_risk)
    return max(safe) if safe else None


@wrong
def margin_returns_the_curve(curves, worse_by, max_risk):
    safe = _safe(curves, lambda c: _row(c, worse_by)["promote_high"] <= max_risk)
    return curves[max(safe)] if safe else None


@right
def margin_interpolated(curves, worse_by, max_risk):
    best = None
    for margin, curve in curves.items():
        curve = curve.sort_values("difference")
        high = np.interp(-worse_by, curve["difference"], curve["promote_high"])
        if high <= max_risk + 1e-12:
            best = margin if best is None else max(best, margin)
    return best


@right
def margin_largest_first(curves, worse_by, max_risk):
    for margin in sorted(curves, reverse=True):
        curve = curves[margin]
        nearest = int(np.argmin(np.abs(curve["difference"].to_numpy() + worse_by)))
        if curve["promote_high"].to_numpy()[nearest] <= max_risk:
            return margin
    return None


@right
def margin_pandas(curves, worse_by, max_risk):
    high = pd.Series({margin: _row(curve, worse_by)["promote_high"]
                      for margin, curve in curves.items()})
    safe = high[high <= max_risk]
    return float(safe.index.max()) if len(safe) else None


# === Exercise 5: served_mismatches ========================================================
def _text(answer):
    if isinstance(answer, int | float | np.integer | np.floating) and float(answer).is_integer():
        return str(int(answer))
    return str(answer)


def _differ(offline, served, index, same=lambda a, b: _text(a) == _text(b)):
    return [label for label, a, b in zip(index, offline, served, strict=True) if not same(a, b)]


@wrong
def skew_positions(offline, served, index):
    rows = _differ(offline, served, range(len(index)))
    return len(rows) / len(index), rows


@wrong
def skew_raw_equality(offline, served, index):
    rows = _differ(offline, served, index, lambda a, b: a == b)
    return len(rows) / len(index), rows


@wrong
def skew_str_equality(offline, served, index):
    rows = _differ(offline, served, index, lambda a, b: str(a) == str(b))
    return len(rows) / len(index), rows


@wrong
def skew_float_equality(offline, served, index):
    rows = _differ(offline, served, index, lambda a, b: float(a) == float(b))
    return len(rows) / len(index), rows


@wrong
def skew_rate_in_percent(offline, served, index):
    rows = _differ(offline, served, index)
    return 100 * len(rows) / len(index), rows


@wrong
def skew_count_not_rate(offline, served, index):
    rows = _differ(offline, served, index)
    return len(rows), rows


@wrong
def skew_rows_as_set(offline, served, index):
    rows = _differ(offline, served, index)
    return len(rows) / len(index), set(rows)


@wrong
def skew_rows_sorted(offline, served, index):
    rows = _differ(offline, served, index)
    return len(rows) / len(index), sorted(rows)


@wrong
def skew_matching_rows(offline, served, index):
    rows = [label for label in index if label not in _differ(offline, served, index)]
    return len(rows) / len(index), rows


@wrong
def skew_pair_swapped(offline, served, index):
    rows = _differ(offline, served, index)
    return rows, len(rows) / len(index)


@wrong
def skew_text_before_the_point(offline, served, index):
    rows = _differ(offline, served, index,
                   lambda a, b: str(a).split(".")[0] == str(b).split(".")[0])
    return len(rows) / len(index), rows


@wrong
def skew_int_cast(offline, served, index):
    def text(answer):
        try:
            return str(int(answer))
        except (TypeError, ValueError):
            return str(answer)
    rows = _differ(offline, served, index, lambda a, b: text(a) == text(b))
    return len(rows) / len(index), rows


@right
def skew_pandas_map(offline, served, index):
    differs = (pd.Series(offline, dtype=object).map(_text)
               != pd.Series(served, dtype=object).map(_text)).to_numpy()
    return float(differs.mean()), [label for label, d in zip(index, differs, strict=True) if d]


@right
def skew_numpy_mask(offline, served, index):
    def text(answer):
        try:
            number = float(answer)
        except (TypeError, ValueError):
            return str(answer)
        return str(int(number)) if number.is_integer() else str(answer)
    differs = np.array([text(a) != text(b) for a, b in zip(offline, served, strict=True)])
    return differs.sum() / differs.size, list(np.asarray(index, dtype=object)[differs])


@right
def skew_index_loop(offline, served, index):
    rows = []
    for position in range(len(index)):
        if _text(offline[position]) != _text(served[position]):
            rows.append(index[position])
    return len(rows) / len(index), rows


# === Running them through the checks, as the notebook does ===============================
(test_outsider_wrong_answer_to_a_new_lab4_step_gets_not_yet,
 test_outsider_right_answer_to_a_new_lab4_step_passes,
 test_every_new_lab4_step_has_eight_wrong_and_three_right_answers) = outsider_tests(
    WRONG, RIGHT, EXERCISE_OF)
