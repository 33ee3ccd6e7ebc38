"""Data sets the book, the labs and the pipeline run on, all built locally and seeded.

* :func:`load_breast_cancer_frame`: scikit-learn's bundled breast-cancer data (569 rows,
  30 numeric features, no download) with snake_case column names and an integer
  ``target`` (0 = malignant, 1 = benign, as in scikit-learn).
* :func:`split_frame` and :func:`export_dataset`: a stratified, seeded train/test split,
  written as ``train.csv`` and ``test.csv``; with ``live_size`` the held-out rows are
  split once more into the gate's test set and a separate live-traffic stream
  (``live.csv``), for a pipeline whose canary must not reuse the gate's rows.
* :func:`make_people_frame`, :func:`make_dirty_frame` and :func:`people_schema`: a small
  synthetic table of people, a copy of it with deliberate problems, and the schema a
  careful engineer would write for it, so that a validation report has something to say.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from mlcicd.errors import InputError
from mlcicd.io import atomic_write_text
from mlcicd.params import SEED, Integer, Real, check
from mlcicd.validation import ColumnSchema, Schema

__all__ = [
    "TARGET",
    "DATASETS",
    "CITIES",
    "load_breast_cancer_frame",
    "split_frame",
    "export_dataset",
    "make_people_frame",
    "make_dirty_frame",
    "people_schema",
    "snake_case",
]

#: Name of the label column in every data set with one.
TARGET = "target"

#: Cities of the synthetic people data.
CITIES = ("Lille", "Lyon", "Nantes", "Paris")


def snake_case(name: str) -> str:
    """Lower-case words joined by underscores.

    >>> snake_case("mean radius"), snake_case("Worst Fractal-Dimension")
    ('mean_radius', 'worst_fractal_dimension')
    """
    return re.sub(r"[^0-9a-zA-Z]+", "_", str(name)).strip("_").lower()


def load_breast_cancer_frame() -> pd.DataFrame:
    """scikit-learn's breast-cancer data as one frame: 30 features and an int ``target``.

    >>> df = load_breast_cancer_frame()
    >>> df.shape, df.columns[0], df[TARGET].value_counts().sort_index().tolist()
    ((569, 31), 'mean_radius', [212, 357])
    """
    bunch = load_breast_cancer()
    frame = pd.DataFrame(bunch.data, columns=[snake_case(n) for n in bunch.feature_names])
    frame[TARGET] = np.asarray(bunch.target, dtype=np.int64)
    return frame


#: Data sets :func:`export_dataset` knows, by name.
DATASETS = {"breast-cancer": load_breast_cancer_frame}


def split_frame(
    df: pd.DataFrame,
    test_size: float = 0.25,
    seed: int = 0,
    target: str = TARGET,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into train and test sets, stratified on ``target``, reproducibly.

    Both parts get a fresh 0..n-1 index. The same ``seed`` always gives the same split.

    >>> train, test = split_frame(load_breast_cancer_frame(), test_size=0.25, seed=0)
    >>> len(train), len(test)
    (426, 143)
    >>> abs(train[TARGET].mean() - test[TARGET].mean()) < 0.01
    np.True_
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"split_frame: expected a pandas DataFrame, got {type(df).__name__}")
    if target not in df.columns:
        raise InputError(f"split_frame: target column {target!r} not found")
    test_size = check("split_frame", "test_size", test_size, Real(0, 1, closed="neither"))
    seed = check("split_frame", "seed", seed, SEED)
    labels = df[target]
    if labels.isna().any():
        raise InputError(f"split_frame: target column {target!r} has missing values")
    try:
        train, test = train_test_split(df, test_size=test_size, random_state=int(seed),
                                       stratify=labels)
    except ValueError as exc:
        raise InputError(f"split_frame: cannot split {len(df)} rows with test_size="
                         f"{test_size} stratified on {target!r} ({exc})") from None
    return train.reset_index(drop=True), test.reset_index(drop=True)


def export_dataset(
    name: str = "breast-cancer",
    out_dir: str | os.PathLike[str] = "data",
    test_size: float = 0.25,
    seed: int = 0,
    *,
    overwrite: bool = False,
    live_size: float = 0.0,
) -> tuple[Path, ...]:
    """Write ``train.csv`` and ``test.csv`` (and ``live.csv``) of a known data set.

    With ``live_size`` (a share in (0, 1)), the held-out rows are split again, stratified
    and with the same seed, into ``test.csv`` (what the quality gate and the smoke test
    score) and ``live.csv`` (the traffic a canary replays and the monitor watches).
    ``train.csv`` stays byte for byte the file of the plain export, so a model trained
    on it (the committed baseline) has seen no row of either, and the gate never sees
    a row of the live stream. Returns ``(train, test)`` or ``(train, test, live)``.

    Each file is written atomically, so a failure leaves any previous file whole. An
    existing file holding other data is an :class:`InputError` unless ``overwrite``:
    both files are checked before either is written. A file that already holds exactly
    these bytes is left alone, so re-running a pipeline needs no ``overwrite``.

    >>> import tempfile
    >>> train_path, test_path = export_dataset("breast-cancer", tempfile.mkdtemp())
    >>> train_path.name, len(pd.read_csv(test_path))
    ('train.csv', 143)
    >>> paths = export_dataset("breast-cancer", tempfile.mkdtemp(), live_size=0.7)
    >>> [(path.name, len(pd.read_csv(path))) for path in paths]
    [('train.csv', 426), ('test.csv', 42), ('live.csv', 101)]
    """
    if name not in DATASETS:
        close = difflib.get_close_matches(str(name), DATASETS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"unknown data set {name!r}{hint}; known: {', '.join(DATASETS)}")
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder")
    train, test = split_frame(DATASETS[name](), test_size=test_size, seed=seed)
    texts = {folder / "train.csv": train.to_csv(index=False)}
    live_size = check("export_dataset", "live_size", live_size, Real(0, 1, closed="left"))
    if live_size > 0:
        test, live = split_frame(test, test_size=live_size, seed=seed)
        texts[folder / "test.csv"] = test.to_csv(index=False)
        texts[folder / "live.csv"] = live.to_csv(index=False)
    else:
        texts[folder / "test.csv"] = test.to_csv(index=False)
    changed = [path for path, text in texts.items() if not _holds(path, text)]
    clobbered = [str(path) for path in changed if path.exists()]
    if clobbered and not overwrite:
        raise InputError(f"{', '.join(clobbered)}: already exist(s) with other data; "
                         "use --force (overwrite=True) to replace")
    for path in changed:
        atomic_write_text(path, texts[path])
    return tuple(texts)


def _holds(path: Path, text: str) -> bool:
    try:
        return path.is_file() and path.read_bytes() == text.encode("utf-8")
    except OSError:
        return False


# -- synthetic people ------------------------------------------------------------------


def make_people_frame(seed: int = 0, n: int = 200) -> pd.DataFrame:
    """A clean synthetic table of ``n`` people that passes :func:`people_schema`.

    It passes for ``n`` of 50 or more; with fewer rows a mean can leave its bounds by
    chance, which is what statistical bounds on a small sample do.

    Columns: ``person_id`` (1..n), ``age`` (18-79), ``income`` (log-normal, around
    33 000), ``score`` (Beta(2, 2), in [0, 1]), ``height_cm`` (about 170 +- 9),
    ``weight_kg`` (about 72 +- 12), ``city`` (one of :data:`CITIES`), ``member`` (bool).

    >>> people = make_people_frame(seed=0, n=50)
    >>> people.shape, people["age"].between(0, 120).all()
    ((50, 8), np.True_)
    """
    n = check("make_people_frame", "n", n, Integer(low=1))
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "person_id": np.arange(1, n + 1, dtype=np.int64),
        "age": rng.integers(18, 80, size=n),
        "income": np.round(rng.lognormal(mean=10.3, sigma=0.5, size=n), 2),
        "score": np.round(rng.beta(2, 2, size=n), 3),
        "height_cm": np.round(rng.normal(170, 9, size=n), 1),
        "weight_kg": np.round(np.clip(rng.normal(72, 12, size=n), 40, 150), 1),
        "city": pd.Series(rng.choice(CITIES, size=n), dtype="str"),
        "member": rng.random(n) < 0.4,
    })


#: Smallest ``n`` for which :func:`make_dirty_frame` can inject every problem.
MIN_DIRTY_ROWS = 40


def make_dirty_frame(seed: int = 0, n: int = 200) -> pd.DataFrame:
    """:func:`make_people_frame` with deliberate problems, each in its own rows.

    What is injected (counts do not depend on ``seed``; the rows do):

    * ``age``: 2 missing values, and 3 impossible ages (150, 134, -3);
    * ``income``: ``ceil(0.08 n)`` missing values (the schema allows 5 %) and two
      negative incomes (-1200, -50);
    * ``score``: 1.5 and 85.0 (a percentage typed into a [0, 1] score), which also
      pushes the score's mean and spread out of bounds;
    * ``height_cm``: two heights entered in metres (1.72, 1.68);
    * ``weight_kg``: the text ``"unknown"`` in one row, so the column is no longer numeric;
    * ``city``: ``"paris"`` (lower case) in one row, not an allowed value;
    * the last 3 rows are exact copies of 3 earlier rows (duplicate rows, and a
      repeated ``person_id``).

    >>> dirty = make_dirty_frame(seed=0, n=100)
    >>> int(dirty["age"].isna().sum()), int(dirty.duplicated().sum())
    (2, 3)
    """
    n = check("make_dirty_frame", "n", n, Integer(low=MIN_DIRTY_ROWS))
    frame = make_people_frame(seed=seed, n=n)
    rng = np.random.default_rng([seed, 1])
    n_income_missing = math.ceil(0.08 * n)
    sizes = [2, 3, n_income_missing, 2, 2, 2, 1, 1, 3]
    # Copies overwrite the last 3 rows; every other problem gets rows of its own before them.
    picks = rng.permutation(n - 3)[: sum(sizes[:-1]) + 3]
    groups, start = [], 0
    for size in sizes:
        groups.append(np.sort(picks[start:start + size]))
        start += size
    age_nan, age_bad, inc_nan, inc_neg, score_bad, metres, weight_text, city_bad, sources = groups

    frame["age"] = frame["age"].astype(float)
    frame.loc[age_nan, "age"] = np.nan
    frame.loc[age_bad, "age"] = [150, 134, -3]
    frame.loc[inc_nan, "income"] = np.nan
    frame.loc[inc_neg, "income"] = [-1200.0, -50.0]
    frame.loc[score_bad, "score"] = [1.5, 85.0]
    frame.loc[metres, "height_cm"] = [1.72, 1.68]
    weight = frame["weight_kg"].astype(object)
    weight[weight_text] = "unknown"
    frame["weight_kg"] = weight
    frame.loc[city_bad, "city"] = "paris"
    return pd.concat([frame.iloc[: n - 3], frame.iloc[sources]], ignore_index=True)


def people_schema() -> Schema:
    """The schema a careful engineer would write for the people data.

    >>> from mlcicd.validation import validate
    >>> validate(make_people_frame(), people_schema()).ok
    True
    """
    return Schema(
        columns=(
            ColumnSchema("person_id", dtype="integer", nullable=False, min=1, unique=True,
                         description="identifier, one row per person"),
            ColumnSchema("age", dtype="integer", nullable=False, min=0, max=120,
                         mean_min=30, mean_max=65, std_max=25, description="years"),
            ColumnSchema("income", dtype="float", max_missing_rate=0.05, min=0,
                         mean_min=20_000, mean_max=50_000, description="yearly, in euros"),
            ColumnSchema("score", dtype="float", nullable=False, min=0, max=1,
                         mean_min=0.35, mean_max=0.65, std_max=0.3),
            ColumnSchema("height_cm", dtype="float", nullable=False, min=100, max=230,
                         mean_min=160, mean_max=180, std_max=15),
            ColumnSchema("weight_kg", dtype="float", nullable=False, min=30, max=250,
                         mean_min=60, mean_max=85, std_max=25),
            ColumnSchema("city", dtype="category", nullable=False, allowed=CITIES),
            ColumnSchema("member", dtype="bool", nullable=False),
        ),
        min_rows=10,
        max_rows=1_000_000,
        max_duplicate_rows=0,
    )
