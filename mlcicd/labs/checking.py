"""The machinery of the self-checks: a clear pass, or a hint that says what is wrong.

Each ``check_*`` function takes the learner's answer (usually the function they wrote),
runs it on data it builds itself, and returns a :class:`CheckResult`. Displayed in a
notebook, the result reads ``PASS: ...`` or ``NOT YET: <hint>``. An exercise still holding
its ``# TODO`` stub (it raises ``NotImplementedError``) gets a "not done yet" hint, so the
learner's notebook runs from top to bottom before any exercise is solved.

A check behaves the same everywhere: it returns, it never raises, whatever the
environment. The tools that execute the solution notebooks (:mod:`mlcicd.labs.build`,
:mod:`mlcicd.labs.runner`) read the executed notebook and fail when any cell shows a
``NOT YET`` (:func:`failed_checks`).

A check must reject an answer that merely calls the library function the exercise asks
the learner to write: :func:`borrowed_name` finds such a call in the answer's code (or in
a helper it calls), whatever name the library object was imported under.

The checks of each lab are in ``mlcicd/labs/checks_*.py``; the notebooks import them all
from :mod:`mlcicd.labs.checks`.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "NOT_YET",
    "CheckResult",
    "NotAnswered",
    "answer_of",
    "borrowed_name",
    "checker",
    "close",
    "fail",
    "failed_checks",
    "ok",
    "refuse_library",
]

#: The prefix of a failed check as displayed in a notebook.
NOT_YET = "NOT YET"


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
        return f"{'PASS' if self.passed else NOT_YET}: {self.message}"

    __repr__ = __str__


class NotAnswered(Exception):
    """Raised inside a check when the learner's answer cannot be judged any further."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


def ok(message: str) -> CheckResult:
    """A passed check."""
    return CheckResult(True, message)


def fail(message: str) -> CheckResult:
    """A failed check (always returned, never raised: notebooks and tests see the same)."""
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


def close(value: float, wanted: float, *, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """True when ``value`` matches ``wanted`` to ``rel`` (relative) or ``abs_tol``.

    >>> close(0.1 + 0.2, 0.3), close(0.31, 0.3)
    (True, False)
    """
    return math.isclose(value, wanted, rel_tol=rel, abs_tol=abs_tol)


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def borrowed_name(func: Any, forbidden: Mapping[str, Any]) -> str | None:
    """The name of a ``forbidden`` library object that ``func`` uses, or None.

    ``forbidden`` maps a library name to its object. A use is a global of ``func`` (or of
    a helper function it calls, defined in the same notebook) bound to one of those
    objects under any name, or any attribute access with a forbidden name
    (``drift.PopulationStabilityIndex``).

    Examples
    --------
    >>> import math
    >>> def lazy(x):
    ...     return math.sqrt(x)
    >>> def honest(x):
    ...     return x ** 0.5
    >>> borrowed_name(lazy, {"sqrt": math.sqrt}), borrowed_name(honest, {"sqrt": math.sqrt})
    ('sqrt', None)
    """
    by_identity = {id(obj): name for name, obj in forbidden.items()}
    pending, seen = [func], set()
    while pending:
        current = pending.pop()
        code = getattr(current, "__code__", None)
        if not isinstance(code, types.CodeType) or id(code) in seen:
            continue
        seen.add(id(code))
        namespace = getattr(current, "__globals__", {})
        closure = [cell.cell_contents for cell in (getattr(current, "__closure__", None) or ())
                   if _filled(cell)]
        candidates = [namespace.get(name) for name in _code_names(code)] + closure
        for name in _code_names(code):
            if name in forbidden:
                return name
        for obj in candidates:
            if id(obj) in by_identity and obj is not None:
                return by_identity[id(obj)]
            if isinstance(obj, types.FunctionType) and obj.__module__ == current.__module__:
                pending.append(obj)
    return None


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def refuse_library(func: Any, forbidden: Mapping[str, Any], what: str) -> None:
    """Raise :class:`NotAnswered` when ``func`` calls a library function it should replace."""
    name = borrowed_name(func, forbidden)
    if name is not None:
        raise NotAnswered(fail(
            f"`{getattr(func, '__name__', 'your function')}` calls the library's `{name}`: "
            f"the exercise is to write {what} yourself, with numpy and plain Python."
        ))


def failed_checks(notebook: Any) -> list[str]:
    """The ``NOT YET`` messages shown in an executed notebook's outputs (a dict or a node).

    >>> cell = {"cell_type": "code", "outputs": [{"output_type": "execute_result",
    ...         "data": {"text/plain": "NOT YET: use the shifted points"}}]}
    >>> failed_checks({"cells": [cell]})
    ['NOT YET: use the shifted points']
    """
    found = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            text = output.get("data", {}).get("text/plain", "") or output.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            found += [line for line in text.splitlines() if line.startswith(f"{NOT_YET}:")]
    return found
