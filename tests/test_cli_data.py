"""The data commands: validate, infer-schema and datasets export, and their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mlcicd.cli import main
from mlcicd.datasets import make_dirty_frame, make_people_frame, people_schema
from mlcicd.validation import Schema


@pytest.fixture
def people_files(tmp_path):
    clean, dirty, schema = tmp_path / "clean.csv", tmp_path / "dirty.csv", tmp_path / "s.yaml"
    make_people_frame(seed=0).to_csv(clean, index=False)
    make_dirty_frame(seed=0).to_csv(dirty, index=False)
    people_schema().to_yaml(schema)
    return clean, dirty, schema


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_validate_exits_0_on_clean_data(people_files, capsys):
    clean, _, schema = people_files
    assert main(["validate", str(clean), "--schema", str(schema)]) == 0
    assert "validation passed" in capsys.readouterr().out


def test_validate_exits_1_and_prints_every_failure(people_files, capsys):
    _, dirty, schema = people_files
    assert main(["validate", str(dirty), "--schema", str(schema)]) == 1
    out = capsys.readouterr().out
    for needle in ["duplicate_rows", "person_id", "150", "-1200", "unknown", "paris",
                   "height_cm", "8.0% missing"]:
        assert needle in out


def test_validate_report_formats(people_files, capsys):
    _, dirty, schema = people_files
    assert main(["validate", str(dirty), "--schema", str(schema), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and len(report["failures"]) >= 10
    assert main(["validate", str(dirty), "--schema", str(schema), "--format", "markdown"]) == 1
    assert "| check | column |" in capsys.readouterr().out


def _bad_csv(tmp_path, kind):
    path = tmp_path / f"{kind}.csv"
    if kind == "empty":
        path.write_text("")
    elif kind == "header-only":
        path.write_text("person_id,age,income\n")
    elif kind == "binary":
        path.write_bytes(np.random.default_rng(0).bytes(2000))
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "the file is empty"),
        ("header-only", "header but no data rows"),
        ("binary", "not a CSV file"),
        ("missing", "file not found"),
    ],
)
def test_validate_bad_data_file_exits_2_with_one_line(tmp_path, people_files, capsys, kind,
                                                      message):
    schema = people_files[2]
    data = _bad_csv(tmp_path, kind)
    assert main(["validate", str(data), "--schema", str(schema)]) == 2
    captured = capsys.readouterr()
    assert message in one_line_error(captured.err)
    assert captured.out == ""


def test_misspelt_schema_key_exits_2_naming_key_and_column(tmp_path, people_files, capsys):
    clean, _, schema = people_files
    bad = tmp_path / "bad.yaml"
    bad.write_text(schema.read_text().replace("    max: 120", "    maxx: 120"))
    assert main(["validate", str(clean), "--schema", str(bad)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "schema column 'age': unknown key 'maxx' (did you mean 'max'?)" in line


def test_infer_schema_writes_a_schema_that_accepts_its_reference(people_files, tmp_path,
                                                                 capsys):
    clean = people_files[0]
    out = tmp_path / "inferred.yaml"
    assert main(["infer-schema", str(clean), "--out", str(out), "--target", "member"]) == 0
    schema = Schema.from_yaml(out)
    assert schema.target == "member"
    assert main(["validate", str(clean), "--schema", str(out)]) == 0


def test_infer_schema_never_overwrites_without_force(people_files, tmp_path, capsys):
    clean = people_files[0]
    out = tmp_path / "schema.yaml"
    out.write_text("keep me\n")
    assert main(["infer-schema", str(clean), "--out", str(out)]) == 2
    assert "already exists" in one_line_error(capsys.readouterr().err)
    assert out.read_text() == "keep me\n"
    assert main(["infer-schema", str(clean), "--out", str(out), "--force"]) == 0
    assert Schema.from_yaml(out).column_names[0] == "person_id"


@pytest.mark.parametrize("kind", ["empty", "header-only", "binary", "missing"])
def test_infer_schema_on_bad_input_creates_no_file(tmp_path, capsys, kind):
    out = tmp_path / "schema.yaml"
    assert main(["infer-schema", str(_bad_csv(tmp_path, kind)), "--out", str(out)]) == 2
    one_line_error(capsys.readouterr().err)
    assert not out.exists()


def test_infer_schema_with_unknown_target_exits_2(people_files, tmp_path, capsys):
    out = tmp_path / "schema.yaml"
    assert main(["infer-schema", str(people_files[0]), "--out", str(out),
                 "--target", "label"]) == 2
    assert "target column 'label' not found" in one_line_error(capsys.readouterr().err)
    assert not out.exists()


def test_datasets_export_writes_a_seeded_split(tmp_path, capsys):
    out = tmp_path / "data"
    args = ["datasets", "export", "breast-cancer", "--out", str(out), "--test-size", "0.2",
            "--seed", "3"]
    assert main(args) == 0
    first = (out / "train.csv").read_bytes(), (out / "test.csv").read_bytes()
    assert first[1].count(b"\n") == 114 + 1
    assert main(args) == 0
    assert ((out / "train.csv").read_bytes(), (out / "test.csv").read_bytes()) == first


def test_datasets_export_bad_test_size_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["datasets", "export", "breast-cancer", "--out", str(out),
                 "--test-size", "1.5"]) == 2
    assert "--test-size" in one_line_error(capsys.readouterr().err)
    assert not out.exists()


def test_datasets_without_an_action_is_a_usage_error(capsys):
    assert main(["datasets"]) == 2
    assert "usage" in capsys.readouterr().err


def test_validate_as_a_process_gives_exit_2_and_no_traceback(tmp_path, people_files):
    result = subprocess.run(
        [sys.executable, "-m", "mlcicd", "validate", str(_bad_csv(tmp_path, "binary")),
         "--schema", str(people_files[2])],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert one_line_error(result.stderr).startswith("mlcicd: error:")
