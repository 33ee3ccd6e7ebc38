"""Commands that never touch a model must not pay for importing scikit-learn.

``mlcicd gate`` runs in every pull-request check, every pipeline gate and smoke stage and
every retraining cycle. It reads JSON and YAML; importing skops (and with it scikit-learn
and SciPy) cost it about two seconds of CPU per call, five times its own work, and pandas
another quarter of a second, more than the rest of the command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
from mlcicd.cli import main
code = main(sys.argv[1:])
heavy = sorted({name.split(".")[0] for name in sys.modules}
               & {"sklearn", "skops", "scipy", "pandas"})
print(code, " ".join(heavy) or "-")
"""


def test_the_gate_command_runs_without_importing_scikit_learn(tmp_path):
    out = tmp_path / "gate.md"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "gate", "--metrics", str(ROOT / "baseline" / "metadata.json"),
         "--thresholds", str(ROOT / "config" / "gate.yaml"), "--baseline",
         str(ROOT / "baseline" / "metadata.json"), "--format", "markdown", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # The gate really ran (the baseline against itself passes) and wrote its report.
    assert result.stdout.splitlines()[-1] == "0 -"
    assert "Quality gate passed" in out.read_text(encoding="utf-8")
