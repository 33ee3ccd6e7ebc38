"""The book's ``glue`` is myst-nb's, imported without the optional grammar package.

The pages glue through :mod:`mlcicd.glue`; myst-nb reads the records when it builds the
book, so anything but myst-nb's own function could leave a number out of the prose.
"""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """\
import json, sys
from mlcicd.glue import glue
import myst_nb
from mlcicd.lean_imports import UNUSED_OPTIONAL
glue("key", 0.25, display=False)   # the first call imports myst-nb's glue machinery
print(json.dumps({"same": glue is myst_nb.glue, "nbformat": "nbformat" in sys.modules,
                  "loaded": [n for n in UNUSED_OPTIONAL if sys.modules.get(n) is not None]}))
"""


def test_pages_glue_with_myst_nb_itself_and_skip_the_optional_import():
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                          check=True, timeout=120)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"same": True, "nbformat": True, "loaded": []}
