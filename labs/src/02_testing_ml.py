# %% [markdown]
# # Lab 2: Testing ML: data, model and pipeline
#
# A model can break without a single line of code changing: the data moves, a column
# arrives in metres instead of centimetres, a retrained model gets worse. In this lab you
# write the three kinds of automated checks that catch those failures before users do.
#
# **Learning objectives.** After this lab you can:
#
# 1. write a data schema that accepts clean data and catches every problem in a dirty
#    data set, and read a validation report that lists all failures at once;
# 2. repair a data set until it passes validation, without throwing most of it away;
# 3. write model performance tests that would catch a broken model;
# 4. write integration tests for a whole training pipeline, and run all your tests with
#    pytest from the notebook;
# 5. test a model's behaviour with a directional expectation, and catch a model that
#    breaks it;
# 6. gate a release on per-slice accuracy, and explain why a small slice needs a
#    confidence bound rather than its observed accuracy.
#
# Each exercise is a function with a `# TODO`. Run the check cell below it: it prints
# `PASS` or `NOT YET` with a hint that says what is wrong.

# %%
import numpy as np
import pandas as pd
from IPython.display import display
from scipy import stats

from mlcicd.behaviour import directional_test, slice_gate
from mlcicd.datasets import (
    CITIES,
    TARGET,
    make_dirty_frame,
    people_schema,
)
from mlcicd.labs import checks, record
from mlcicd.labs.checks_behaviour import BENIGN, TOLERANCE, MirroredFeatureModel
from mlcicd.labs.ranges import check_lab_parameters
from mlcicd.labs.testrun import lab_fixtures, module_source_for, run_tests
from mlcicd.metrics import prediction_balance
from mlcicd.training import evaluate, split_xy
from mlcicd.validation import ColumnSchema, Schema, validate

pd.set_option("display.width", 120)

# %% [markdown]
# ## Parameters
#
# papermill can override this cell (`mlcicd labs run --lab 02 --params small_sample`).

# %% tags=["parameters"]
seed = 0  # seeds the synthetic data and the models
n_rows = 200  # rows of the people data (at least 50)
min_accuracy = 0.9  # the performance tests' minimum accuracy
n_estimators = 50  # trees of the random forest under test

# %% [markdown]
# Every parameter has a legal range (`labs/params.yaml`); this cell stops the lab with
# one sentence if a value is outside it.

# %%
check_lab_parameters("02_testing_ml", globals())

# %% [markdown]
# ## Step 1: look at the dirty data
#
# `make_dirty_frame` builds a small table of people with deliberate problems. Some are
# easy to see, most are not.

# %%
dirty = make_dirty_frame(seed=seed, n=n_rows)
display(dirty.head())
print(dirty.dtypes.to_string())

# %% [markdown]
# ## Exercise 1: write a schema
#
# Describe what *good* people data looks like with `Schema` and `ColumnSchema`
# (`help(ColumnSchema)` lists every rule). The columns: `person_id` (an identifier),
# `age` in years, `income` in euros per year (a few missing values are normal, at most
# 5 %), `score` in [0, 1], `height_cm`, `weight_kg`, `city` (one of `CITIES`) and
# `member` (a bool). Duplicate rows are never acceptable.
#
# The check runs your schema on clean data (it must pass: a schema that blocks good
# data blocks every release) and on the dirty data (it must catch every problem).

# %% tags=["solution"]
def make_schema() -> Schema:
    """Return the schema of the people data."""
    return Schema(
        columns=(
            ColumnSchema("person_id", dtype="integer", nullable=False, min=1, unique=True),
            ColumnSchema("age", dtype="integer", nullable=False, min=0, max=120),
            ColumnSchema("income", dtype="float", max_missing_rate=0.05, min=0),
            ColumnSchema("score", dtype="float", nullable=False, min=0, max=1),
            ColumnSchema("height_cm", dtype="float", nullable=False, min=100, max=230),
            ColumnSchema("weight_kg", dtype="float", nullable=False, min=30, max=250),
            ColumnSchema("city", dtype="category", nullable=False, allowed=CITIES),
            ColumnSchema("member", dtype="bool", nullable=False),
        ),
        max_duplicate_rows=0,
    )


# %%
checks.check_schema(make_schema, seed=seed, n_rows=n_rows)

# %% [markdown]
# ## Step 2: read the full validation report
#
# The library's reference schema (`people_schema()`) also bounds each column's mean and
# spread. A good validator does not stop at the first failure: one run lists everything
# that is wrong, so one pass of fixes is enough.

