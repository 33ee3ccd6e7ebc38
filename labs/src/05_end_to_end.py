# %% [markdown]
# # Lab 5: End to end with monitoring
#
# The whole loop, in one notebook: data is validated, a model is trained and gated,
# released by canary, and watched. Then the world drifts. The monitor notices, retrains,
# and promotes the new model only on paired evidence; every promotion can be rolled
# back. Every step is a call to the same library the project's CLI and workflows use.
#
# **Learning objectives.** After this lab you can:
#
# 1. chain validation, training, the quality gate and a safe artifact into a release,
#    and stop the release at the first gate that says no;
# 2. release a model by canary from its artifact (hash-checked on load), on evidence
#    with stated error rates;
# 3. watch a stream in windows and raise the alarm at the first drifted window;
# 4. state and apply the monitoring rule: retrain on drift or low accuracy, promote only
#    a gated model with paired evidence (a tie is not a promotion), keep a history of
#    every decision, and roll a promotion back.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from mlcicd import registry
from mlcicd.artifacts import save_model
from mlcicd.deploy import CanaryPlan, CanaryRelease, ModelVersion, Router
from mlcicd.deploy.monitor import Monitor, read_history
from mlcicd.deploy.monitor_rules import PromotionRule
from mlcicd.drift import detect_drift, drift_stream, reference_data
from mlcicd.gate import GateThresholds, apply_gate
from mlcicd.labs import checks, record
from mlcicd.labs.ranges import check_lab_parameters
from mlcicd.training import TrainConfig, train
from mlcicd.validation import infer_schema, validate

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
# Every parameter has a legal range (`labs/params.yaml`); this cell stops the lab with
# one sentence if a value is outside it.

# %%
check_lab_parameters("05_end_to_end", globals())

# %% [markdown]
# ## Step 1: validate the training data
#
# Before anything is trained, the data must look like data: a schema drafted from a
# trusted sample (and then reviewed, like code) is checked against the full training set.
# Each gate of this release can say no; `stopped` keeps the first one that did, and the
# steps after it say so instead of going on.

