"""`make lab`: JupyterLab serves the learner notebooks on 127.0.0.1 with the project's kernel.

The test starts the same command headless (a free port, a random token), opens a learner
notebook through the server's REST API, checks the kernel it would run, and stops it.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mlcicd.errors import InputError
from mlcicd.labs.frontend import KERNEL_NAME, free_port, lab_command

ROOT = Path(__file__).resolve().parents[1]
STUDENT = ROOT / "labs" / "student"


def get(url: str, token: str | None) -> tuple[int, dict]:
    headers = {"Authorization": f"token {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


@pytest.fixture
def jupyterlab(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    command = lab_command(STUDENT, port=port, token=token, open_browser=False)
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=log)  # noqa: S603 - our command
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:  # bounded: until the server answers, it dies, or 90 s pass
            if server.poll() is not None:
                log.flush()
                pytest.fail(f"JupyterLab exited with {server.returncode}: "
                            f"{(tmp_path / 'jupyterlab.log').read_text()[-2000:]}")
            try:
                if get(f"{base}/api/status", token)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("JupyterLab did not answer within 90 s")
            time.sleep(0.25)  # poll interval while the server starts
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_jupyterlab_serves_a_learner_notebook_with_the_project_kernel(jupyterlab):
    base, token = jupyterlab
    status, listing = get(f"{base}/api/contents", token)
    assert status == 200
    names = sorted(item["name"] for item in listing["content"])
    assert names == sorted(p.name for p in STUDENT.glob("*.ipynb")), "root is labs/student"
    status, notebook = get(f"{base}/api/contents/01_data_drift.ipynb?content=1", token)
    assert status == 200 and notebook["type"] == "notebook"
    cells = notebook["content"]["cells"]
    assert cells[0]["source"].startswith("# Lab 1: Data drift")
    assert any("raise NotImplementedError" in c["source"] for c in cells), "learner version"
    status, specs = get(f"{base}/api/kernelspecs", token)
    assert specs["default"] == KERNEL_NAME
    argv = specs["kernelspecs"][KERNEL_NAME]["spec"]["argv"]
    assert Path(argv[0]).resolve() == Path(sys.executable).resolve() or argv[0] == "python"
    assert get(f"{base}/api/contents", None)[0] == 403, "no token, no access"


def test_the_server_listens_on_loopback_only_and_refuses_a_missing_folder(tmp_path):
    command = lab_command(tmp_path, port=1234, token="t", open_browser=False)
    assert "--ServerApp.ip=127.0.0.1" in command and "--no-browser" in command
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in command
    with pytest.raises(InputError, match="no such folder"):
        lab_command(tmp_path / "missing")
