"""Plausible wrong and lazy answers to lab 5 (end to end); every one must get NOT YET."""

from __future__ import annotations

from _corpus import wrong

from mlcicd.drift import detect_drift

LAB = "05_end_to_end"


# --- first_drifted_window ------------------------------------------------------------------
@wrong(LAB, "first_drifted_window", "always the first window")
def always_zero(reference, stream, window, alpha):
    return 0


@wrong(LAB, "first_drifted_window", "overlapping windows (half a window apart)")
def overlapping(reference, stream, window, alpha):
    for start in range(0, len(stream) - window + 1, window // 2):
        if detect_drift(reference, stream.iloc[start:start + window], alpha=alpha).drifted:
            return start
    return None


@wrong(LAB, "first_drifted_window", "returns the window's number, not its start row")
def window_number(reference, stream, window, alpha):
    for number, start in enumerate(range(0, len(stream) - window + 1, window)):
        if detect_drift(reference, stream.iloc[start:start + window], alpha=alpha).drifted:
            return number
    return None


@wrong(LAB, "first_drifted_window", "tests the incomplete last window too")
def incomplete_window(reference, stream, window, alpha):
    for start in range(0, len(stream), window):
        if detect_drift(reference, stream.iloc[start:start + window], alpha=alpha).drifted:
            return start
    return None


@wrong(LAB, "first_drifted_window", "ignores alpha (always 0.05)")
def fixed_alpha(reference, stream, window, alpha):
    for start in range(0, len(stream) - window + 1, window):
        if detect_drift(reference, stream.iloc[start:start + window], alpha=0.05).drifted:
            return start
    return None


@wrong(LAB, "first_drifted_window", "returns the window's end row")
def end_row(reference, stream, window, alpha):
    for start in range(0, len(stream) - window + 1, window):
        if detect_drift(reference, stream.iloc[start:start + window], alpha=alpha).drifted:
            return start + window
    return None


@wrong(LAB, "first_drifted_window", "never raises the alarm")
def never(reference, stream, window, alpha):
    return None


@wrong(LAB, "first_drifted_window", "the last drifted window instead of the first")
def last_window(reference, stream, window, alpha):
    found = None
    for start in range(0, len(stream) - window + 1, window):
        if detect_drift(reference, stream.iloc[start:start + window], alpha=alpha).drifted:
            found = start
    return found


# --- monitor_decision ----------------------------------------------------------------------
def _non_inferior(estimate, lower, upper, margin):
    worse, close = upper < 0, lower > -2 * margin
    if worse and close:
        return estimate >= -margin
    return close


@wrong(LAB, "monitor_decision", "a tie is promoted (the old rule: at least as accurate)")
def ties_promote(drifted, accuracy, min_accuracy, gate, estimate, lower, upper, margin):
    if not drifted and accuracy >= min_accuracy:
        return "no retrain"
    return "promoted" if gate and estimate >= 0 else "rejected"


@wrong(LAB, "monitor_decision", "needs both drift and low accuracy to retrain")
def needs_both(drifted, accuracy, min_accuracy, gate, estimate, lower, upper, margin):
    if not (drifted and accuracy < min_accuracy):
        return "no retrain"
    return "promoted" if gate and lower > 0 else "rejected"


@wrong(LAB, "monitor_decision", "ignores the quality gate")
def no_gate(drifted, accuracy, min_accuracy, gate, estimate, lower, upper, margin):
    if not drifted and accuracy >= min_accuracy:
        return "no retrain"
    if accuracy >= min_accuracy:
        return "promoted" if lower > 0 else "rejected"
    return "promoted" if _non_inferior(estimate, lower, upper, margin) else "rejected"


@wrong(LAB, "monitor_decision", "non-inferiority even when production is fine")
def always_non_inferior(drifted, accuracy, min_accuracy, gate, estimate, lower, upper, margin):
    if not drifted and accuracy >= min_accuracy:
        return "no retrain"
    ok = gate and _non_inferior(estimate, lower, upper, margin)
    return "promoted" if ok else "rejected"


@wrong(LAB, "monitor_decision", "'shown better' even when production failed its minimum")
def always_better(drifted, accuracy, min_accuracy, gate, estimate, lower, upper, margin):
    if not drifted and accuracy >= min_accuracy:
        return "no retrain"
    return "promoted" if gate and lower > 0 else "rejected"


@wrong(LAB, "monitor_decision", "a lower bound of 0 counts as better (>=)")
def at_zero(drifted, accuracy, min_accuracy, gate, estimate, lower, upper, margin):
    if not drifted and accuracy >= min_accuracy:
        return "no retrain"
    if not gate:
        return "rejected"
    if accuracy >= min_accuracy:
        return "promoted" if lower >= 0 else "rejected"
    return "promoted" if _non_inferior(estimate, lower, upper, margin) else "rejected"


@wrong(LAB, "monitor_decision", "ignores margin (always 0.05)")
def fixed_margin(drifted, accuracy, min_accuracy, gate, estimate, lower, upper, margin):
    if not drifted and accuracy >= min_accuracy:
        return "no retrain"
    if not gate:
        return "rejected"
    if accuracy >= min_accuracy:
        return "promoted" if lower > 0 else "rejected"
    return "promoted" if _non_inferior(estimate, lower, upper, 0.05) else "rejected"


@wrong(LAB, "monitor_decision", "accuracy at the minimum triggers a retrain (>)")
def strict_minimum(drifted, accuracy, min_accuracy, gate, estimate, lower, upper, margin):
    if not drifted and accuracy > min_accuracy:
        return "no retrain"
    if not gate:
        return "rejected"
    if accuracy > min_accuracy:
        return "promoted" if lower > 0 else "rejected"
    return "promoted" if _non_inferior(estimate, lower, upper, margin) else "rejected"


@wrong(LAB, "monitor_decision", "waits instead of rejecting thin evidence")
def waits(drifted, accuracy, min_accuracy, gate, estimate, lower, upper, margin):
    if not drifted and accuracy >= min_accuracy:
        return "no retrain"
    if not gate:
        return "rejected"
    if accuracy >= min_accuracy:
        return "promoted" if lower > 0 else "rejected"
    if upper < 0:
        return "rejected"
    return "promoted" if lower > -2 * margin else "wait"
