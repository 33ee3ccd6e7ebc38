"""What commands may read and write: PathCheck, the bounded YAML/JSON readers and the limits."""

from __future__ import annotations

import math
import sys

import pandas as pd
import pytest

from mlcicd.cli import main
from mlcicd.errors import InputError
from mlcicd.io import MAX_INT_DIGITS, MAX_NESTING, load_yaml_text, read_csv, read_json
from mlcicd.paths import PLOT_SUFFIXES, PathCheck


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "data.csv").write_text("a,target\n1,0\n2,1\n")
    artifact = tmp_path / "model"
    artifact.mkdir()
    (artifact / "metadata.json").write_text("{}")
    return tmp_path


def test_an_output_onto_an_input_needs_force(folder):
    paths = PathCheck().read_file("--data", folder / "data.csv")
    with pytest.raises(InputError, match="is also the input --data.*--force"):
        paths.write_file("--out", folder / "sub" / ".." / "data.csv").check()
    PathCheck(force=True).read_file("--data", folder / "data.csv").write_file(
        "--out", folder / "data.csv").check()


def test_an_output_inside_an_artifact_needs_force(folder):
    for target in (folder / "model" / "metadata.json", folder / "model" / "new.json"):
        with pytest.raises(InputError, match="inside the model artifact"):
            PathCheck().write_file("--out", target).check()
    with pytest.raises(InputError, match="inside the model artifact"):
        PathCheck().write_folder("--out", folder / "model" / "inner").check()
    PathCheck(force=True).write_file("--out", folder / "model" / "new.json").check()


def test_reports_are_replaced_but_data_files_need_force(folder):
    report = folder / "report.md"
    report.write_text("old")
    PathCheck().write_file("--out", report).check()
    with pytest.raises(InputError, match="already exists; use --force"):
        PathCheck().write_file("--out", report, replace=False).check()


@pytest.mark.parametrize("name, message", [
    ("data.csv/x.png", "data.csv is a file"),
    ("model", "is a folder"),
    ("figure.xyz", "unknown file type"),
    ("figure", "no suffix"),
])
def test_impossible_outputs_are_named_before_anything_runs(folder, name, message):
    with pytest.raises(InputError, match=message):
        PathCheck().write_file("--plot", folder / name, suffixes=PLOT_SUFFIXES).check()


def test_an_unwritable_folder_is_named_up_front(folder, monkeypatch):
    # Tests run as root in CI containers, where every folder is writable: stub the answer.
    monkeypatch.setattr("mlcicd.paths.os.access", lambda path, mode: False)
    with pytest.raises(InputError, match="is not writable"):
        PathCheck().write_file("--out", folder / "new" / "report.md").check()


def test_two_outputs_cannot_share_a_file(folder):
    with pytest.raises(InputError, match="give each output its own file"):
        PathCheck().write_file("--timeline", folder / "x.csv").write_file(
            "--plot", folder / "x.csv").check()


def test_the_plot_suffixes_are_what_matplotlib_writes():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    supported = {f".{kind}" for kind in Figure().canvas.get_supported_filetypes()}
    assert set(PLOT_SUFFIXES) == supported


def test_cli_limits_match_the_library():
    from mlcicd.commands import options
    from mlcicd.stats import MAX_RESAMPLES
    from mlcicd.training import SEED_LIMIT

    assert options.LIMITS["n_resamples"] == MAX_RESAMPLES
    assert options.SEED_LIMIT == SEED_LIMIT


@pytest.mark.parametrize("text, message", [
    ("a: &x [1]\nb: *x\n", "aliases"),
    ("a: " + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1) + "\n", "nested more than"),
    (f"a: {'9' * (MAX_INT_DIGITS + 1)}\n", "digits"),
    ("a: 1\nb: 2\na: 3\n", "key 'a' appears twice"),
])
def test_yaml_beyond_the_limits_is_one_clear_error(text, message):
    with pytest.raises(InputError, match=message):
        load_yaml_text(text, source="f.yaml")


def test_yaml_within_the_limits_loads_as_before():
    nested = "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1)  # under the top mapping
    text = f"a: &anchor 1\nb: {'9' * MAX_INT_DIGITS}\n1: int key\n'1': text key\nc: {nested}\n"
    data = load_yaml_text(text)
    assert data["a"] == 1 and data["b"] == int("9" * MAX_INT_DIGITS)
    assert data[1] == "int key" and data["1"] == "text key"


def test_a_schema_of_20000_columns_loads():
    # Counting repeated names once per column used to make this quadratic (86 s).
    from mlcicd.validation import Schema

    text = "columns:\n" + "".join(f"  c{i}: {{dtype: numeric, min: 0}}\n" for i in range(20_000))
    assert len(Schema.from_yaml_text(text).columns) == 20_000


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "nested more than"),
    ("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1), "nested more than"),
    ('{"accuracy": ' + "1" * 5000 + "}", "digits"),
])
def test_json_beyond_the_limits_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_json(path)


def test_a_repeated_csv_header_is_an_error_not_a_renamed_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("age,age,city\n1,2,x\n")
    with pytest.raises(InputError, match="repeated in the header: 'age'"):
        read_csv(path)


def test_infer_schema_never_writes_infinite_bounds(tmp_path, capsys):
    data = tmp_path / "extreme.csv"
    pd.DataFrame({"x": [1e308, -1e308, 0.0], "n": [2**62, -(2**62), 0]}).to_csv(data, index=False)
    assert main(["infer-schema", str(data), "--out", str(tmp_path / "s.yaml")]) == 0
    assert ".inf" not in (tmp_path / "s.yaml").read_text()
    from mlcicd.validation import Schema, validate

    schema = Schema.from_yaml(tmp_path / "s.yaml")
    bounds = [getattr(c, key) for c in schema.columns for key in ("min", "max", "std_max")]
    assert all(math.isfinite(b) for b in bounds if b is not None)
    assert bounds[:2] == [-sys.float_info.max, sys.float_info.max]
    assert validate(pd.read_csv(data), schema).ok


def test_force_lets_evaluate_write_where_it_was_refused(tmp_path, capsys):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=80, n_features=3, n_informative=2, n_redundant=0,
                               random_state=0)
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(target=y).to_csv(tmp_path / "d.csv",
                                                                     index=False)
    (tmp_path / "c.yaml").write_text("params: {n_estimators: 5}\ncv_folds: 3\n")
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--train",
                 str(tmp_path / "d.csv"), "--out", str(tmp_path / "m")]) == 0
    report = tmp_path / "m" / "evaluation.json"
    args = ["evaluate", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "d.csv"),
            "--out", str(report)]
    assert main(args) == 2 and not report.exists()
    assert main([*args, "--force"]) == 0 and report.is_file()


def test_exporting_the_same_data_again_needs_no_force(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["datasets", "export", "breast-cancer", "--out", str(out)]) == 0
    first = (out / "train.csv").read_bytes()
    assert main(["datasets", "export", "breast-cancer", "--out", str(out)]) == 0
    assert main(["datasets", "export", "breast-cancer", "--out", str(out), "--seed", "1"]) == 2
    assert "already exist" in capsys.readouterr().err
    assert (out / "train.csv").read_bytes() == first
    assert main(["datasets", "export", "breast-cancer", "--out", str(out), "--seed", "1",
                 "--force"]) == 0
    assert (out / "train.csv").read_bytes() != first
