# %% [markdown]
# # Lab 5: End to end with monitoring
#
# The whole loop, in one notebook: data is validated, a model is trained and gated,
# released by canary, and watched. Then the world drifts. The monitor notices, retrains,
# gates the new model and promotes it, and the retrained model goes out by canary
# again. Every step is a call to the same library the project's CLI and workflows use.
#
# **Learning objectives.** After this lab you can:
#
# 1. chain validation, training, the quality gate and a safe artifact into a release;
# 2. release a model by canary from its artifact (hash-checked on load);
# 3. watch a stream in windows and raise the alarm at the first drifted window;
# 4. state and apply the monitoring rule: retrain on drift or low accuracy, promote only
#    a gated, better model, and keep a history of every decision.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from mlcicd.artifacts import save_model
from mlcicd.deploy import CanaryPlan, CanaryRelease, ModelVersion, Router
from mlcicd.drift import detect_drift, drift_stream, reference_data
from mlcicd.deploy.monitor import Monitor, read_history
from mlcicd.gate import GateThresholds, apply_gate
from mlcicd.labs import checks, record
from mlcicd.training import TrainConfig, train
from mlcicd.validation import Schema, validate

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
seed = 0  # seeds data, models and splits
n_train = 1500  # labelled rows available for the first training
n_stream = 3000  # requests in the production stream
drift_at = 1500  # row of the stream where the drift arrives
drift_kind = "covariate"  # covariate, concept or prior
drift_level = 1.0  # how far the world moves, in [0, 1]
window = 300  # rows per monitoring window
min_accuracy = 0.9  # the quality bar, for the gate and the monitor
alpha = 0.05  # significance level of the drift tests

# %% [markdown]
# ## Step 1: validate the training data
#
# Before anything is trained, the data must look like data: a schema drafted from a
# trusted sample (and then reviewed, like code) is checked against the full training set.

