# %% [markdown]
# # Lab 1: Data drift
#
# A model is trained on yesterday's data and serves today's. When the world moves, its
# accuracy may fall, or it may not: it depends on *what* moved. In this lab you simulate
# the two main kinds of drift on a small problem where the truth is known, measure what
# each does to a model, and build the detectors a monitoring job runs.
#
# **Learning objectives.** After this lab you can:
#
# 1. tell covariate drift (the inputs move) from concept drift (the rule moves), and
#    simulate each;
# 2. measure and plot a model's accuracy against the drift level, and explain why a
#    small covariate shift may hurt little while a change of the rule hurts a lot;
# 3. detect drift per feature with a two-sample Kolmogorov-Smirnov test and the
#    population stability index (PSI);
# 4. read a PSI against its no-drift value at your sample size, not only against the
#    0.1 / 0.25 rules of thumb;
# 5. correct for testing many features at once, and say what input monitoring cannot see;
# 6. monitor a model while its labels are late, and show what a label-free estimate of
#    accuracy cannot see.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from sklearn.ensemble import RandomForestClassifier

from mlcicd.drift import (
    DESCRIPTIONS,
    accuracy_under_drift,
    adjust_pvalues,
    detect_drift,
    drift_stream,
    labelling_rule,
    make_drifted,
    reference_data,
)
from mlcicd.drift.estimate import ConfidenceBasedEstimator, first_alarms, monitoring_timeline
from mlcicd.drift.psi_null import no_drift_psi, quiet_size
from mlcicd.labs import checks, record
from mlcicd.labs.ranges import check_lab_parameters

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
seed = 0  # seeds every data set and the model
n_train = 2000  # reference points the model is trained on
n_test = 1000  # points per drifted test set
drift_levels = [0.0, 0.25, 0.5, 0.75, 1.0]  # levels of the accuracy curve, in [0, 1]
min_accuracy = 0.85  # the minimum acceptable accuracy
drift_level = 0.3  # covariate drift level of the detection part
n_noise_features = 8  # extra features that never drift
alpha = 0.05  # significance level of the drift tests
n_repeats = 40  # drift-free samples used to count false alarms
label_delay = 5  # batches between a prediction and the arrival of its label

# %% [markdown]
# Every parameter has a legal range (`labs/params.yaml`); this cell stops the lab with
# one sentence if a value is outside it.

# %%
check_lab_parameters("01_data_drift", globals())

# %% [markdown]
# ## Step 1: the reference world and its model
#
# Two features, `x1` and `x2`, drawn from a standard normal distribution; the label is
# a fixed rule, `1` when `x2 > x1`. A random forest learns the rule from `n_train` points.

# %%
X_train, y_train = reference_data(n=n_train, seed=seed)
model = RandomForestClassifier(n_estimators=50, random_state=seed).fit(X_train, y_train)
X_check, y_check = reference_data(n=n_test, seed=seed + 1)
print(f"accuracy on fresh reference data: {model.score(X_check, y_check):.3f}")
for kind in ("covariate", "concept"):
    print(f"{kind}: {DESCRIPTIONS[kind]}")

# %% [markdown]
# ## Exercise 1: simulate covariate drift yourself
#
# Write `covariate_shift(X, shift)`: add `shift` to the feature `x1` only (on a copy: do
# not change `X`), and label the moved points with the **unchanged** rule,
# `labelling_rule(points)`. Return the pair `(shifted features, labels)`.

# %% tags=["solution"]
def covariate_shift(X: pd.DataFrame, shift: float) -> tuple[pd.DataFrame, np.ndarray]:
    """Move ``x1`` by ``shift``; label the moved points with the unchanged rule."""
    shifted = X.assign(x1=X["x1"] + shift)
    return shifted, labelling_rule(shifted)


# %%
checks.check_covariate_shift(covariate_shift)

