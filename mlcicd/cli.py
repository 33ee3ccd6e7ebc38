"""The ``mlcicd`` command line: parse, call the library, map the outcome to an exit code.

Exit codes: 0 success, 1 a check or gate failed, 2 bad usage or bad input. Errors are
one line on stderr, at most :data:`MAX_MESSAGE` characters (a long value in a message is
cut); ``--debug`` shows the traceback as well. That holds for usage errors too: a
mistyped option prints one line naming it, not argparse's usage block.

Before a command changes anything it checks every path it reads and writes with
:class:`mlcicd.paths.PathCheck`: an output that is one of the inputs or lies inside a
model artifact is refused unless ``--force``. A model that raises while it predicts is
bad input as well (exit 2, one line naming the artifact).

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
from mlcicd.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, CheckFailed, MlcicdError

#: A usage error is bad input: the same exit code, 2.
EXIT_USAGE = EXIT_BAD_INPUT
#: Longest error line printed; longer messages are cut in the middle.
MAX_MESSAGE = 400

#: Modules under ``mlcicd.commands``, in the order their subcommands are listed.
COMMAND_MODULES = ("data", "model", "release", "drift", "registry", "deploy", "labs", "github")


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that ends each option with its default, taken from the parser itself.

    Like :class:`argparse.ArgumentDefaultsHelpFormatter`, but silent where a default says
    nothing (``None``, ``False`` of a flag) and where the help already explains it, so a
    default is never typed twice and never out of date.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        silent = default is None or default is False or default == argparse.SUPPRESS
        if ("default" in text or silent or not action.option_strings
                or isinstance(default, list | tuple)):
            return text
        return f"{text} (default: %(default)s)"


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr (exit code 2).

    Subcommand parsers inherit the class, so every level behaves the same, and all of
    them show defaults with :class:`DefaultsHelpFormatter`.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"mlcicd: error: {_one_line(f'{self.prog}: {message}')} "
                              f"(see {self.prog} --help)\n")

    def missing_action(self) -> int:
        """Report a group called without its action (``mlcicd deploy``): one line, 2."""
        usage = " ".join(self.format_usage().split())
        actions = [a for a in self._actions if isinstance(a, argparse._SubParsersAction)]
        what = "missing action"
        if actions:
            name = actions[0].metavar or "ACTION"
            what = f"missing {name} (one of {', '.join(actions[0].choices)})"
        print(f"mlcicd: error: {_one_line(f'{self.prog}: {what}; {usage}')}", file=sys.stderr)
        return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
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
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors: return, do not raise
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        return parser.missing_action()
    try:
        return int(args.func(args) or EXIT_OK)
    except CheckFailed as exc:
        _report(args, exc)
        return EXIT_FAILED
    except (MlcicdError, OSError) as exc:
        _report(args, exc)
        return EXIT_USAGE
    except RecursionError as exc:  # a last guard: readers bound nesting themselves
        _report(args, MlcicdError(f"input nested too deeply ({exc})"))
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
    print(f"mlcicd: error: {_one_line(message)}", file=sys.stderr)


def _one_line(message: str) -> str:
    """``message`` on one line of at most :data:`MAX_MESSAGE` characters.

    >>> _one_line("a\\nb")
    'a b'
    >>> len(_one_line("x" * 10_000)) <= MAX_MESSAGE
    True
    """
    flat = " ".join(message.split())
    if len(flat) <= MAX_MESSAGE:
        return flat
    half = (MAX_MESSAGE - 5) // 2
    return f"{flat[:half]} ... {flat[-half:]}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
