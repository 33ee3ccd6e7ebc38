# %% [markdown]
# # Lab 3: The pull-request model check
#
# A pull request that changes a model (its hyper-parameters, its features, its training
# data) must show, before it is merged, whether the new model is better than the one in
# production. In this lab you play the CI job that answers: it trains a baseline and a
# candidate, compares them on the same test rows, writes the comment the bot posts on
# the pull request, and applies the quality gate that decides whether the merge may go on.
#
# **Learning objectives.** After this lab you can:
#
# 1. train, save and reload two models as artifacts that carry their metrics;
# 2. compare them on the same rows and write the regression rule yourself;
# 3. tell a real difference from noise with a paired bootstrap interval and McNemar's test;
# 4. write a quality gate as YAML and apply it, as the pull-request workflow does.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from mlcicd.artifacts import load_model, save_model
from mlcicd.compare import compare_models
from mlcicd.datasets import load_breast_cancer_frame, split_frame
from mlcicd.gate import GateThresholds, apply_gate
from mlcicd.labs import checks, record
from mlcicd.labs.ranges import check_lab_parameters
from mlcicd.stats import BootstrapResult
from mlcicd.training import TrainConfig, train

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
seed = 0  # seeds the split, the models and the bootstrap
test_size = 0.25  # share of rows held out for the comparison
baseline_model = "random_forest"  # the model in production
baseline_params = {"n_estimators": 50}
candidate_model = "logistic_regression"  # the model the pull request proposes
candidate_params = {"C": 1.0}
max_regression = 0.01  # largest drop allowed on any metric, 0.01 is 1 point
min_accuracy = 0.9  # gate: lowest acceptable accuracy
min_recall = 0.9  # gate: lowest acceptable recall
n_resamples = 1000  # bootstrap resamples of the accuracy difference

# %% [markdown]
# Every parameter has a legal range (`labs/params.yaml`); this cell stops the lab with
# one sentence if a value is outside it.

# %%
check_lab_parameters("03_pr_model_check", globals())

# %% [markdown]
# ## Step 1: train and save both models
#
# Both models see the same training rows and are scored on the same test rows, the
# only fair comparison. Each is saved as an artifact folder: the model (skops, with its
# SHA-256), `metadata.json` (config, data fingerprint, library versions) and
# `metrics.json`, which the gate reads.

# %%
train_df, test_df = split_frame(load_breast_cancer_frame(), test_size=test_size, seed=seed)
models = Path(tempfile.mkdtemp(prefix="lab3-")) / "models"
results = {}
for role, name, params in [
    ("baseline", baseline_model, baseline_params),
    ("candidate", candidate_model, candidate_params),
]:
    config = TrainConfig(model=name, params=dict(params), cv_folds=3, seed=seed)
    results[role] = train(config, train_df, test_df)
    save_model(results[role].pipeline, models / role, config=config,
               metrics=results[role].metrics, data=train_df)

shown = ["accuracy", "precision", "recall", "f1", "cv_mean", "cv_std"]
display(pd.DataFrame({role: r.metrics for role, r in results.items()}).loc[shown].round(4))

# %% [markdown]
# ## Step 2: compare them
#
# `compare_models` predicts the test rows with both models and lines the metrics up.
# The bar chart shows each metric's change; the dashed line is the largest drop allowed.

# %%
report = compare_models(
    load_model(models / "baseline"),
    load_model(models / "candidate"),
    test_df,
    max_regression=max_regression,
    n_resamples=n_resamples,
    seed=seed,
    baseline_path="models/baseline",
    candidate_path="models/candidate",
    timing_repeats=1,
)
display(report.to_frame().round(4))
report.plot()
plt.show()
record("baseline_accuracy", report.baseline_metrics["accuracy"])
record("candidate_accuracy", report.candidate_metrics["accuracy"])
record("comparison_passed", report.passed)

# %% [markdown]
# ## Exercise 1: the regression rule
#
# Write `regressed_metrics`: the names of the metrics on which the candidate is worse
# than the baseline by *more* than `max_regression`. A drop of exactly
# `max_regression` is allowed. Careful: with floats, `0.95 - 0.94` is not exactly `0.01`.

