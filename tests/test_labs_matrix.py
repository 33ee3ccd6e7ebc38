"""The smoke subset of the labs' papermill matrix runs through the CLI (full matrix: make labs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcicd.cli import main
from mlcicd.labs.params import load_matrix

ROOT = Path(__file__).resolve().parents[1]
MATRIX = ROOT / "labs" / "params.yaml"


@pytest.mark.slow
def test_smoke_subset_of_the_matrix_runs_and_records_metrics(tmp_path, capsys):
    smoke = load_matrix(MATRIX).smoke
    assert smoke, "params.yaml names a smoke subset"
    code = main(["labs", "run", "--smoke", "--matrix", str(MATRIX), "--out", str(tmp_path),
                 "--jobs", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [(r["lab"], r["params_name"]) for r in summary] == list(smoke)
    for lab, params_name in smoke:
        assert f"{lab}  {params_name}" in out or lab in out
        metrics = json.loads((tmp_path / lab / f"{params_name}.metrics.json").read_text())
        assert metrics, f"{lab}/{params_name} recorded no metric"
        assert (tmp_path / lab / f"{params_name}.ipynb").is_file()
