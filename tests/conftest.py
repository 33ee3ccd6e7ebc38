"""Shared pytest settings.

Hypothesis runs derandomized: the same examples on every run, so a CI result does not
depend on luck. Explore more locally with ``--hypothesis-profile=explore``.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=500, database=None, print_blob=True)
settings.load_profile("deterministic")


# A system program a test drives (not a Python package: pip cannot install it). On a
# machine without it the tests that need it are skipped with one summary line that says
# how to install it; CI sets MLCICD_REQUIRE_SYSTEM_TOOLS=1 (.ci/run, the workflows) so that there a
# missing program fails those tests instead of skipping them silently.
REQUIRE_SYSTEM_TOOLS = "MLCICD_REQUIRE_SYSTEM_TOOLS"


def system_tool(names: tuple[str, ...], install: str) -> str:
    """The path of the first of ``names`` found on PATH, else skip (or fail in CI).

    Parameters
    ----------
    names : tuple of str
        Program names to look for, preferred first (e.g. ``("chromium",)``).
    install : str
        The command that installs the program, shown in the skip message.
    """
    for name in names:
        if found := shutil.which(name):
            return found
    message = f"{names[0]} is not installed: `{install}` to run these tests"
    if os.environ.get(REQUIRE_SYSTEM_TOOLS) == "1":
        pytest.fail(f"{message} ({REQUIRE_SYSTEM_TOOLS}=1: it is required here)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, the browser of the book's browser tests."""
    return system_tool(("chromium", "chromium-browser"), "apt-get install chromium")
