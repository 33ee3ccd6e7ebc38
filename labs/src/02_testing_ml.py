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
#    pytest from the notebook.
#
# Each exercise is a function with a `# TODO`. Run the check cell below it: it prints
# `PASS` or `NOT YET` with a hint that says what is wrong.

# %%
import pandas as pd
from IPython.display import display

from mlcicd.datasets import (
    CITIES,
    TARGET,
    make_dirty_frame,
    people_schema,
)
from mlcicd.labs import checks, record
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
# ## Wrap-up
#
# - A schema is a test of the data; it must accept good data as surely as it rejects bad
#   data, and report every failure in one run.
# - A performance test is only useful if it fails on a broken model: always ask "would
#   this test have caught a model that predicts one class?".
# - Integration tests exercise the whole pipeline on realistic, messy input, and pin down
#   reproducibility, so that a retrained model differs only when the data does.