# %%
report = validate(dirty, people_schema())
print(report.summary())
display(report.to_frame())
record("validation_failures", len(report.failures))
statistical = sorted({f"{f.check} of {f.column}" for f in report.failures
                      if f.check in ("mean", "std")})
if statistical:
    print(f"statistical failures on these {n_rows} rows: {', '.join(statistical)}.")
else:
    print(f"no statistical failure on these {n_rows} rows: the bad values are too few to "
          "move a column's mean or spread out of bounds; only the row rules catch them.")

# %% [markdown]
# Look for the statistical failures (the mean or spread of a column out of bounds): in a
# small table, two scores typed as percentages (85.0) are enough to push the mean score
# and its spread out of bounds; in a large one they are diluted, and only the range rule
# catches them. A range rule finds the rows; a statistical rule tells you the column as a
# whole no longer looks like itself.
#
# ## Exercise 2: repair the data
#
# Write `repair(df)` so that the result passes `people_schema()`. Keep as many rows as
# you can: recover what can be recovered (heights typed in metres, the city's case,
# missing incomes can be filled with the median), drop only rows that cannot be trusted.
# Do not change `df` itself.

# %% tags=["solution"]
def repair(df: pd.DataFrame) -> pd.DataFrame:
    """Return a repaired copy of the people data."""
    out = df.drop_duplicates().copy()
    out["weight_kg"] = pd.to_numeric(out["weight_kg"], errors="coerce")
    in_metres = out["height_cm"] < 3
    out.loc[in_metres, "height_cm"] = out.loc[in_metres, "height_cm"] * 100
    out["city"] = out["city"].str.title()
    out["income"] = out["income"].fillna(out["income"].median())
    keep = (
        out["age"].between(0, 120)
        & out["income"].ge(0)
        & out["score"].between(0, 1)
        & out["weight_kg"].notna()
    )
    return out[keep].reset_index(drop=True)


# %%
checks.check_repair(repair, seed=seed, n_rows=n_rows)

# %% [markdown]
# ## Step 3: a model to test
#
# The performance and integration tests below run against a random forest trained on
# scikit-learn's breast-cancer data. `lab_fixtures` builds the same objects that the
# pytest fixtures of Step 5 will hand to your tests.

# %%
fixtures = lab_fixtures(seed=seed, n_estimators=n_estimators)
model, test_df = fixtures["model"], fixtures["test_df"]
metrics = evaluate(model, test_df, TARGET)
print({name: round(metrics[name], 3) for name in ("accuracy", "precision", "recall", "f1")})
X_test, _ = split_xy(test_df, TARGET)
shares = prediction_balance(model.predict(X_test))
print("predicted class shares:", {label: round(share, 3) for label, share in shares.items()})
record("accuracy", metrics["accuracy"])

# %% [markdown]
# ## Exercise 3: performance tests
#
# Write two pytest tests. Each asks for the fixtures `model` and `test_df`:
#
# - `test_accuracy_is_at_least_the_minimum`: the accuracy on `test_df` is at least
#   `MIN_ACCURACY`;
# - `test_predictions_are_not_degenerate`: each class gets at least 10 % of the
#   predictions (a model that always answers the same is broken, whatever its accuracy).
#
# The check runs them on the good model (they must pass) and on a model that always
# predicts the most frequent class (they must fail).

# %%
MIN_ACCURACY = min_accuracy


# %% tags=["solution"]
def test_accuracy_is_at_least_the_minimum(model, test_df):
    """The model is at least as accurate as the team's minimum."""
    accuracy = evaluate(model, test_df, TARGET)["accuracy"]
    assert accuracy >= MIN_ACCURACY, f"accuracy {accuracy:.3f} < {MIN_ACCURACY}"


def test_predictions_are_not_degenerate(model, test_df):
    """Both classes get a fair share of the predictions."""
    X, _ = split_xy(test_df, TARGET)
    shares = prediction_balance(model.predict(X))
    assert min(shares.get("0", 0.0), shares.get("1", 0.0)) >= 0.10, f"shares {shares}"


# %%
checks.check_performance_tests(
    [test_accuracy_is_at_least_the_minimum, test_predictions_are_not_degenerate],
    model=model,
    test_df=test_df,
)

