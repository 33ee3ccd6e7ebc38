"""The machinery of the self-checks: a clear pass, or a hint that says what is wrong.

Each ``check_*`` function takes the learner's answer (usually the function they wrote),
runs it on data it builds itself, and returns a :class:`CheckResult`. Displayed in a
notebook, the result reads ``PASS: ...`` or ``NOT YET: <hint>``. An exercise still holding
its ``# TODO`` stub (it raises ``NotImplementedError``) gets a "not done yet" hint, so the
learner's notebook runs from top to bottom before any exercise is solved.

When the environment variable :data:`STRICT_ENV` is set (the papermill runner sets it), a
failed check raises :class:`~mlcicd.errors.CheckFailed` instead: the solution notebooks
must pass their own checks under every parameter set.

The checks of each lab are in ``mlcicd/labs/checks_*.py``; the notebooks import them all
from :mod:`mlcicd.labs.checks`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlcicd.errors import CheckFailed

#: When this environment variable is "1", a failed check raises instead of returning.
STRICT_ENV = "MLCICD_LABS_STRICT"

__all__ = ["STRICT_ENV", "CheckResult", "NotAnswered", "answer_of", "checker", "fail", "ok"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one self-check: ``passed`` and the message shown to the learner.

    Examples
    --------
    >>> ok("the threshold is right")
    PASS: the threshold is right
    >>> bool(CheckResult(False, "try a smaller value"))
    False
    """

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'NOT YET'}: {self.message}"

    __repr__ = __str__


class NotAnswered(Exception):
    """Raised by :func:`answer_of` when the learner's code did not produce an answer."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


def ok(message: str) -> CheckResult:
    """A passed check."""
    return CheckResult(True, message)


def fail(message: str) -> CheckResult:
    """A failed check; raises :class:`~mlcicd.errors.CheckFailed` in strict mode."""
    if os.environ.get(STRICT_ENV) == "1":
        raise CheckFailed(f"self-check failed: {message}")
    return CheckResult(False, message)


def answer_of(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's ``func``; turn a stub or a crash into a :class:`NotAnswered` hint.

    Examples
    --------
    >>> def stub():
    ...     raise NotImplementedError
    >>> try:
    ...     answer_of(stub)
    ... except NotAnswered as exc:
    ...     print(exc.result)
    NOT YET: `stub` is still a stub: replace its `# TODO` with your code and run the cell again.
    """
    name = getattr(func, "__name__", "your function")
    if not callable(func):
        raise NotAnswered(fail(f"expected a function, got {type(func).__name__}"))
    try:
        return func(*args, **kwargs)
    except NotImplementedError:
        raise NotAnswered(
            fail(
                f"`{name}` is still a stub: replace its `# TODO` with your code "
                "and run the cell again."
            )
        ) from None
    except Exception as exc:  # the learner's bug, reported as a hint
        raise NotAnswered(fail(f"`{name}` raised {type(exc).__name__}: {exc}")) from None


def checker(check: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
    """Decorate a ``check_*`` function so that a :class:`NotAnswered` becomes its result."""

    def wrapper(*args: Any, **kwargs: Any) -> CheckResult:
        try:
            return check(*args, **kwargs)
        except NotAnswered as exc:
            return exc.result

    wrapper.__name__ = check.__name__
    wrapper.__qualname__ = check.__qualname__
    wrapper.__doc__ = check.__doc__
    wrapper.__wrapped__ = check  # type: ignore[attr-defined]
    return wrapper
