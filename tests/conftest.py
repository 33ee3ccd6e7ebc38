"""Shared pytest settings.

Hypothesis runs derandomized: the same examples on every run, so a CI result does not
depend on luck. Explore more locally with ``--hypothesis-profile=explore``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from system_tools import system_tool
from xdist_groups import tag_groups

if TYPE_CHECKING:
    import numpy as np

settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=500, database=None, print_blob=True)
settings.load_profile("deterministic")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Slow and waiting tests first, otherwise in file order; xdist groups that group.

    pytest-xdist hands tests to its workers in this order, so the long ones start early
    and the short ones fill the end: neither worker sits idle while the other finishes
    one long test. Tests marked ``waits`` (servers, timeouts: more wall time than CPU)
    start early too, while ``make test`` still builds the book beside them, whose work
    fills the cores they leave idle; at the end they would leave them idle for nothing.
    The order is the same on every worker, as xdist requires.

    ``--dist loadgroup`` sends the tests of one ``xdist_group`` to one worker by reading a
    ``@group`` suffix that pytest 9 never sees unless :func:`xdist_groups.tag_groups`
    copies it (tests/test_xdist_groups.py checks that a group stays on one worker).
    """
    items.sort(key=lambda item: not (item.get_closest_marker("slow")
                                     or item.get_closest_marker("waits")))
    tag_groups(items)


@pytest.fixture(scope="module")
def data(request) -> tuple[np.ndarray, np.ndarray]:
    """Seeded labelled points for the deployment tests: ``X`` normal, ``y`` a linear rule.

    A module declares ``LINEAR_DATA = (seed, n_rows, weights)``; ``y`` is 1 where
    ``sum(w_j * x_j) > 0``. Modules whose ``data`` is a data frame define their own.
    """
    import numpy as np  # here, not at the top: the book's test processes never need it

    seed, n_rows, weights = request.module.LINEAR_DATA
    X = np.random.default_rng(seed).normal(size=(n_rows, len(weights)))
    score = np.zeros(n_rows)
    for column, weight in enumerate(weights):
        if weight:
            score = score + weight * X[:, column]
    return X, (score > 0).astype(int)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, the browser of the book's browser tests."""
    return system_tool(("chromium", "chromium-browser"), "apt-get install chromium")


@pytest.fixture(scope="session")
def make_and_git() -> tuple[str, str]:
    """GNU make and git, which the Makefile's book cache stamp runs."""
    return (
        system_tool(("make",), "apt-get install make"),
        system_tool(("git",), "apt-get install git"),
    )
