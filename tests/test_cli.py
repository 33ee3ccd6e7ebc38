"""The CLI's own contract: help, version, and exit codes for usage errors."""

from __future__ import annotations

import subprocess
import sys

from mlcicd.cli import main


def test_version_is_printed(capsys):
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert "mlcicd" in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_unknown_command_exits_2():
    result = subprocess.run(
        [sys.executable, "-m", "mlcicd", "no-such-command"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
