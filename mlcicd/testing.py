"""Helpers that start a model server on loopback for tests, benchmarks and the book.

Not part of the serving runtime: :mod:`mlcicd.deploy.serve` never imports this
module. Both helpers bind to a loopback address only.

- :class:`BackgroundServer` runs an ASGI app with uvicorn in a thread of this process.
- :class:`ServerProcess` runs ``mlcicd serve`` in a child process (its own interpreter
  lock, so a load generator here does not slow the server down).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from mlcicd.errors import InputError

__all__ = ["BackgroundServer", "ServerProcess", "free_loopback_port"]

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_ADMIN_TOKEN_ENV = "MLCICD_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret


def free_loopback_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BackgroundServer:
    """Run an app with uvicorn in a thread on an ephemeral loopback port.

    Examples
    --------
    >>> import httpx
    >>> from sklearn.dummy import DummyClassifier
    >>> from mlcicd.deploy import ModelVersion, Router
    >>> from mlcicd.deploy.serve import create_app
    >>> m = DummyClassifier().fit([[0.0], [1.0]], [0, 1])
    >>> with BackgroundServer(create_app(Router({"blue": ModelVersion(m, "v1")}))) as url:
    ...     httpx.get(f"{url}/healthz").json()["live"]
    {'blue': 'v1'}
    """

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        if host not in _LOOPBACK:
            raise InputError(f"BackgroundServer binds to loopback only, got {host!r}")
        self.app = app
        self.host = host
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> str:
        import uvicorn

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio turns Nagle off only on sockets that say they are
        # TCP, and with it on every response waits 40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False,
                                backlog=1024, timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        daemon=True, name="mlcicd-serve")
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)  # polling for readiness
        return f"http://{self.host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        assert self._thread is not None
        self._thread.join(timeout=10)


class ServerProcess:
    """Run a server in a child process on a free loopback port; ``with`` gives its URL.

    Parameters
    ----------
    model : path, optional
        Live model artifact for ``mlcicd serve``.
    candidate : path, optional
        Candidate artifact, loaded into the idle green slot.
    admin_token : str, optional
        Put in the child's ``MLCICD_ADMIN_TOKEN``.
    command : sequence of str, optional
        Run this instead of ``mlcicd serve``; ``{port}`` in an argument is replaced by
        the port (e.g. another app to compare with). The command must serve
        ``GET /healthz`` on 127.0.0.1.
    """

    def __init__(self, model: str | os.PathLike[str] | None = None,
                 candidate: str | os.PathLike[str] | None = None, *,
                 admin_token: str | None = None, command: Sequence[str] | None = None,
                 startup_timeout: float = 300) -> None:
        if (model is None) == (command is None):
            raise InputError("give ServerProcess a model artifact or a command, not both")
        self.args = [] if model is None else ["--model", os.fspath(model)]
        if candidate is not None:
            self.args += ["--candidate", os.fspath(candidate)]
        self.command = None if command is None else list(command)
        self.admin_token = admin_token
        self.startup_timeout = startup_timeout
        self._proc: Any = None

    def __enter__(self) -> str:
        import httpx

        port = free_loopback_port()
        env = {k: v for k, v in os.environ.items() if k != _ADMIN_TOKEN_ENV}
        if self.admin_token:
            env[_ADMIN_TOKEN_ENV] = self.admin_token
        if self.command is None:
            cmd = [sys.executable, "-m", "mlcicd", "serve", *self.args, "--host", "127.0.0.1",
                   "--port", str(port)]
        else:
            cmd = [arg.replace("{port}", str(port)) for arg in self.command]
        self._proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,  # noqa: S603
                                      stderr=subprocess.PIPE, text=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.startup_timeout
        # One client for every probe: ``httpx.get`` builds a new client, and its SSL
        # context, on each call (~25 ms of CPU), and a server that imports scikit-learn
        # on a busy machine is probed a hundred times before it answers.
        with httpx.Client(timeout=1) as probe:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise RuntimeError(f"the server exited: {self._proc.stderr.read().strip()}")
                try:
                    if probe.get(f"{url}/healthz").status_code == 200:
                        return url
                except httpx.TransportError:
                    pass
                time.sleep(0.05)  # polling for readiness
        self.__exit__()
        raise RuntimeError("the server did not answer /healthz in time")

    def __exit__(self, *exc: object) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self._proc.kill()
            self._proc.wait()
        if self._proc.stderr is not None:
            self._proc.stderr.close()


class CliTranscript:
    """Run ``mlcicd`` commands in a folder and print each like a terminal session.

    The book's end-to-end and registry pages show the real CLI this way: the command
    (wrapped at 78 columns), everything it printed, and its exit code, which is also
    kept in :attr:`exit_codes` so the page can glue or check it.

    With ``in_process=True`` each command goes through :func:`mlcicd.cli.main`, the
    function the ``mlcicd`` script calls, inside this interpreter (working folder and
    output streams swapped for the call): the same parsing, output and exit codes,
    without paying for a new interpreter and its imports on every command. A page
    that runs many commands is built several times faster that way.
    """

    def __init__(self, cwd: str | os.PathLike[str], *, in_process: bool = False) -> None:
        self.cwd = os.fspath(cwd)
        self.in_process = in_process
        self.exit_codes: list[int] = []

    def __call__(self, command: str) -> int:
        import shlex
        import textwrap

        argv = shlex.split(command)
        if self.in_process:
            returncode, output = self._run_in_process(argv)
        else:
            executable = os.path.join(os.path.dirname(sys.executable), "mlcicd")
            result = subprocess.run([executable, *argv], cwd=self.cwd,  # noqa: S603
                                    capture_output=True, text=True, check=False)
            returncode, output = result.returncode, result.stdout + result.stderr
        lines = textwrap.wrap(f"mlcicd {command}", 78, break_on_hyphens=False,
                              break_long_words=False)
        print("$ " + " \\\n      ".join(lines))
        print(output.rstrip())
        print(f"[exit {returncode}]")
        self.exit_codes.append(returncode)
        return returncode

    def _run_in_process(self, argv: list[str]) -> tuple[int, str]:
        """``mlcicd.cli.main(argv)`` in :attr:`cwd`: exit code, stdout then stderr."""
        import contextlib
        import io

        from mlcicd.cli import main

        stdout, stderr = io.StringIO(), io.StringIO()
        with (contextlib.chdir(self.cwd), contextlib.redirect_stdout(stdout),
              contextlib.redirect_stderr(stderr)):
            returncode = main(argv)
        return returncode, stdout.getvalue() + stderr.getvalue()


def run_pytest(args: Sequence[str], cwd: str | os.PathLike[str]) -> tuple[int, str]:
    """Run pytest on ``args`` inside this interpreter, from ``cwd``: exit code and output.

    The book shows real test runs while it is built. A new interpreter per run would
    import pytest, numpy, pandas and scikit-learn again only to print one summary line;
    ``pytest.main`` reuses what the page's kernel has already imported. Output capture
    is ``sys``-level (a notebook kernel owns the process's file descriptors) and the
    cache plugin is off, so a run leaves no ``.pytest_cache`` behind.

    Installed plugins are not auto-loaded: the book's runs use none of them, and loading
    them (nbval imports nbformat and jsonschema, xdist execnet, pytest-cov coverage) cost
    each page about 1.7 s of CPU, several times the tests' own. Name one in ``args``
    (``-p pytest_cov``) to load it.
    """
    import contextlib
    import io

    import pytest

    output = io.StringIO()
    with (contextlib.chdir(cwd), contextlib.redirect_stdout(output),
          contextlib.redirect_stderr(output)):
        code = pytest.main([*args, "--capture=sys", "-p", "no:cacheprovider",
                            "--disable-plugin-autoload"])
    return int(code), output.getvalue()
