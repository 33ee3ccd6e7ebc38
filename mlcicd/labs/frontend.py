"""Open the learner notebooks in JupyterLab, on this machine only, with the project's kernel.

``make lab`` (``mlcicd labs lab``) starts JupyterLab in ``labs/student`` listening on
127.0.0.1, with the ``python3`` kernel of the interpreter that runs it (the project's
venv, where ``mlcicd`` is installed). :func:`lab_command` builds the command line, so the
test that starts the server headless runs the same command as a learner does.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

from mlcicd.errors import InputError
from mlcicd.params import Integer, check

__all__ = ["KERNEL_NAME", "free_port", "lab_command"]

#: The kernel the notebooks declare; JupyterLab started from the venv runs it with the
#: venv's interpreter.
KERNEL_NAME = "python3"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lab_command(
    folder: str | Path,
    *,
    port: int = 8888,
    token: str | None = None,
    open_browser: bool = True,
) -> list[str]:
    """The command that serves ``folder`` in JupyterLab on 127.0.0.1.

    Parameters
    ----------
    folder
        The notebooks' folder (``labs/student``); JupyterLab's root, nothing above it.
    port
        The port to listen on (``0`` lets the server pick one).
    token
        The access token (default: a fresh random one; the server prints the URL).
    open_browser
        Open the default browser on the URL (off for a headless server).

    Examples
    --------
    >>> command = lab_command(".", port=9000, token="abc", open_browser=False)
    >>> command[1:3], "--ServerApp.ip=127.0.0.1" in command, "--no-browser" in command
    (['-m', 'jupyterlab'], True, True)
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root}: no such folder (run `mlcicd labs make-student` first)")
    port = check("lab_command", "port", port, Integer(0, 65535))
    command = [
        sys.executable, "-m", "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root.resolve()}",
        f"--IdentityProvider.token={token or secrets.token_hex(16)}",
        f"--MultiKernelManager.default_kernel_name={KERNEL_NAME}",
    ]
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers often run as root; the server still listens on 127.0.0.1 only.
        command.append("--ServerApp.allow_root=True")
    return command
