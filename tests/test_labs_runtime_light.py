"""The runtime path stays light: the library, the release machinery and the server import
no notebook machinery (that belongs to the labs tooling, loaded only by `mlcicd labs`).

The four imports that must stay light run one after the other in ONE fresh interpreter,
which records the modules each of them added. A module that an import pulls in is added
by that import unless an earlier one already loaded it, and an earlier import that loaded
notebook machinery fails its own test: so "no import added any" is the same verdict as
four separate fresh processes give, for one interpreter start instead of four (each start
re-imports numpy, pandas and scikit-learn: about 1 CPU-s).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from once import build_once

NOTEBOOK_MACHINERY = ("nbformat", "papermill", "nbclient", "nbval", "jupyter", "jupytext",
                      "ipykernel", "IPython", "jupyterlab", "notebook")

LIGHT_IMPORTS = [
    "import mlcicd, mlcicd.deploy",
    "import mlcicd.deploy.serve",
    "from mlcicd.cli import build_parser; build_parser()",
    "import mlcicd.labs, mlcicd.labs.checks",
]

#: Runs each snippet of the JSON list in argv[1] in turn; prints, per snippet, the
#: top-level names of the modules it added to sys.modules. jsonschema's optional IRI
#: grammar (1.3 CPU-s to compile when nbformat is imported) is skipped as everywhere
#: (mlcicd/lean_imports.py): it is no notebook machinery.
_RECORDER = """\
import json, sys
from mlcicd.lean_imports import skip_unused_optional_imports
skip_unused_optional_imports()

def loaded():
    return {m.split('.')[0] for m in sys.modules}

added = []
for code in json.loads(sys.argv[1]):
    before = loaded()
    exec(compile(code, '<snippet>', 'exec'), {'__name__': '__snippet__'})
    added.append(sorted(loaded() - before))
print(json.dumps(added))
"""


def modules_added(snippets: list[str]) -> list[list[str]]:
    """Top-level module names each snippet adds, run in order in one fresh process."""
    done = subprocess.run([sys.executable, "-c", _RECORDER, json.dumps(snippets)],
                          capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def light_imports(tmp_path_factory) -> dict[str, list[str]]:
    def build(folder):
        added = modules_added(LIGHT_IMPORTS)
        (folder / "added.json").write_text(json.dumps(dict(zip(LIGHT_IMPORTS, added,
                                                               strict=True))))

    folder = build_once(tmp_path_factory, "labs-light-imports", build)
    return json.loads((folder / "added.json").read_text())


@pytest.mark.xdist_group("labs_light_imports")
@pytest.mark.parametrize("code", LIGHT_IMPORTS)
def test_no_notebook_machinery_is_imported(code, light_imports):
    added = light_imports[code]
    loaded = [m for m in added if m.startswith(NOTEBOOK_MACHINERY)]
    assert loaded == [], f"{code!r} imports {loaded}"


def test_the_recorder_sees_what_an_import_adds():
    first, second = modules_added(["import json", "import email.message"])
    assert first == [] and "email" in second


def test_the_labs_tooling_does_import_it_when_it_runs_notebooks():
    added = modules_added(["from mlcicd.labs.params import notebook_parameters\n"
                           "notebook_parameters('labs/solutions/01_data_drift.ipynb')"])
    assert "nbformat" in added[0]
