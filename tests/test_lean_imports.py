"""The optional module that every notebook tool skips (mlcicd/lean_imports.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """\
import json, sys
from mlcicd.lean_imports import UNUSED_OPTIONAL, skip_unused_optional_imports
skip_unused_optional_imports()
import jsonschema, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
checker = jsonschema.FormatChecker()
bad_email = not checker.conforms("not an address", "email")
print(json.dumps({"loaded": [n for n in UNUSED_OPTIONAL if sys.modules.get(n) is not None],
                  "iri_checked": "iri" in checker.checkers, "bad_email": bad_email}))
"""


def test_notebooks_validate_without_the_skipped_module_and_other_formats_still_check():
    notebook = ROOT / "labs" / "solutions" / "01_data_drift.ipynb"
    done = subprocess.run([sys.executable, "-c", _PROBE, str(notebook)], capture_output=True,
                          text=True, check=True, timeout=120)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"loaded": [], "iri_checked": False, "bad_email": True}


def test_every_pytest_process_of_the_project_skips_it():
    # tests/lean_startup.py runs first in this very process.
    assert all(sys.modules.get(name, "absent") is None
               for name in __import__("mlcicd.lean_imports").lean_imports.UNUSED_OPTIONAL)