# %% [markdown]
# ## Step 2: accuracy against drift
#
# `accuracy_under_drift` scores the model on fresh test sets drifted further and further,
# for each kind of drift. Before you run it, guess: which kind hurts more?

# %%
table = accuracy_under_drift(
    model, ["covariate", "concept"], drift_levels, n=n_test, seed=seed + 2
)
curves = table.pivot(index="level", columns="kind", values="accuracy")
display(curves.round(3))

fig, ax = plt.subplots(figsize=(6, 3.6))
for kind, curve in curves.items():
    ax.plot(curve.index, curve.to_numpy(), marker="o", label=f"{kind} drift")
ax.axhline(min_accuracy, color="black", linestyle="--", label="minimum acceptable accuracy")
ax.set_xlabel("drift level")
ax.set_ylabel("accuracy")
ax.set_ylim(0.4, 1.02)
ax.legend()
ax.set_title("Accuracy of the same model as the world drifts")
plt.show()

low, high = curves.index[0], curves.index[-1]
for kind in ("covariate", "concept"):
    drop = curves[kind].iloc[0] - curves[kind].iloc[-1]
    record(f"accuracy_drop_{kind}", drop)
    below = curves.index[curves[kind] < min_accuracy]
    where = (f"it first falls below {min_accuracy} at level {below[0]:g}" if len(below)
             else f"it never falls below {min_accuracy} on these levels")
    print(f"{kind} drift: accuracy {curves[kind].iloc[0]:.3f} at level {low:g}, "
          f"{curves[kind].iloc[-1]:.3f} at level {high:g}; {where}.")
X_turned, y_turned = make_drifted("concept", high, n_test, seed + 2)
flipped = float(np.mean(labelling_rule(X_turned) != y_turned))
print(f"at concept level {high:g}, {flipped:.0%} of the labels differ from the old rule.")

# %% [markdown]
# Read the curves with the numbers printed under them:
#
# - **Covariate drift** under an unchanged rule hurts little while the points stay where
#   the model has seen data: the rule it learnt is still right there. It hurts more when
#   the points move into regions the model never saw, where a tree can only guess.
# - **Concept drift** changes the answer itself: the printed share of labels that differ
#   from the old rule is the share of answers the unchanged model gets wrong on top of its
#   usual errors; when half of them differ, the model is no better than a coin.
#
# The lesson: watch both the inputs and the model's quality, and retrain when either
# moves.
#
# ## Step 3: detect drift in the inputs
#
# In production there are no labels yet, but the inputs are there. We compare a
# reference sample with a current one, feature by feature, with a Kolmogorov-Smirnov
# test (does the distribution differ?) and the PSI (by how much?). To make it realistic,
# both samples carry `n_noise_features` extra features that never drift.

# %%
def with_noise(X: pd.DataFrame, sample_seed: int) -> pd.DataFrame:
    """``X`` plus ``n_noise_features`` standard-normal columns that never drift."""
    rng = np.random.default_rng([sample_seed, 99])
    noise = rng.normal(size=(len(X), n_noise_features))
    columns = [f"noise_{i}" for i in range(n_noise_features)]
    return pd.concat([X, pd.DataFrame(noise, columns=columns, index=X.index)], axis=1)


