"""``--dist loadgroup`` keeps a group's tests on one worker (see tests/xdist_groups.py).

The probe is a child pytest session kept as small as the check allows: two workers
(fewer cannot split a group), one file of grouped tests and no plugin but xdist
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD``: hypothesis, nbval, coverage and anyio would
only be imported three times over). Without :func:`xdist_groups.tag_groups` each
grouped test is a scope of its own and xdist's first round hands the first two to
different workers, so the assertion below fails on every run, not by chance.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

PROBE = '''
import os
import pytest

@pytest.mark.xdist_group("shared")
@pytest.mark.parametrize("i", range(4))
def test_grouped(i, tmp_path_factory):
    out = tmp_path_factory.getbasetemp().parent / f"grouped-{i}"
    out.write_text(os.environ["PYTEST_XDIST_WORKER"])
'''

CONFTEST = '''
import pytest
from xdist_groups import tag_groups

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    tag_groups(items)
'''


def test_a_group_runs_on_one_worker(tmp_path):
    (tmp_path / "test_probe.py").write_text(PROBE, "utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, "utf-8")
    base = tmp_path / "basetemp"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-q", "-p", "xdist.plugin", "-n", "2",
         "--dist", "loadgroup", "-p", "no:cacheprovider", f"--basetemp={base}",
         "-c", "/dev/null", f"--rootdir={tmp_path}", "test_probe.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(HERE), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
             "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    written = list(base.glob("grouped-*"))  # each worker's basetemp is base/popen-gwN
    assert len(written) == 4
    workers = {p.read_text() for p in written}
    assert len(workers) == 1, f"the group ran on {sorted(workers)}"


def test_this_session_tags_every_grouped_test(request):
    # The probe above brings its own conftest; this checks the project's (tests/conftest.py
    # must call tag_groups): under `make test`, a grouped test's id carries its group.
    config = request.config
    if not (hasattr(config, "workerinput") and config.getvalue("loadgroup")):
        pytest.skip("only a worker of --dist loadgroup tags groups (make test runs one)")
    grouped = [item for item in request.session.items if item.get_closest_marker("xdist_group")]
    assert grouped, "no grouped test collected"
    untagged = [item.nodeid for item in grouped
                if not item.nodeid.endswith("@" + item.get_closest_marker("xdist_group").args[0])]
    assert untagged == []
