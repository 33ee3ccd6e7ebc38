"""The warm ``mlcicd`` of tests/warm_cli.py answers exactly as the installed one.

The tests of the ci/ scripts rely on it: same exit code, same stdout and stderr, paths
taken from the caller's working directory, for a passing check, a failing one and a
usage error.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from warm_cli import client

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = Path(sys.executable).parent / "mlcicd"
STRICT = "min_accuracy: 0.999\n"


@pytest.mark.parametrize(("argv", "code"), [
    (["gate", "--metrics", "metadata.json", "--thresholds", "gate.yaml",
      "--baseline", "metadata.json", "--format", "markdown"], 0),
    (["gate", "--metrics", "metadata.json", "--thresholds", "strict.yaml"], 1),
    (["gate", "--metrics", "metadata.json", "--thresholds", "gate.yaml", "--format", "xml"], 2),
], ids=["passes", "fails", "usage-error"])
def test_the_warm_mlcicd_answers_as_the_installed_one(argv, code, tmp_path_factory, tmp_path):
    shutil.copy(ROOT / "baseline" / "metadata.json", tmp_path)
    shutil.copy(ROOT / "config" / "gate.yaml", tmp_path)
    (tmp_path / "strict.yaml").write_text(STRICT, encoding="utf-8")
    installed, warm = (subprocess.run([str(mlcicd), *argv], cwd=tmp_path, capture_output=True,
                                      text=True, timeout=120)
                       for mlcicd in (INSTALLED, client(tmp_path_factory)))
    assert installed.returncode == code and (installed.stdout or installed.stderr)
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        installed.returncode, installed.stdout, installed.stderr)


def test_a_call_without_its_server_is_no_verdict(tmp_path):
    # Scripts read exit 1 as "the check failed": a call that never reached mlcicd (its
    # server gone: killed, or idle) must say so and exit with neither 0 nor 1.
    tests = Path(__file__).resolve().parent
    code = (f"import sys; sys.path.insert(0, {str(tests)!r}); from warm_cli import call; "
            f"sys.exit(call({str(tmp_path / 'gone' / 'sock')!r}))")
    result = subprocess.run([sys.executable, "-IS", "-c", code, "gate"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode not in (0, 1) and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "no server at" in result.stderr