reference = with_noise(make_drifted("covariate", 0.0, n_test, seed + 3)[0], seed + 3)
current = with_noise(make_drifted("covariate", drift_level, n_test // 2, seed + 4)[0], seed + 4)
report = detect_drift(reference, current, alpha=alpha, correction="bonferroni")
print(report.summary())
display(report.to_frame()[["feature", "statistic", "pvalue", "corrected_pvalue", "psi",
                           "drifted"]].round(4))
record("covariate_drift_detected", report.drifted)
record("features_flagged", len(report.drifted_features))
record("max_psi", report.to_frame()["psi"].max())

# %%
report.plot(top=3)
plt.show()

# %% [markdown]
# ## Exercise 2: the population stability index
#
# The KS test says *whether* a distribution moved; the PSI says *how much*, in a way
# teams set alert thresholds on (below 0.1 stable, 0.1 to 0.25 moderate, above 0.25
# major). Write `psi(reference, current, bins)`:
#
# 1. cut `bins` bins at the reference's quantiles (inner edges:
#    `np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1])`);
# 2. compute each sample's share of points per bin
#    (`np.searchsorted(edges, values, side="right")`, so a value on an edge goes to the
#    bin above it, then `np.bincount`), giving an empty bin a share of `1e-4`;
# 3. return the sum over bins of `(current - reference) * ln(current / reference)`.

# %% tags=["solution"]
def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference``."""
    edges = np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:-1]))

    def shares(values: np.ndarray) -> np.ndarray:
        counts = np.bincount(np.searchsorted(edges, values, side="right"),
                             minlength=edges.size + 1)
        return np.maximum(counts / len(values), 1e-4)

    ref, cur = shares(np.asarray(reference)), shares(np.asarray(current))
    return float(np.sum((cur - ref) * np.log(cur / ref)))


# %%
checks.check_psi(psi)

# %% [markdown]
# ## Step 4: PSI when nothing moved
#
# The rules of thumb above (0.1, 0.25) say nothing about sample size, but the PSI does
# depend on it. Each bin's share is *estimated* from a sample, and the PSI adds up the
# estimation errors of every bin, so two samples of the very same distribution give a
# PSI above 0: roughly `2 (bins - 1) / n` for two samples of `n` points. Measure it:
# `n_repeats` pairs of samples of one distribution (no drift at all) at each size, with
# the library's PSI and 10 bins.

# %%
PSI_SIZES = [25, 50, 100, 200, 400, 800, 1600]
null_psi = no_drift_psi(PSI_SIZES, repeats=n_repeats, bins=10, seed=seed)
null_table = pd.DataFrame({
    "mean PSI, no drift": {n: values.mean() for n, values in null_psi.items()},
    "share >= 0.1": {n: np.mean(values >= 0.1) for n, values in null_psi.items()},
    "share >= 0.25": {n: np.mean(values >= 0.25) for n, values in null_psi.items()},
}).rename_axis("points per sample")
display(null_table.round(3))
smallest, largest = PSI_SIZES[0], PSI_SIZES[-1]
print(f"with no drift at all, the mean PSI is {null_table.iloc[0, 0]:.3f} at {smallest} points "
      f"a side and {null_table.iloc[-1, 0]:.3f} at {largest}; at {smallest} points "
      f"{null_table.iloc[0, 1]:.0%} of the pairs read 'moderate shift' or worse.")
record("null_psi_smallest_n", null_table.iloc[0, 0])

# %% [markdown]
# ## Exercise 3: from which sample size is the rule of thumb quiet?
#
# Write `smallest_quiet_n(null_psi, threshold)`. `null_psi` maps a sample size to its
# no-drift PSI values (the dictionary measured above); a value **at or above**
# `threshold` is a false alarm. A size is *quiet* when **fewer than half** of its values
# are false alarms. Return the smallest size that is quiet *and* followed only by quiet
# sizes (a quiet size below a noisy one was luck), or `None` when the largest size is
# not quiet. Do not assume the dictionary is sorted.

# %% tags=["solution"]
def smallest_quiet_n(null_psi: dict, threshold: float = 0.1):
    """The smallest size from which fewer than half the no-drift PSIs reach ``threshold``."""
    answer = None
    for n in sorted(null_psi, reverse=True):
        if np.mean(np.asarray(null_psi[n]) >= threshold) >= 0.5:
            break
        answer = n
    return answer


# %%
checks.check_quiet_size(smallest_quiet_n, null_psi=null_psi, threshold=0.1)

# %%
for limit in (0.1, 0.25):
    quiet = quiet_size(null_psi, limit)
    if quiet is None:
        print(f"threshold {limit}: even {largest} points a side alarm in half the repeats "
              "or more.")
    else:
        print(f"threshold {limit}: quiet from {quiet} points a side on (fewer than half of "
              f"the {n_repeats} no-drift pairs alarm).")
record("psi_quiet_size", quiet_size(null_psi, 0.1))
print(f"Step 3 compared {n_test} reference points with {n_test // 2} current ones: read its "
      "PSI column against the no-drift values of this table, not against 0.1 alone.")

# %% [markdown]
# So on small samples either compare the PSI with its no-drift value at that size (this
# table, or a permutation of the two samples), or decide *whether* something moved with
# a test that accounts for the size (KS gives a p-value) and use the PSI only to say *how
# much*.

# %% [markdown]
# ## Step 5: many features, many false alarms
#
# Each KS test has a chance `alpha` of a false alarm when nothing moved. With many
# features, the chance that *at least one* fires is much larger: for `m` independent
# tests it is `1 - (1 - alpha)^m`. Count it: `n_repeats` current samples drawn from the
# reference world itself, tested with and without a correction.

# %%
n_features = reference.shape[1]
expected = 1 - (1 - alpha) ** n_features
print(f"{n_features} features at alpha {alpha}: if the tests were independent, at least one "
      f"would fire by chance {expected:.0%} of the time.")
false_alarms = {"none": 0, "bonferroni": 0, "bh": 0}
for repeat in range(n_repeats):
    sample_seed = 1000 + seed + repeat
    calm = with_noise(make_drifted("covariate", 0.0, n_test // 2, sample_seed)[0], sample_seed)
    # test once, then correct the same p-values three ways (what detect_drift does inside)
    pvalues = detect_drift(reference, calm, alpha=alpha, correction="none").to_frame()["pvalue"]
    for correction in false_alarms:
        false_alarms[correction] += bool(np.any(adjust_pvalues(pvalues, correction) < alpha))
rates = pd.Series({k: v / n_repeats for k, v in false_alarms.items()}, name="false alarm rate")
display(rates.to_frame())
record("false_alarm_rate_uncorrected", rates["none"])
record("false_alarm_rate_bonferroni", rates["bonferroni"])
print(f"measured over {n_repeats} drift-free samples: {rates['none']:.0%} raised at least one "
      f"alarm without a correction, {rates['bonferroni']:.0%} with Bonferroni, "
      f"{rates['bh']:.0%} with Benjamini-Hochberg.")

# %% [markdown]
# ## Exercise 4: the Bonferroni correction
#
# Write `drifted_features(pvalues, alpha)`: given `{feature: p-value}`, return the
# features still significant after the Bonferroni correction, that is with
# `p * (number of features) < alpha` (strictly below). No feature: nothing to flag.

# %% tags=["solution"]
def drifted_features(pvalues: dict, alpha: float) -> list:
    """Features whose p-value stays below ``alpha`` after the Bonferroni correction."""
    m = len(pvalues)
    return [name for name, p in pvalues.items() if p * m < alpha]


# %%
checks.check_bonferroni(drifted_features)

# %% [markdown]
# ## Step 6: what input monitoring cannot see
#
# Concept drift leaves the inputs exactly as they were: only the rule changed. Any alarm
# the detector raises here is a false one (it fires with the small chance the correction
# allows), while the model's accuracy falls as Step 2 showed.

# %%
X_concept, y_concept = make_drifted("concept", 1.0, n_test // 2, seed + 5)
blind = detect_drift(reference, with_noise(X_concept, seed + 5), alpha=alpha,
                     correction="bonferroni")
print(blind.summary())
concept_accuracy = model.score(X_concept, y_concept)
seen = "raised a (false) alarm" if blind.drifted else "saw nothing"
print(f"the input detector {seen}; the model's accuracy on these points is "
      f"{concept_accuracy:.3f}, against {model.score(X_check, y_check):.3f} before the "
      "rule turned.")
record("concept_drift_detected_from_inputs", blind.drifted)

# %% [markdown]
# ## Step 7: monitoring before the labels arrive
#
# Labels are late: a loan is repaid months later, a diagnosis confirmed after days. Here
# each label arrives `label_delay` batches after its prediction, so an accuracy alarm
# about batch `b` is only *known* on batch `b + label_delay`. Two signals need no labels:
#
# - **prediction drift**: the model's own outputs (its confidence and the share of each
#   predicted class) compared with a reference period;
# - **estimated accuracy**: `ConfidenceBasedEstimator` learns on labelled reference data
#   how the model's confidence maps to its chance of being right, then averages that
#   chance over an unlabelled batch (confidence-based performance estimation).
#
# Both assume the rule linking inputs to labels is the one of the reference period. Two
# streams of `N_BATCHES` batches put that to the test: drift starts at batch
# `DRIFT_BATCH` and grows over `RAMP_BATCHES` batches; in one the inputs move
# (covariate), in the other the rule turns (concept). An alarm compares with
# `min_accuracy`.

# %%
N_BATCHES, ROWS_PER_BATCH, DRIFT_BATCH, RAMP_BATCHES, MONITOR_ALPHA = 24, 200, 6, 6, 0.01
reference_proba = model.predict_proba(X_check)
estimator = ConfidenceBasedEstimator().fit(reference_proba, y_check, classes=model.classes_)
timelines = {}
for kind in ("covariate", "concept"):
    X_stream, y_stream = drift_stream(
        N_BATCHES * ROWS_PER_BATCH, DRIFT_BATCH * ROWS_PER_BATCH, kind=kind, mode="gradual",
        width=RAMP_BATCHES * ROWS_PER_BATCH, level=1.0, seed=seed + 6)
    timelines[kind] = monitoring_timeline(
        model, estimator, reference_proba, X_stream, y_stream, rows_per_day=ROWS_PER_BATCH,
        label_delay=label_delay, min_accuracy=min_accuracy, alpha=MONITOR_ALPHA,
    ).rename_axis("batch")
display(timelines["concept"][["accuracy", "labels_known_on", "estimate", "estimate_high",
                              "label_alarm", "estimate_alarm", "prediction_alarm"]].round(3))

fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), sharey=True)
for ax, (kind, timeline) in zip(axes, timelines.items(), strict=True):
    ax.plot(timeline.index, timeline["accuracy"], color="black", marker=".",
            label=f"true accuracy (known {label_delay} batches later)")
    ax.plot(timeline.index, timeline["estimate"], color="tab:blue", marker=".",
            label="estimated accuracy (same batch)")
    ax.axhline(min_accuracy, color="crimson", linestyle="--", linewidth=1)
    ax.axvline(DRIFT_BATCH, color="gray", linestyle=":", linewidth=1)
    ax.set_title(f"{kind} drift from batch {DRIFT_BATCH}", fontsize=10)
    ax.set_xlabel("batch")
axes[0].set_ylabel("accuracy")
axes[0].legend(loc="lower left", fontsize=8)
fig.tight_layout()
plt.show()

# %%
concept = timelines["concept"]
quiet_batches = concept.loc[:DRIFT_BATCH - 1]
late_batches = concept.loc[DRIFT_BATCH + RAMP_BATCHES:]
for name, part in (("before the drift", quiet_batches),
                   ("once the rule has turned", late_batches)):
    print(f"concept stream, {name}: true accuracy {part['accuracy'].mean():.3f}, estimated "
          f"{part['estimate'].mean():.3f} (batches {part.index[0]}-{part.index[-1]}).")
fall = quiet_batches["accuracy"].mean() - late_batches["accuracy"].mean()
moved = abs(quiet_batches["estimate"].mean() - late_batches["estimate"].mean())
print(f"the true accuracy fell by {fall:.3f}; the estimate moved by {moved:.3f}: "
      f"{'it is blind to the turned rule' if moved < fall / 2 else 'it followed the fall'}.")
record("concept_accuracy_fall", fall)
record("concept_estimate_move", moved)

# %% [markdown]
# ## Exercise 5: when is an alarm known?
#
# Write `first_alarm_batch(alarms, label_delay, after)`: `alarms` holds one boolean per
# batch (True when the rule fires *about* that batch); an alarm about batch `b` is known
# on batch `b + label_delay` (0 for a signal computed without labels). Consider only
# alarms about batches `after` or later, and return the batch on which the first of them
# is known, or `None` if none fires.

# %% tags=["solution"]
def first_alarm_batch(alarms, label_delay: int, after: int = 0):
    """The batch on which the first alarm about a batch ``>= after`` is known."""
    for batch, alarm in enumerate(alarms):
        if batch >= after and alarm:
            return batch + label_delay
    return None


# %%
checks.check_first_alarm_batch(first_alarm_batch, timelines=timelines,
                               label_delay=label_delay, after=DRIFT_BATCH)

# %% [markdown]
# The library's `first_alarms` reads the same off a timeline, for the two label-free
# signals too:

# %%
alarms = pd.DataFrame({kind: first_alarms(t, after=DRIFT_BATCH)
                       for kind, t in timelines.items()}).T.rename_axis("stream")
display(alarms)


def when(batch: float) -> str:
    if np.isnan(batch):
        return "never in these batches"
    after_end = " (after the last batch shown)" if batch >= N_BATCHES else ""
    return f"on batch {batch:.0f}{after_end}"


for kind in timelines:
    row = alarms.loc[kind]
    print(f"{kind} drift from batch {DRIFT_BATCH}, first alarm known. labels: "
          f"{when(row['labels'])}; estimated accuracy: {when(row['estimated accuracy'])}; "
          f"prediction drift: {when(row['prediction drift'])}.")
columns = {"labels": "label_alarm", "estimated accuracy": "estimate_alarm",
           "prediction drift": "prediction_alarm"}
early = [f"{signal} ({kind})" for kind, t in timelines.items()
         for signal, column in columns.items() if t.loc[:DRIFT_BATCH - 1, column].any()]
if early:
    print(f"already alarming before batch {DRIFT_BATCH}, with no drift: {', '.join(early)}; an "
          f"alarm that rings on undrifted batches (a bar of {min_accuracy} above what the "
          "model reaches anyway, or chance) says nothing about the drift.")
if not np.isnan(alarms.loc["concept", "prediction drift"]):
    print(f"(under concept drift the model's outputs did not move: that prediction-drift alarm "
          f"is one of the false alarms a test at level {MONITOR_ALPHA} per batch allows.)")
record("concept_label_alarm", alarms.loc["concept", "labels"])
record("concept_estimate_alarm", alarms.loc["concept", "estimated accuracy"])

# %% [markdown]
# Read the two streams with the printed batches. When the inputs move, the label-free
# signals can ring before the labels arrive: prediction drift sees the outputs move (the
# estimate may lag, since it extrapolates its calibration to points the reference never
# covered). When the rule turns, inputs and outputs stay where they were, so nothing
# computed from them can move: only the labels can see it, a full label delay late. A
# monitor keeps both, and shortens the label delay where it can (a small hand-labelled
# sample each batch).
#
# ## Wrap-up
#
# - Drift in the inputs is easy to detect, even when it does not hurt; drift in the
#   rule hurts, and is invisible in the inputs.
# - So a monitor checks both: input drift (KS + PSI, corrected for many features) and
#   accuracy on fresh labels as they arrive. Lab 5 builds that loop.
# - A PSI means something only next to its no-drift value at the same sample size.
# - Before the labels arrive, prediction drift and a confidence-based estimate of
#   accuracy buy time when the inputs move, and see nothing when the rule turns.
# - Try the parameter sets: `mlcicd labs run --lab 01` runs this notebook at several
#   drift levels and sample sizes.
