"""The committed solution notebooks reproduce their stored outputs (pytest --nbval).

Each notebook runs in its own ``python -m pytest --nbval`` subprocess, so that pytest-xdist
spreads the notebooks over its workers and nbval's kernel never shares a process with the
rest of the suite. Volatile text (temporary paths, durations...) is masked by
``labs/nbval_sanitize.cfg``; images are compared for existence in test_labs_notebooks.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "labs" / "solutions").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("notebook", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_notebook_reproduces_its_outputs(notebook):
    command = [
        sys.executable, "-m", "pytest", "--nbval", str(notebook.relative_to(ROOT)),
        "--nbval-sanitize-with", "labs/nbval_sanitize.cfg", "--nbval-kernel-name", "python3",
        "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=", "-q",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLCICD_LABS_")}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
