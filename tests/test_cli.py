"""The CLI's own contract: help, version, and exit codes for usage errors."""

from __future__ import annotations

import json
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


_HEAVY = ("sklearn", "scipy", "pandas", "matplotlib")


def _heavy_modules_after(code: str) -> list[str]:
    probe = (f"import json, sys; {code}; print(json.dumps(sorted("
             f"m for m in sys.modules if m.split('.')[0] in {set(_HEAVY)!r})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def test_building_the_parser_imports_no_heavy_library():
    # `mlcicd --help` and every subprocess call in tests, the book and CI pay for what
    # building the parser imports: the library is imported by the handlers, when needed.
    assert _heavy_modules_after("import mlcicd.cli; mlcicd.cli.build_parser()") == []


def test_each_command_module_registers_without_heavy_imports():
    for name in ("data", "model", "release", "drift", "deploy"):
        code = (f"import argparse, mlcicd.commands.{name} as m; "
                "m.register(argparse.ArgumentParser().add_subparsers())")
        assert _heavy_modules_after(code) == [], name


def test_the_cli_constants_match_the_library():
    from mlcicd.commands import data, drift
    from mlcicd.datasets import DATASETS, TARGET
    from mlcicd.drift.correction import CORRECTIONS
    from mlcicd.validation.infer import DEFAULT_MARGIN

    # Repeated as literals so that argparse needs no heavy import; one truth all the same.
    in_cli = (data.DATASET_NAMES, data.TARGET, data.DEFAULT_MARGIN, drift.CORRECTIONS)
    in_library = (tuple(sorted(DATASETS)), TARGET, DEFAULT_MARGIN, tuple(CORRECTIONS))
    assert in_cli == in_library


def test_a_bad_input_is_still_one_line_and_exit_2(tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_text("columns: {}\n")
    result = subprocess.run(
        [sys.executable, "-m", "mlcicd", "validate", str(tmp_path / "missing.csv"),
         "--schema", str(schema)], capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("mlcicd: error:")
    assert "missing.csv" in result.stderr
