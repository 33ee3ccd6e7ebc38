"""The runtime path stays light: the library, the release machinery and the server import
no notebook machinery (that belongs to the labs tooling, loaded only by `mlcicd labs`)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NOTEBOOK_MACHINERY = ("nbformat", "papermill", "nbclient", "nbval", "jupyter", "jupytext",
                      "ipykernel", "IPython", "jupyterlab", "notebook")


def imported_after(code: str) -> list[str]:
    """Top-level module names in sys.modules after running ``code`` in a fresh process."""
    script = (code + "\nimport json, sys\n"
              "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code", [
    "import mlcicd, mlcicd.deploy",
    "import mlcicd.deploy.serve",
    "from mlcicd.cli import build_parser; build_parser()",
    "import mlcicd.labs, mlcicd.labs.checks",
])
def test_no_notebook_machinery_is_imported(code):
    modules = imported_after(code)
    loaded = [m for m in modules if m.startswith(NOTEBOOK_MACHINERY)]
    assert loaded == [], f"{code!r} imports {loaded}"


def test_the_labs_tooling_does_import_it_when_it_runs_notebooks():
    assert "nbformat" in imported_after("from mlcicd.labs.params import notebook_parameters\n"
                                        "notebook_parameters('labs/solutions/01_data_drift.ipynb')")