# %% [markdown]
# ## Exercise 4: integration tests
#
# Now test the whole pipeline, from raw data to predictions. The fixture `make_pipeline`
# returns a fresh, unfitted pipeline for a seed (`make_pipeline(0)`); `train_with_gaps`
# is the training data with 5 % missing values and a few huge outliers; `test_df` is
# clean. Write:
#
# - `test_pipeline_trains_on_data_with_gaps`: fit on `train_with_gaps`; predict every row
#   of `test_df`; expect one prediction per row, no missing value, only known classes;
# - `test_training_is_reproducible`: two pipelines made and fitted with the same seed on
#   `train_with_gaps` give the same predictions on `test_df`.
#
# The check also runs them with a pipeline that has no imputer: they must fail there.

# %% tags=["solution"]
def test_pipeline_trains_on_data_with_gaps(make_pipeline, train_with_gaps, test_df):
    """The pipeline copes with missing values and outliers, and predicts every row."""
    X, y = split_xy(train_with_gaps, TARGET)
    pipeline = make_pipeline(0).fit(X, y)
    X_test, _ = split_xy(test_df, TARGET)
    predictions = pipeline.predict(X_test)
    assert len(predictions) == len(test_df)
    assert not pd.isna(predictions).any()
    assert set(predictions) <= set(y.unique())


def test_training_is_reproducible(make_pipeline, train_with_gaps, test_df):
    """Same seed, same data: same predictions."""
    X, y = split_xy(train_with_gaps, TARGET)
    X_test, _ = split_xy(test_df, TARGET)
    first = make_pipeline(7).fit(X, y).predict(X_test)
    second = make_pipeline(7).fit(X, y).predict(X_test)
    assert (first == second).all()


# %%
checks.check_integration_tests(
    [test_pipeline_trains_on_data_with_gaps, test_training_is_reproducible],
    make_pipeline=fixtures["make_pipeline"],
    train_with_gaps=fixtures["train_with_gaps"],
    test_df=test_df,
)

# %% [markdown]
# ## Step 5: run your tests with pytest
#
# In CI these tests live in a file under `tests/` and pytest runs them. `run_tests`
# does exactly that: it writes your four functions into a temporary test module, with
# every import, helper function and constant they use from this notebook, next to a
# `conftest.py` whose fixtures build the same model and data, and runs `python -m pytest`
# on it in a fresh process. Here is the file it writes:

# %%
my_tests = [
    test_accuracy_is_at_least_the_minimum,
    test_predictions_are_not_degenerate,
    test_pipeline_trains_on_data_with_gaps,
    test_training_is_reproducible,
]
print(module_source_for(*my_tests))

# %%
run = run_tests(*my_tests, context={"seed": seed, "n_estimators": n_estimators})
print(run)
display(run.to_frame())
record("tests_passed", run.n_passed)
if metrics["accuracy"] < MIN_ACCURACY:
    print(f"the model's accuracy {metrics['accuracy']:.3f} is below MIN_ACCURACY = "
          f"{MIN_ACCURACY}: the accuracy test fails, as it should; it blocks this model.")
elif run.passed:
    print("every test passed: this model and pipeline may go on to the next stage.")

# %% [markdown]
# ## Step 6: behaviour, not just accuracy
#
# Accuracy says how often the model is right, not whether it is right *for the right
# reasons*. A directional expectation is a rule from the domain that a model must not
# break: a tumour that is larger, all else equal, must not look *more* benign. The
# library's `directional_test` changes one feature on every test row, asks the model for
# the probability of benign (class 1) before and after, and fails the rows where it
# rises. Below it runs on this lab's forest and on a model built to break the rule: the
# same kind of forest, except that it reads `worst_area` mirrored around its median, so a
# larger area looks like a smaller one. Compare what the accuracy says with what the
# directional test says.

# %%
def ten_percent_more(feature: str):
    """A perturbation: the same rows with ``feature`` 10 % larger."""
    return lambda rows: rows.assign(**{feature: rows[feature] * 1.10})


backwards = MirroredFeatureModel(model, "worst_area", float(X_test["worst_area"].median()))
for name, candidate in (("the lab's forest", model), ("the mirrored forest", backwards)):
    direction = directional_test(candidate, X_test, ten_percent_more("worst_area"),
                                 name=f"{name}, worst_area +10 %", expect="decrease",
                                 positive_class=BENIGN)
    accuracy = float(np.mean(candidate.predict(X_test) == test_df[TARGET].to_numpy()))
    print(f"{direction.summary()}; accuracy {accuracy:.3f}")