# %%
workdir = Path(tempfile.mkdtemp(prefix="lab5-"))
X_all, y_all = reference_data(n=n_train, seed=seed)
train_df = X_all.assign(target=y_all)
schema = infer_schema(train_df.iloc[: n_train // 2], target="target")
report = validate(train_df, schema)
print(report.summary())
record("validation_ok", report.ok)
stopped = None if report.ok else "data validation"


def release_stopped() -> bool:
    """Say where the release stopped, if it did."""
    if stopped:
        print(f"the release stopped at the {stopped}: nothing after it runs.")
    return stopped is not None


# %% [markdown]
# ## Step 2: train, gate, save
#
# Production runs last month's model, `v0`, trained on only 100 rows; its artifact is
# the production folder. The new model is trained with cross-validation and scored on a
# held-out split; the gate holds it to the minimum accuracy; only then is it saved, as a
# *candidate* artifact whose `metadata.json` is written last (the commit point).

# %%
config = TrainConfig(model="random_forest", params={"n_estimators": 50}, cv_folds=3, seed=seed)
production_dir, candidate_dir = workdir / "production", workdir / "candidate"
old = train(TrainConfig(model="random_forest", params={"n_estimators": 50}, cv_folds=2,
                        seed=seed), train_df.iloc[:100])
save_model(old.pipeline, production_dir, config=config, metrics=old.metrics,
           data=train_df.iloc[:100])
if not release_stopped():
    result = train(config, train_df)
    gate = apply_gate(result.metrics, GateThresholds(min_accuracy=min_accuracy))
    print(f"cross-validated accuracy {result.metrics['cv_mean']:.3f} "
          f"(+- {result.metrics['cv_std']:.3f}); test accuracy "
          f"{result.metrics['accuracy']:.3f}; gate {'passed' if gate.passed else 'failed'} "
          f"(minimum {min_accuracy})")
    record("first_model_accuracy", result.metrics["accuracy"])
    if gate.passed:
        save_model(result.pipeline, candidate_dir, config=config, metrics=result.metrics,
                   data=train_df)
    else:
        stopped = "quality gate"
        release_stopped()

# %% [markdown]
# ## Step 3: release it by canary
#
# The candidate, loaded from its artifact (its hash is checked), goes out by canary on
# the live traffic that arrives before the drift. The canary compares it with `v0` on
# the same requests and promotes it only when the evidence shows it is not much worse;
# when the traffic ends first, the release is *inconclusive* and `v0` stays.

# %%
X_stream, y_stream = drift_stream(n_stream, drift_at, kind=drift_kind, level=drift_level,
                                  seed=seed + 1)
X_stream, y_stream = X_stream.reset_index(drop=True), y_stream.reset_index(drop=True)
plan = CanaryPlan(steps=(0.1, 0.5, 1.0), min_requests=60, min_labels=30)


def show_timeline(release: CanaryRelease) -> None:
    """The canary's decisions so far (none yet when the traffic was too short)."""
    timeline = release.timeline_frame()
    if len(timeline):
        shown = ["step", "weight", "labelled", "difference", "difference_low",
                 "difference_high", "decision"]
        display(timeline[[c for c in shown if c in timeline]].round(3))
    print(f"status: {release.status_}; live: {release.router.live_versions()}")


first_status = "not run"
if not release_stopped():
    v0 = ModelVersion.from_artifact(production_dir, "v0")
    v1 = ModelVersion.from_artifact(candidate_dir, "v1")
    if drift_at == 0:
        print("no traffic arrives before the drift: the canary has nothing to judge, so v1 "
              "is not released and v0 stays in production.")
    else:
        router = Router({"stable": v0, "canary": None})
        first = CanaryRelease(router, v1, plan).run(X_stream.iloc[:drift_at],
                                                    y_stream.iloc[:drift_at])
        show_timeline(first)
        first_status = first.status_
        if first.status_ == "promoted":
            registry.promote(candidate_dir, production_dir, reason="canary passed")
    in_production = "v1" if first_status == "promoted" else "v0"
    print(f"canary: {first_status}; production now serves {in_production}.")
record("first_release", first_status)

# %% [markdown]
# ## Step 4: the drift arrives
#
# From row `drift_at` of the stream on, the world moves. Labels arrive later in real
# life, but here we can already see what the production model's accuracy does, window
# by window.

# %%
starts = np.arange(0, n_stream - window + 1, window)
if not release_stopped():
    production_model = ModelVersion.from_artifact(production_dir, "production").model
    correct = pd.Series(production_model.predict(X_stream) == y_stream.to_numpy())
    rolling = [correct.iloc[s:s + window].mean() for s in starts]
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.plot(starts + window / 2, rolling, marker="o", label="production accuracy per window")
    ax.axhline(min_accuracy, color="black", linestyle="--", label="minimum accuracy")
    ax.axvline(drift_at, color="tab:red", linestyle=":", label="drift arrives")
    ax.set_xlabel("request")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0.0, 1.02)
    ax.legend(loc="lower left")
    plt.show()
    parts = []
    if drift_at > 0:
        parts.append(f"{correct.iloc[:drift_at].mean():.3f} on the {drift_at} requests before "
                     "the drift")
    if drift_at < n_stream:
        after = correct.iloc[drift_at:].mean()
        parts.append(f"{after:.3f} on the {n_stream - drift_at} requests after it")
        record("accuracy_after_drift", after)
    print("production accuracy: " + ", ".join(parts) + ".")

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
# Every window, once its labels are in, goes through the monitor: a drift test against
# the data the production model was trained on, the production model's accuracy, and,
# when either fails, retraining on the training data plus half of the window. Both models
# then answer the other half, the hold-out, and the **paired evidence** decides:
#
# - production still meets its minimum (drift alone triggered the retrain): the candidate
#   must be shown *better* (the lower bound of the accuracy difference above 0); a tie
#   is not a promotion;
# - production is below its minimum: the candidate must pass the gate and be shown not
#   much worse (non-inferiority with a margin, as in the canary).
#
# Window `k` since the reference last moved is tested at `alpha / (k (k + 1))`, so all
# windows together raise a false alarm with probability at most `alpha`. A promotion is a
# new deployment of the production folder; the previous model stays there. Every
# decision lands in a history file before it is reported.

# %%
outcome = "not run"
if not release_stopped():
    print("the promotion rule's risks:", PromotionRule().risks())
    monitor = Monitor(production_dir, reference=X_all, train_data=train_df, config=config,
                      min_accuracy=min_accuracy, alpha=alpha, history=workdir / "history.jsonl")
    stream_df = X_stream.assign(target=y_stream)
    for start in starts:
        decision = monitor.run(stream_df.iloc[start:start + window])
        if decision.outcome == "promoted":
            break
    history = pd.DataFrame(read_history(workdir / "history.jsonl"))
    history["accuracy"] = [m["accuracy"] for m in history["batch_metrics"]]
    history["drift"] = [d["drifted"] for d in history["drift"]]
    history["evidence"] = [
        f"{e['candidate_only']} vs {e['production_only']} of {e['n']}"
        if isinstance(e, dict) else "" for e in history.get("evidence", [None] * len(history))]
    display(history[["window", "outcome", "drift", "accuracy", "evidence"]].round(3))
    outcome = decision.outcome
    retrains = int(history["retrained"].sum())
    print(f"{len(history)} windows watched, {retrains} retrain(s); last outcome: {outcome}.")
    for reason in decision.reasons:
        print("-", reason)
    record("monitor_windows_seen", len(history))
record("monitor_outcome", outcome)

# %% [markdown]
# ## Exercise 2: the monitor's rule
#
# Write the rule the monitor applied, as a function of what it measured:
# `monitor_decision(drifted, accuracy, min_accuracy, candidate_passes_gate, estimate,
# lower, upper, margin)`, where `estimate`, `lower` and `upper` are the candidate-minus-
# production accuracy difference on the hold-out and its one-sided bounds. Return
# `"no retrain"` when there is no drift and `accuracy >= min_accuracy`. Otherwise a
# retrain happened: `"rejected"` when the candidate fails the gate; if production meets
# its minimum, `"promoted"` only when `lower > 0`; if not, `"promoted"` when the canary's
# rule (Lab 4, with `margin`) would promote. Anything else is `"rejected"`: the
# hold-out is scored once, so there is no waiting.

# %% tags=["solution"]
def monitor_decision(drifted: bool, accuracy: float, min_accuracy: float,
                     candidate_passes_gate: bool, estimate: float, lower: float, upper: float,
                     margin: float) -> str:
    """The outcome of one monitoring cycle."""
    production_ok = accuracy >= min_accuracy
    if not drifted and production_ok:
        return "no retrain"
    if not candidate_passes_gate:
        return "rejected"
    if production_ok:
        return "promoted" if lower > 0 else "rejected"
    worse, close_enough = upper < 0, lower > -2 * margin
    if worse and close_enough:
        return "promoted" if estimate >= -margin else "rejected"
    return "promoted" if close_enough else "rejected"


# %%
checks.check_monitor_decision(monitor_decision)

# %% [markdown]
# ## Step 6: every promotion can be undone
#
# The production folder keeps each deployment. `registry.history` lists them, and
# `registry.rollback` (the CLI's `mlcicd rollback`) serves the previous model again as a
# new deployment: nothing is overwritten, so a rollback can itself be undone.

# %%
if not release_stopped():
    display(pd.DataFrame([d.to_dict() for d in registry.history(production_dir)])[
        ["number", "action", "stage", "replaced", "restores", "reason"]])
    if outcome == "promoted":
        promoted_number = registry.history(production_dir)[-1].number
        back = registry.rollback(production_dir, reason="lab 5: the way back")
        print(f"rolled back: deployment {back.number} serves again the model of deployment "
              f"{back.restores}.")
        forward = registry.rollback(production_dir, to=promoted_number,
                                    reason="lab 5: forward again")
        print(f"and forward: deployment {forward.number} serves deployment "
              f"{forward.restores} again.")
    else:
        print(f"the monitor promoted nothing ({outcome}), so production is the deployment "
              "above and there is nothing of this run to roll back.")

# %% [markdown]
# ## Step 7: release the retrained model by canary
#
# The monitor's evidence came from one hold-out; the canary checks the retrained model
# again on fresh traffic (the rows after the window it learnt from), against the model it
# replaces, before it serves everyone.

# %%
second_status = "not run"
if not release_stopped():
    fresh = slice(int(start) + window, n_stream)  # rows after the window it learnt from
    if outcome != "promoted":
        print(f"nothing to release: the monitor's outcome was {outcome!r}.")
    elif fresh.start >= n_stream:
        print("the monitor promoted on the last window: no fresh traffic is left for a "
              "canary in this stream.")
    else:
        retrained = ModelVersion.from_artifact(production_dir, "retrained")
        stable = v1 if first_status == "promoted" else v0
        router = Router({"stable": stable, "canary": None})
        second = CanaryRelease(router, retrained, plan).run(X_stream.iloc[fresh],
                                                            y_stream.iloc[fresh])
        show_timeline(second)
        second_status = second.status_
record("second_release", second_status)

# %% [markdown]
# ## Wrap-up
#
# - The pipeline is a chain of gates: invalid data, a model under the bar, a canary
#   without the evidence, each stops the release on its own, and says so.
# - Monitoring closes the loop: input drift is caught from the features alone, quality
#   drops once labels arrive, and a retrained model must earn its place with paired
#   evidence; a tie keeps the model that works.
# - Every promotion is a deployment that can be rolled back.
# - Try `mlcicd labs run --lab 05 --params concept_drift`: the inputs do not move, so only
#   the accuracy check can trigger a retrain, and a candidate trained mostly on rows that
#   follow the old rule has little chance to be shown good enough. After a concept drift,
#   old data must be dropped or down-weighted, which is a decision for a person.
