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
