"""``mlcicd`` for the tests of the ci/ scripts, without paying its imports on every call.

A script such as ``ci/pipeline.sh`` starts ``$MLCICD`` a dozen times, and every process
that saves, loads or compares a model imports pandas, scikit-learn, SciPy and skops first
(skops lists every scikit-learn estimator when it is imported): about 2 s of CPU a call,
nearly all of the call. Here one server process per pytest worker does those imports
once; each call is a fork of it that runs the real :func:`mlcicd.cli.main` with the
caller's arguments, working directory, environment and file descriptors (stdin, stdout,
stderr are passed over a Unix socket), and the caller exits with its exit code.

What a forked call cannot show is what a real start shows: the console script, and
which modules a command imports. So every script keeps at least one test that runs the
real ``mlcicd`` (tests/test_pr_check.py, tests/test_pipeline_workflow.py,
tests/test_workflows.py), and tests/test_cli_startup.py checks the imports.

``python warm_cli.py SOCKET`` is the server (the tests start it through :func:`client`);
the client is a small executable written next to the socket, given to a script as
``MLCICD``. This module imports only the standard library at module level: the client
runs it under ``python -IS``.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

#: The server exits when its parent is gone (its stdin closes), or after this many seconds
#: without a call: a safety net only, longer than any session's gap between two calls
#: (a server gone idle would turn every later call of its session into an error).
IDLE_SECONDS = 4 * 3600
#: At most this many calls per server: the accept loop is bounded.
MAX_CALLS = 100_000
#: Exit code of a call whose server is gone or whose forked process died before it
#: reported one (EX_SOFTWARE): never 0 or 1, which the scripts read as a verdict.
DIED = 70
#: What a script's commands import: loaded once, before the first fork.
PRELOAD = (
    "mlcicd.cli", "mlcicd.io", "mlcicd.artifacts", "mlcicd.training", "mlcicd.compare",
    "mlcicd.gate", "mlcicd.datasets", "mlcicd.validation", "mlcicd.validation.input_schema",
    "mlcicd.drift.detect", "mlcicd.deploy", "mlcicd.deploy.monitor",
)
HEADER = struct.Struct("!I")

_started: dict[str, object] = {}


def client(tmp_path_factory) -> Path:
    """The executable to use as ``MLCICD``; starts this worker's server on first use.

    One server per pytest process (xdist worker): it is stopped when that process exits.
    """
    if "path" not in _started:
        folder = Path(tmp_path_factory.mktemp("warm-mlcicd"))
        # A socket's path has at most 107 bytes: a short folder of its own, whatever
        # the base temp folder of the session is.
        sock = Path(tempfile.mkdtemp(prefix="warm-mlcicd-")) / "sock"
        server = subprocess.Popen(
            [sys.executable, __file__, str(sock)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready = server.stdout.readline()  # written once the socket listens
        if ready.strip() != "ready":
            server.kill()
            raise RuntimeError(f"the warm mlcicd server did not start: {ready!r}")
        atexit.register(_stop, server, sock.parent)
        path = folder / "mlcicd"
        tests = Path(__file__).resolve().parent
        path.write_text(f"#!{sys.executable} -IS\nimport sys\nsys.path.insert(0, {str(tests)!r})"
                        f"\nfrom warm_cli import call\nsys.exit(call({str(sock)!r}))\n",
                        encoding="utf-8")
        path.chmod(0o755)
        _started["path"] = path
    return _started["path"]  # type: ignore[return-value]


def _stop(server: subprocess.Popen, folder: Path) -> None:
    server.stdin.close()  # the server exits when its stdin closes
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:  # pragma: no cover - only a stuck server
        server.kill()
    shutil.rmtree(folder, ignore_errors=True)


def call(sock: str) -> int:
    """Client: run ``mlcicd sys.argv[1:]`` in the server; return its exit code."""
    for fd in (0, 1, 2):  # a closed standard stream is passed as /dev/null
        try:
            os.fstat(fd)
        except OSError:
            os.dup2(os.open(os.devnull, os.O_RDWR), fd)
    request = json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(),
                          "env": dict(os.environ)}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        try:
            conn.connect(sock)
        except OSError as exc:  # not exit 1: a script would read that as a failed check
            print(f"mlcicd (warm): no server at {sock}: {exc}", file=sys.stderr)
            return DIED
        socket.send_fds(conn, [HEADER.pack(len(request))], [0, 1, 2])
        conn.sendall(request)
        answer = _read(conn, 4)
    if len(answer) < 4:
        print("mlcicd (warm): the command's process died without an exit code",
              file=sys.stderr)
        return DIED
    return HEADER.unpack(answer)[0]


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := conn.recv(size - len(data))):
        data += chunk
    return data


def serve(sock: str) -> None:
    """Server: import once, then fork one child per call until idle or stdin closes."""
    import gc
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    # Objects that exist now are never collected in a child, so a fork does not copy
    # every page of them just to update the collector's bookkeeping.
    gc.collect()
    gc.freeze()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock)
    listener.listen(16)
    print("ready", flush=True)
    for _ in range(MAX_CALLS):
        readable, _, _ = select.select([listener, sys.stdin], [], [], IDLE_SECONDS)
        _reap()
        if listener not in readable:  # idle, or the tests are done (stdin closed)
            break
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            os._exit(_child(conn))
        conn.close()
    listener.close()
    os.unlink(sock)


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _child(conn: socket.socket) -> int:
    """Run one call as a fresh ``mlcicd`` process would, then report its exit code."""
    header, fds, _, _ = socket.recv_fds(conn, HEADER.size, 3)
    request = json.loads(_read(conn, HEADER.unpack(header)[0]))
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = ["mlcicd", *request["argv"]]
    from mlcicd.cli import main

    try:
        code = main(request["argv"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # what the interpreter does with an uncaught exception
        import traceback

        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe, as a real process would meet at exit
        pass
    conn.sendall(HEADER.pack(code & 0xFF))
    return 0


if __name__ == "__main__":
    serve(sys.argv[1])