# %% [markdown]
# ## Exercise 5: a directional check of your own
#
# Write `directional_failures(model, X, feature, factor)`: multiply the column `feature`
# of `X` by `factor` (every other column unchanged, and `X` itself left as it is), and
# return one bool per row, True where the model's probability of benign (`BENIGN`, find
# its column with `model.classes_`) *rises* by more than `TOLERANCE` (staying equal is
# allowed: a tree often does not react to a small change).
#
# The check compares your answer with the library's row by row, on this lab's forest, a
# logistic regression and a model built to break the direction, for several features and
# factors.

# %% tags=["solution"]
def directional_failures(model, X: pd.DataFrame, feature: str, factor: float) -> np.ndarray:
    """One bool per row: True where a larger ``feature`` makes benign more likely."""
    column = list(model.classes_).index(BENIGN)
    before = model.predict_proba(X)[:, column]
    after = model.predict_proba(X.assign(**{feature: X[feature] * factor}))[:, column]
    return after - before > TOLERANCE


# %%
checks.check_directional(directional_failures, model=model, test_df=test_df)

# %% [markdown]
# ## Step 7: slices, good on average and bad for a group
#
# An overall accuracy averages over groups that can differ a lot. Suppose 30 % of the
# test patients come from a second clinic whose scanner reports sizes (radius, perimeter,
# area) 50 % larger, and nobody told the data team. A gate per slice (a group of rows)
# sees what the average hides.
#
# ## Exercise 6: define the slices
#
# Write `size_slices(X, cut)`: one label per row, `"small"` when `mean_radius` is under
# `cut` and `"large"` otherwise (a tumour exactly at the cut is large). Return the labels;
# do not add a column to `X`.

# %% tags=["solution"]
def size_slices(X: pd.DataFrame, cut: float) -> np.ndarray:
    """Label each row "small" (mean_radius < cut) or "large"."""
    return np.where(X["mean_radius"] < cut, "small", "large")


# %%
slicing = checks.check_size_slices(size_slices, test_df=test_df)
display(slicing)

# %% [markdown]
# Now the gate. Each slice is a clinic and a tumour size as reported (cut at the median
# reported `mean_radius`, so clinic B's tumours mostly land in "large"). `slice_gate`
# fails a slice only when the optimistic end of its one-sided Clopper-Pearson interval is
# still under `MIN_ACCURACY` (Bonferroni-corrected over the slices), passes it when the
# pessimistic end clears the bar, and calls it "uncertain" in between; a slice under 20
# rows is not judged at all.

# %%
clinic = np.where(np.random.default_rng(seed).random(len(X_test)) < 0.3, "clinic B", "clinic A")
size_columns = [c for c in X_test if any(k in c for k in ("radius", "perimeter", "area"))]
X_seen = X_test.copy()
X_seen.loc[clinic == "clinic B", size_columns] *= 1.5
cut = float(X_seen["mean_radius"].median())
if slicing.passed:
    slices = pd.Series(clinic).str.cat(size_slices(X_seen, cut), sep=", ").to_numpy()
else:
    slices = clinic
    print("Exercise 6 is not done yet: the gate below slices by clinic only.")
y_test = test_df[TARGET].to_numpy()
predicted = model.predict(X_seen)
gate = slice_gate(y_test, predicted, slices, min_accuracy=MIN_ACCURACY, alpha=0.05)
table = gate.to_frame()
display(table.round(3))
print(gate.risks())
record("failed_slices", len(gate.failed_slices))

# %%
overall = float(np.mean(predicted == y_test))
worst = table["accuracy"].idxmin()
print(f"Overall accuracy {overall:.3f} against a bar of {MIN_ACCURACY}; the gate "
      f"{'passes' if gate.passed else 'FAILS'}.")
if gate.failed_slices:
    for name in gate.failed_slices:
        row = table.loc[name]
        print(f"- {name}: {int(row['correct'])} of {int(row['rows'])} right "
              f"({row['accuracy']:.3f}); even the optimistic bound {row['upper_bound']:.3f} "
              f"is under {MIN_ACCURACY}, so this slice fails on evidence.")
else:
    print(f"- no slice fails on evidence; the weakest is {worst} at "
          f"{table.loc[worst, 'accuracy']:.3f} on {int(table.loc[worst, 'rows'])} rows "
          f"(status: {table.loc[worst, 'status']}).")
for name in table.index[table["status"] == "uncertain"]:
    row = table.loc[name]
    print(f"- {name}: {row['accuracy']:.3f} on {int(row['rows'])} rows is 'uncertain': its "
          f"bounds [{row['lower_bound']:.3f}, {row['upper_bound']:.3f}] straddle the bar, so "
          "these rows cannot show whether the slice is good or bad.")
