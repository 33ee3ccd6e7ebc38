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
# 4. correct for testing many features at once, and say what input monitoring cannot see.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from sklearn.ensemble import RandomForestClassifier

from mlcicd.drift import (
    DESCRIPTIONS,
    accuracy_under_drift,
    detect_drift,
    labelling_rule,
    make_drifted,
    reference_data,
)
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
# ## Step 4: many features, many false alarms
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
    for correction in false_alarms:
        false_alarms[correction] += detect_drift(
            reference, calm, alpha=alpha, correction=correction
        ).drifted
rates = pd.Series({k: v / n_repeats for k, v in false_alarms.items()}, name="false alarm rate")
display(rates.to_frame())
record("false_alarm_rate_uncorrected", rates["none"])
record("false_alarm_rate_bonferroni", rates["bonferroni"])
print(f"measured over {n_repeats} drift-free samples: {rates['none']:.0%} raised at least one "
      f"alarm without a correction, {rates['bonferroni']:.0%} with Bonferroni, "
      f"{rates['bh']:.0%} with Benjamini-Hochberg.")

# %% [markdown]
# ## Exercise 3: the Bonferroni correction
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
# ## Step 5: what input monitoring cannot see
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
# ## Wrap-up
#
# - Drift in the inputs is easy to detect, even when it does not hurt; drift in the
#   rule hurts, and is invisible in the inputs.
# - So a monitor checks both: input drift (KS + PSI, corrected for many features) and
#   accuracy on fresh labels as they arrive. Lab 5 builds that loop.
# - Try the parameter sets: `mlcicd labs run --lab 01` runs this notebook at several
#   drift levels and sample sizes.