# %% tags=["solution"]
def regressed_metrics(baseline: dict, candidate: dict, max_regression: float) -> list:
    """Names of the metrics that drop by more than ``max_regression``."""
    tolerance = 1e-9
    return [
        name
        for name, value in baseline.items()
        if candidate[name] < value - max_regression - tolerance
    ]


# %%
checks.check_regressed_metrics(regressed_metrics)

# %% [markdown]
# ## Step 3: is the difference real?
#
# A test set of a few hundred rows is small: a model that is right on two more rows
# gains a visible share of accuracy by luck (the first line below says how much here).
# Two tools, both *paired* (the two models are judged on the same rows):
#
# - a **bootstrap interval** of the accuracy difference: resample the test rows many
#   times, recompute candidate minus baseline, keep the middle 95 %;
# - **McNemar's exact test**, which looks only at the rows where the models disagree.

# %%
ci = report.accuracy_ci
print(f"on these {len(test_df)} test rows, two more right answers are worth "
      f"{2 / len(test_df):.1%} of accuracy.")
print(f"accuracy change {ci.estimate:+.4f}, 95% interval [{ci.low:+.4f}, {ci.high:+.4f}]")
print(report.mcnemar.interpret(names=("the baseline", "the candidate")))
record("ci_low", ci.low)
record("ci_high", ci.high)

# %% [markdown]
# ## Exercise 2: read the interval
#
# Write `read_interval`: `"better"` when the whole interval is above zero, `"worse"` when
# it is all below zero, and `"no evidence"` otherwise (an interval touching zero
# included).

# %% tags=["solution"]
def read_interval(interval: BootstrapResult) -> str:
    """``"better"``, ``"worse"`` or ``"no evidence"`` from a difference's interval."""
    if interval.low > 0:
        return "better"
    if interval.high < 0:
        return "worse"
    return "no evidence"


# %%
checks.check_interval_reading(read_interval)

# %% [markdown]
# ## Step 4: the pull-request comment
#
# This is the Markdown the workflow posts on the pull request (prediction times are left
# out here because they change from run to run). The hidden marker on its first line
# lets the bot update its own comment on each push instead of adding a new one. Locally,
# `mlcicd compare --baseline models/baseline --candidate models/candidate --test test.csv`
# prints the same text.

# %%
display(Markdown(report.to_markdown(include_timing=False)))

# %% [markdown]
# ## Exercise 3: the quality gate
#
# The comparison says whether the candidate is worse than the baseline; the gate also
# holds it to absolute minimums. Your team wants: accuracy at least 0.90, recall at
# least 0.90, and no metric more than 1 point below the baseline. Write the gate file
# that the workflow reads, as YAML text (keys: `min_accuracy`, `min_precision`,
# `min_recall`, `min_f1`, `max_regression`).

# %% tags=["solution"]
def gate_yaml() -> str:
    """The team's quality gate, as the text of a YAML file."""
    return "min_accuracy: 0.90\nmin_recall: 0.90\nmax_regression: 0.01\n"


# %%
checks.check_gate_yaml(gate_yaml)

# %% [markdown]
# ## Step 5: apply the gate and decide
#
# The workflow applies the gate to the artifacts' `metrics.json` files, exactly as
# `mlcicd gate --metrics models/candidate/metrics.json --baseline
# models/baseline/metrics.json --thresholds gate.yaml` does. Every rule is listed, passed
# or not, so a failing gate says everything that is wrong at once.

# %%
thresholds = GateThresholds(
    min_accuracy=min_accuracy, min_recall=min_recall, max_regression=max_regression
)
gate = apply_gate(
    models / "candidate" / "metrics.json",
    thresholds,
    baseline_metrics=models / "baseline" / "metrics.json",
)
display(Markdown(gate.to_markdown()))
decision = "merge" if gate.passed else "block the merge"
print(f"decision: {decision}")
record("gate_passed", gate.passed)

# %% [markdown]
# ## Wrap-up
#
# - Compare on the same rows, and read differences with paired statistics: on a small
#   test set, a point of accuracy is often noise.
# - The regression rule and the gate are code and configuration, reviewed like the rest.
# - The pull-request comment is generated by the same library you ran here, so what a
#   reviewer reads is what the pipeline decided. Try the `weak_candidate` parameter set
#   (`mlcicd labs run --lab 03 --params weak_candidate`) to see a blocked merge.