# %%
workdir = Path(tempfile.mkdtemp(prefix="lab5-"))
X_all, y_all = reference_data(n=n_train, seed=seed)
train_df = X_all.assign(target=y_all)
schema = Schema.infer(train_df.iloc[: n_train // 2], target="target")
report = validate(train_df, schema)
print(report.summary())
record("validation_ok", report.ok)

# %% [markdown]
# ## Step 2: train, gate, save
#
# The model is trained with cross-validation and scored on a held-out test split; the
# gate holds it to the minimum accuracy; only then is it saved, as an artifact whose
# `metadata.json` is written last (the commit point).

# %%
config = TrainConfig(model="random_forest", params={"n_estimators": 50}, cv_folds=3, seed=seed)
result = train(config, train_df)
gate = apply_gate(result.metrics, GateThresholds(min_accuracy=min_accuracy))
print(f"cross-validated accuracy {result.metrics['cv_mean']:.3f} "
      f"(+- {result.metrics['cv_std']:.3f}); test accuracy {result.metrics['accuracy']:.3f}")
print(f"gate: {'passed' if gate.passed else 'failed'}")
production_dir = workdir / "production"
if gate.passed:
    save_model(result.pipeline, production_dir, config=config, metrics=result.metrics,
               data=train_df)
record("first_model_accuracy", result.metrics["accuracy"])

# %% [markdown]
# ## Step 3: release it by canary
#
# Production currently runs last month's model, trained on only 100 rows. The new
# model, loaded from its artifact (its hash is checked), goes out by canary on live
# traffic and is promoted only if its guardrails hold at every step.

# %%
old = train(TrainConfig(model="random_forest", params={"n_estimators": 50}, cv_folds=2,
                        seed=seed), train_df.iloc[:100])
X_stream, y_stream = drift_stream(n_stream, drift_at, kind=drift_kind, level=drift_level,
                                  seed=seed + 1)
X_stream, y_stream = X_stream.reset_index(drop=True), y_stream.reset_index(drop=True)
plan = CanaryPlan(steps=(0.1, 0.5, 1.0), min_requests=60, min_labels=50)


def show_timeline(release: CanaryRelease) -> None:
    """The canary's decisions so far (none yet when the traffic was too short)."""
    timeline = release.timeline_frame()
    if len(timeline):
        shown = ["step", "weight", "canary_accuracy", "stable_accuracy", "decision"]
        display(timeline[shown].round(3))
    print(f"status: {release.status_}; live: {release.router.live_versions()}")


router = Router({"stable": ModelVersion(old.pipeline, "v0"), "canary": None})
v1 = ModelVersion.from_artifact(production_dir, "v1")
first = CanaryRelease(router, v1, plan).run(X_stream.iloc[:drift_at], y_stream.iloc[:drift_at])
show_timeline(first)
record("first_release", first.status_)

# %% [markdown]
# ## Step 4: the drift arrives
#
# From row `drift_at` of the stream on, the world moves. Labels arrive later in real
# life, but here we can already see what the production model's accuracy does, window
# by window.

# %%
predictions = v1.model.predict(X_stream)
correct = pd.Series(predictions == y_stream.to_numpy())
starts = np.arange(0, n_stream - window + 1, window)
rolling = [correct.iloc[s:s + window].mean() for s in starts]
fig, ax = plt.subplots(figsize=(6.5, 3.4))
ax.plot(starts + window / 2, rolling, marker="o", label="v1 accuracy per window")
ax.axhline(min_accuracy, color="black", linestyle="--", label="minimum accuracy")
ax.axvline(drift_at, color="tab:red", linestyle=":", label="drift arrives")
ax.set_xlabel("request")
ax.set_ylabel("accuracy")
ax.set_ylim(0.4, 1.02)
ax.legend(loc="lower left")
plt.show()
record("accuracy_after_drift", correct.iloc[drift_at:].mean())

# %% [markdown]
# ## Exercise 1: raise the alarm
#
# The monitor cannot wait for labels to notice that the inputs moved. Write
# `first_drifted_window(reference, stream, window, alpha)`: cut `stream` into
# non-overlapping windows of `window` rows from row 0 (drop an incomplete last one), run
# `detect_drift(reference, chunk, alpha=alpha)` on each, and return the start row of the
# first window it flags, or `None`.

# %% tags=["solution"]
def first_drifted_window(reference: pd.DataFrame, stream: pd.DataFrame, window: int,
                         alpha: float) -> int | None:
    """Start row of the first window where drift is detected, or None."""
    for start in range(0, len(stream) - window + 1, window):
        chunk = stream.iloc[start:start + window]
        if detect_drift(reference, chunk, alpha=alpha).drifted:
            return start
    return None


# %%
checks.check_first_drifted_window(first_drifted_window)

# %% [markdown]
# ## Step 5: the monitoring cycle
#
# Every window, once its labels are in, goes through the monitor: drift test against the
# training data, accuracy of the production model, and, when either fails, retraining
# on the training data plus half of the window, a gate, a comparison with production on
# the other half, and an atomic promotion. Every decision lands in a history file.

# %%
monitor = Monitor(production_dir, reference=X_all, train_data=train_df, config=config,
                  min_accuracy=min_accuracy, alpha=alpha, history=workdir / "history.jsonl")
stream_df = X_stream.assign(target=y_stream)
for start in starts:
    decision = monitor.run(stream_df.iloc[start:start + window])
    if decision.outcome != "no retrain":
        break
history = pd.DataFrame(read_history(workdir / "history.jsonl"))
history["accuracy"] = [m["accuracy"] for m in history["batch_metrics"]]
history["drift"] = [d["drifted"] for d in history["drift"]]
display(history[["outcome", "drift", "accuracy", "retrained", "promoted"]].round(3))
for reason in decision.reasons:
    print("-", reason)
record("monitor_outcome", decision.outcome)
record("monitor_windows_seen", len(history))

# %% [markdown]
# ## Exercise 2: the monitor's rule
#
# Write the rule the monitor applied, as a function of what it measured. Return
# `"no retrain"` when there is no drift and the accuracy reaches `min_accuracy`;
# otherwise (a retrain happened) `"promoted"` when the candidate passes the gate and is
# at least as accurate as production on the hold-out, else `"rejected"`.

# %% tags=["solution"]
def monitor_decision(drifted: bool, accuracy: float, min_accuracy: float,
                     candidate_passes_gate: bool, candidate_accuracy: float,
                     production_accuracy: float) -> str:
    """The outcome of one monitoring cycle."""
    if not drifted and accuracy >= min_accuracy:
        return "no retrain"
    if candidate_passes_gate and candidate_accuracy >= production_accuracy:
        return "promoted"
    return "rejected"


# %%
checks.check_monitor_decision(monitor_decision)

# %% [markdown]
# ## Step 6: release the retrained model by canary
#
# When the monitor promoted a model, the artifact folder now holds it. It goes out like
# any other release: by canary, against the model it replaces, on the drifted traffic.

# %%
if decision.outcome == "promoted":
    v2 = ModelVersion.from_artifact(production_dir, "v2")
    router = Router({"stable": v1, "canary": None})
    after = slice(drift_at, n_stream)
    second = CanaryRelease(router, v2, plan).run(X_stream.iloc[after], y_stream.iloc[after])
    show_timeline(second)
    record("second_release", second.status_)
else:
    print(f"nothing to release: the monitor's outcome was {decision.outcome!r}")

# %% [markdown]
# ## Wrap-up
#
# - The pipeline is a chain of gates: invalid data, a model under the bar, a canary that
#   breaks a guardrail, each stops the release on its own.
# - Monitoring closes the loop: input drift is caught from the features alone, quality
#   drops once labels arrive, and a retrained model must earn its place like any other.
# - Try `mlcicd labs run --lab 05 --params concept_drift`: the inputs do not move, so only
#   the accuracy check triggers the retrain, and the candidate, trained mostly on rows
#   that follow the old rule, fails the gate and is rejected. After a concept drift, old
#   data must be dropped or down-weighted, which is a decision for a person.
