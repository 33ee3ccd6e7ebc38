"""The committed solution notebooks reproduce their stored outputs (pytest --nbval).

All the notebooks run in ONE ``python -m pytest --nbval`` subprocess, built once per session
(tests/once.py) and shared by the per-notebook tests below through its JUnit report: each
test asserts that every cell of its notebook was compared and none failed. One process
instead of one per notebook saves the start-up of pytest, nbval and nbformat four times
(about 2 CPU-s each); nbval still starts a fresh kernel per notebook, and nbval's kernel
never shares a process with the rest of the suite. The tests form one xdist group, so the
worker that builds the run also reads it, while the other worker runs other tests.

Volatile text (temporary paths, durations...) is masked by ``labs/nbval_sanitize.cfg``;
images are compared for existence in test_labs_notebooks.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from once import build_once

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "labs" / "solutions").glob("*.ipynb"))

#: The subprocess's interpreter start: without the optional module that jsonschema
#: (imported by nbformat) would compile for nothing (mlcicd/lean_imports.py). Third
#: party plugins other than nbval are not loaded (hypothesis, xdist, cov: not needed here).
NBVAL_START = ("import sys; from mlcicd.lean_imports import skip_unused_optional_imports; "
               "skip_unused_optional_imports(); import pytest; sys.exit(pytest.main())")


def run_nbval(folder: Path) -> None:
    """Run nbval on every solution notebook; keep its JUnit report and its output."""
    report = folder / "nbval.xml"
    command = [
        sys.executable, "-c", NBVAL_START, "-p", "nbval", "--nbval",
        *[str(p.relative_to(ROOT)) for p in SOLUTIONS],
        "--nbval-sanitize-with", "labs/nbval_sanitize.cfg", "--nbval-kernel-name", "python3",
        "-p", "no:cacheprovider", "-o", "addopts=", "-q", "--junitxml", str(report),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLCICD_LABS_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False)
    (folder / "run.json").write_text(json.dumps({
        "returncode": result.returncode, "output": result.stdout[-8000:] + result.stderr[-3000:],
    }))


@pytest.fixture
def nbval_run(tmp_path_factory) -> Path:
    return build_once(tmp_path_factory, "labs-nbval", run_nbval)


def cases_of(report: Path, notebook: Path) -> list[ET.Element]:
    """The JUnit test cases of ``notebook``: nbval's ``Cell N`` items, class = its path."""
    classname = str(notebook.relative_to(ROOT)).replace(os.sep, ".")
    root = ET.parse(report).getroot()  # noqa: S314 - the report our own pytest wrote
    return [case for case in root.iter("testcase") if case.get("classname") == classname]


@pytest.mark.slow
@pytest.mark.xdist_group("labs_nbval")
@pytest.mark.parametrize("notebook", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_notebook_reproduces_its_outputs(notebook, nbval_run):
    run = json.loads((nbval_run / "run.json").read_text())
    report = nbval_run / "nbval.xml"
    assert report.is_file(), f"nbval wrote no report (exit {run['returncode']}):\n{run['output']}"
    # 0: all passed; 1: some cell failed (found below, in its own notebook's test); any
    # other exit (internal error, bad usage) fails every notebook.
    assert run["returncode"] in (0, 1), run["output"]
    cases = cases_of(report, notebook)
    code_cells = [c for c in nbformat.read(notebook, as_version=4).cells
                  if c.cell_type == "code"]
    assert len(cases) == len(code_cells), (
        f"nbval compared {len(cases)} of {len(code_cells)} code cells:\n{run['output']}")
    failed = [
        f"{case.get('name')}: {node.get('message', '')}\n{(node.text or '')[-3000:]}"
        for case in cases for node in case if node.tag in ("failure", "error", "skipped")
    ]
    assert not failed, "\n\n".join(failed)
