"""System programs that tests drive: found on PATH, else skipped in one line, or failed in CI.

pip cannot install a system program (chromium, make, git), so a newcomer's fresh machine
may lack one. Then the tests that need it are skipped with one summary line that says
how to install it, and everything else runs. CI sets ``MLCICD_REQUIRE_SYSTEM_TOOLS=1``
(``.ci/run``, the workflows): there a missing program fails those tests instead, so CI
can never skip them silently.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE = "MLCICD_REQUIRE_SYSTEM_TOOLS"


def required() -> bool:
    """Whether a missing program must fail the tests that need it (CI) or skip them."""
    return os.environ.get(REQUIRE) == "1"


def find(names: tuple[str, ...]) -> str | None:
    """The path of the first of ``names`` on PATH (preferred first), else None."""
    return next((found for name in names if (found := shutil.which(name))), None)


def missing(names: tuple[str, ...], install: str) -> str:
    return f"{names[0]} is not installed: `{install}` to run these tests"


def system_tool(names: tuple[str, ...], install: str) -> str:
    """For a fixture: the program's path, else skip (or fail when :func:`required`)."""
    if found := find(names):
        return found
    if required():
        pytest.fail(f"{missing(names, install)} ({REQUIRE}=1: it is required here)",
                    pytrace=False)
    pytest.skip(missing(names, install))


def skip_module_without(names: tuple[str, ...], install: str, tests: str) -> None:
    """At the top of a test module: skip the whole module in one line if the program is
    missing (``tests`` names them in that line). When it is required, the module runs
    and its fixture fails each test."""
    if find(names) is None and not required():
        pytest.skip(f"{tests}: {missing(names, install)}", allow_module_level=True)
