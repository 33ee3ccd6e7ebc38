"""The ``mlcicd`` command line: parse, call the library, map the outcome to an exit code.

Exit codes: 0 success, 1 a check or gate failed, 2 bad usage or bad input. Errors are
one line on stderr; ``--debug`` shows the traceback as well.

Each group of subcommands lives in :mod:`mlcicd.commands` as a module with a
``register(subparsers)`` function; a subcommand's handler takes the parsed arguments
and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from mlcicd import __version__
from mlcicd.errors import CheckFailed, MlcicdError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: Modules under ``mlcicd.commands``, in the order their subcommands are listed.
COMMAND_MODULES = ("data", "model", "release", "drift", "registry", "deploy", "labs", "github")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlcicd",
        description="CI/CD for machine learning: validate, train, compare, gate, monitor, release.",
    )
    parser.add_argument("--version", action="version", version=f"mlcicd {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"mlcicd.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or EXIT_OK)
    except CheckFailed as exc:
        _report(args, exc)
        return EXIT_FAILED
    except (MlcicdError, OSError) as exc:
        _report(args, exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mlcicd: interrupted", file=sys.stderr)
        return 130


def _report(args: argparse.Namespace, exc: BaseException) -> None:
    if args.debug:
        traceback.print_exception(exc)
    message = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename:
        message = f"{exc.filename}: {exc.strerror or message}"
    print(f"mlcicd: error: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
