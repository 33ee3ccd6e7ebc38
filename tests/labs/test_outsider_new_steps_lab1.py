"""An outsider's answers to the steps added to lab 1 (issue 13): exercises 3 and 5.

Written from the exercise text alone, before reading the authors' corpus: slips a learner
makes (the mean or the median where the exercise counts alarms, ``>`` at a tie, sizes in
dictionary order, ``after`` applied to the batch an alarm is known on rather than the one
it is about, argmax of an all-False slice) and correct answers written unlike the
reference (pandas, generators, a while loop), each run through the real check as the
notebook runs it. The median rule passed ``check_quiet_size`` before it got a case with
an even number of values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _corpus import outsider_tests, registrar

WRONG: list[tuple[str, object]] = []
RIGHT: list[tuple[str, object]] = []
#: The exercise of each answer, by how its name starts.
EXERCISE_OF = {"quiet_": "quiet_size", "alarm_": "first_alarm_batch"}

wrong, right = registrar(WRONG), registrar(RIGHT)


def _noisy(values, threshold):
    return np.mean(np.asarray(values) >= threshold) >= 0.5


def _from_top(null_psi, threshold, is_noisy):
    answer = None
    for n in sorted(null_psi, reverse=True):
        if is_noisy(null_psi[n], threshold):
            break
        answer = n
    return answer


# === Lab 1, exercise 3: smallest_quiet_n ==================================================
@wrong
def quiet_by_mean(null_psi, threshold=0.1):
    return _from_top(null_psi, threshold, lambda v, t: np.mean(v) >= t)


@wrong
def quiet_by_median(null_psi, threshold=0.1):
    return _from_top(null_psi, threshold, lambda v, t: np.median(v) >= t)


@wrong
def quiet_alarm_strictly_above(null_psi, threshold=0.1):
    return _from_top(null_psi, threshold, lambda v, t: np.mean(np.asarray(v) > t) >= 0.5)


@wrong
def quiet_half_is_quiet(null_psi, threshold=0.1):
    return _from_top(null_psi, threshold, lambda v, t: np.mean(np.asarray(v) >= t) > 0.5)


@wrong
def quiet_trusts_dict_order(null_psi, threshold=0.1):
    answer = None
    for n in reversed(list(null_psi)):
        if _noisy(null_psi[n], threshold):
            break
        answer = n
    return answer


@wrong
def quiet_first_quiet_size(null_psi, threshold=0.1):
    return next((n for n in sorted(null_psi) if not _noisy(null_psi[n], threshold)), None)


@wrong
def quiet_largest_when_none(null_psi, threshold=0.1):
    return _from_top(null_psi, threshold, _noisy) or max(null_psi)


@wrong
def quiet_returns_the_noisy_size(null_psi, threshold=0.1):
    for n in sorted(null_psi, reverse=True):
        if _noisy(null_psi[n], threshold):
            return n
    return min(null_psi)


@wrong
def quiet_hard_coded(null_psi, threshold=0.1):
    return 200


@wrong
def quiet_as_float(null_psi, threshold=0.1):
    answer = _from_top(null_psi, threshold, _noisy)
    return None if answer is None else float(answer)


@right
def quiet_pandas(null_psi, threshold=0.1):
    share = pd.Series({n: np.mean(np.asarray(v) >= threshold)
                       for n, v in null_psi.items()}).sort_index()
    noisy = share.index[share >= 0.5]
    if len(noisy) == 0:
        return int(share.index[0])
    later = share.index[share.index > noisy.max()]
    return int(later[0]) if len(later) else None


@right
def quiet_counting_loop(null_psi, threshold=0.1):
    def quiet(n):
        return 2 * sum(1 for v in null_psi[n] if v >= threshold) < len(null_psi[n])
    sizes = sorted(null_psi)
    return next((n for n in sizes if all(quiet(m) for m in sizes if m >= n)), None)


@right
def quiet_suffix_and(null_psi, threshold=0.1):
    sizes = np.array(sorted(null_psi))
    quiet = np.array([not _noisy(null_psi[n], threshold) for n in sizes])
    suffix = np.logical_and.accumulate(quiet[::-1])[::-1]
    return int(sizes[np.argmax(suffix)]) if suffix.any() else None


# === Lab 1, exercise 5: first_alarm_batch =================================================
def _known(alarms, label_delay, after, keep):
    return [b for b, alarm in enumerate(alarms) if alarm and keep(b, label_delay, after)]


@wrong
def alarm_forgets_the_delay(alarms, label_delay, after=0):
    hits = _known(alarms, label_delay, after, lambda b, d, a: b >= a)
    return hits[0] if hits else None


@wrong
def alarm_after_applied_to_known_batch(alarms, label_delay, after=0):
    hits = _known(alarms, label_delay, after, lambda b, d, a: b + d >= a)
    return hits[0] + label_delay if hits else None


@wrong
def alarm_strictly_after(alarms, label_delay, after=0):
    hits = _known(alarms, label_delay, after, lambda b, d, a: b > a)
    return hits[0] + label_delay if hits else None


@wrong
def alarm_last_not_first(alarms, label_delay, after=0):
    hits = _known(alarms, label_delay, after, lambda b, d, a: b >= a)
    return hits[-1] + label_delay if hits else None


@wrong
def alarm_nan_when_none(alarms, label_delay, after=0):
    hits = _known(alarms, label_delay, after, lambda b, d, a: b >= a)
    return hits[0] + label_delay if hits else float("nan")


@wrong
def alarm_argmax_of_slice(alarms, label_delay, after=0):
    late = np.asarray(alarms[after:])
    return int(np.argmax(late)) + label_delay if late.any() else None


@wrong
def alarm_argmax_without_none(alarms, label_delay, after=0):
    return after + int(np.argmax(np.asarray(alarms[after:]))) + label_delay


@wrong
def alarm_capped_at_last_batch(alarms, label_delay, after=0):
    hits = _known(alarms, label_delay, after, lambda b, d, a: b >= a)
    return min(hits[0] + label_delay, len(alarms) - 1) if hits else None


@wrong
def alarm_delay_subtracted(alarms, label_delay, after=0):
    hits = _known(alarms, label_delay, after, lambda b, d, a: b >= a)
    return hits[0] - label_delay if hits else None


@wrong
def alarm_as_float(alarms, label_delay, after=0):
    hits = np.flatnonzero(alarms)
    hits = hits[hits >= after]
    return float(hits[0] + label_delay) if hits.size else None


@right
def alarm_generator(alarms, label_delay, after=0):
    return next((b + label_delay for b, alarm in enumerate(alarms) if alarm and b >= after),
                None)


@right
def alarm_pandas(alarms, label_delay, after=0):
    flags = pd.Series(alarms, dtype=bool)
    hits = flags[(flags.index >= after) & flags]
    return int(hits.index[0] + label_delay) if len(hits) else None


@right
def alarm_while_loop(alarms, label_delay, after=0):
    batch = after
    while batch < len(alarms):
        if alarms[batch]:
            return batch + label_delay
        batch += 1
    return None


# === Running them through the checks, as the notebook does ===============================
(test_outsider_wrong_answer_to_a_new_lab1_step_gets_not_yet,
 test_outsider_right_answer_to_a_new_lab1_step_passes,
 test_every_new_lab1_step_has_eight_wrong_and_three_right_answers) = outsider_tests(
    WRONG, RIGHT, EXERCISE_OF)