for name in table.index[table["status"] == "too few rows"]:
    rows = int(table.loc[name, "rows"])
    print(f"- {name}: only {rows} row{'s' if rows != 1 else ''}, under the gate's minimum "
          "of 20: not judged at all.")
print("Clinic B's sizes are 50 % larger, so its benign tumours look like malignant ones: "
      "the slices that hold them are where the model errs."
      if "clinic B" in str(worst) else
      f"The weakest slice is {worst}: the clinic's scale did not change its answers much.")

# %% [markdown]
# ## Exercise 7: why a small slice needs the bound
#
# Why not simply fail a slice whose observed accuracy is under the bar? Because a small
# slice's accuracy jumps around. Write `point_estimate_fail_rate(n_rows, true_accuracy,
# min_accuracy)`: the exact probability that a slice of `n_rows` rows, on which the model
# is right with probability `true_accuracy` independently per row, shows an observed
# accuracy (correct / rows) strictly under `min_accuracy`. The number of correct rows is
# binomial: `scipy.stats.binom` has its `pmf` and `cdf`.

# %% tags=["solution"]
def point_estimate_fail_rate(n_rows: int, true_accuracy: float, min_accuracy: float) -> float:
    """Probability that a slice's observed accuracy is under the bar."""
    correct = np.arange(n_rows + 1)
    under = correct / n_rows < min_accuracy
    return float(stats.binom.pmf(correct[under], n_rows, true_accuracy).sum())


# %%
rate_check = checks.check_point_estimate_fail_rate(point_estimate_fail_rate)
display(rate_check)

# %% [markdown]
# Take a *good* model: right on `good_accuracy` of the rows of every slice, above the
# bar. How often does each rule fail it, on slices of the sizes the gate judged above?
# A small seeded simulation measures both rules on the same simulated outcomes; your
# function gives the point estimate's rate exactly.

# %%
good_accuracy = min(0.995, MIN_ACCURACY + (1 - MIN_ACCURACY) / 2)
sizes = table.loc[table["status"] != "too few rows", "rows"].to_numpy()
labels = np.repeat(np.arange(len(sizes)), sizes)
sim_rng = np.random.default_rng(seed)
n_trials = 200
naive_fails = gate_fails = 0
for _ in range(n_trials):
    right = sim_rng.random(len(labels)) < good_accuracy
    observed = np.bincount(labels, weights=right) / sizes
    naive_fails += bool((observed < MIN_ACCURACY).any())
    gate_fails += not slice_gate(right, np.ones(len(labels), dtype=bool), labels,
                                 min_accuracy=MIN_ACCURACY, alpha=0.05).passed
print(f"A model right on {good_accuracy:.1%} of every slice ({', '.join(map(str, sizes))} "
      f"rows), bar {MIN_ACCURACY}:")
print(f"- failing any slice whose observed accuracy is under the bar failed this good model "
      f"in {naive_fails} of {n_trials} simulated evaluations ({naive_fails / n_trials:.0%});")
print(f"- the slice gate failed it in {gate_fails} of {n_trials} (its stated risk: at most "
      f"{gate.alpha:.0%}).")
if rate_check.passed:
    per_slice = [point_estimate_fail_rate(int(n), good_accuracy, MIN_ACCURACY) for n in sizes]
    exact_any = 1 - np.prod(1 - np.array(per_slice))
    print(f"- your function, exactly: the point estimate fails one slice with probability "
          f"{min(per_slice):.1%} to {max(per_slice):.1%} (by its rows), and some slice "
          f"{exact_any:.1%} of the time.")
record("point_estimate_false_fails", naive_fails / n_trials)

# %% [markdown]
# The bound is what makes the gate usable: a rule that fails good models often gets
# switched off, and then it catches nothing. The price is the "uncertain" verdict: a
# slice with a few dozen rows often cannot show on which side of the bar it is, and the
# honest answer is to collect more rows for it before trusting any verdict.
#
# ## Wrap-up
#
# - A schema is a test of the data; it must accept good data as surely as it rejects bad
#   data, and report every failure in one run.
# - A performance test is only useful if it fails on a broken model: always ask "would
#   this test have caught a model that predicts one class?".
# - Integration tests exercise the whole pipeline on realistic, messy input, and pin down
#   reproducibility, so that a retrained model differs only when the data does.
# - Behavioural tests (directional expectations) catch a model that is accurate for the
#   wrong reasons; a slice gate with confidence bounds catches a group the average hides,
#   without failing good models on small slices by chance.
