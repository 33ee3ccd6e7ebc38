"""Argument checks declared once per argument, with one message form.

Every public function of the library refuses a bad argument the same way: an
:class:`~mlcicd.errors.InputError` whose message names the caller, the argument, what
was expected and what came (cut short)::

    bootstrap_diff_ci: n_resamples must be an integer in [1, 100000], got 0

A constraint is a small object (:class:`Integer`, :class:`Real`, :class:`Choice`,
:class:`Boolean`) that both tests a value and says in words what it wants, so the rule
and its message cannot drift apart. Use :func:`check` inside a function, or
:func:`validate_params` to declare the constraints above it.

``True`` is never taken as the number 1: a flag passed where a count belongs is a
mistake, not a count.

>>> check("make_thing", "n", 3, Integer(low=1))
3
>>> check("make_thing", "n", True, Integer(low=1))
Traceback (most recent call last):
...
mlcicd.errors.InputError: make_thing: n must be a positive integer, got True
>>> check("split", "test_size", 1.0, Real(0, 1, closed="neither"))
Traceback (most recent call last):
...
mlcicd.errors.InputError: split: test_size must be a number in (0, 1), got 1.0
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from mlcicd.errors import InputError
from mlcicd.safe_parse import short_repr

__all__ = ["SEED", "Boolean", "Choice", "Integer", "Real", "check", "is_integer", "is_number",
           "validate_params"]

_F = TypeVar("_F", bound=Callable[..., Any])

_BRACKETS = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}


def is_integer(value: Any) -> bool:
    """A Python or numpy integer, never a bool: for a field that is checked, not converted.

    A data-file field (a YAML setting, a JSON metadata key) that is judged where it is
    read uses this and :func:`is_number`, so "whole number" means one thing everywhere.

    >>> is_integer(3), is_integer(True), is_integer(3.0)
    (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | _np_bool())


def is_number(value: Any) -> bool:
    """A finite real number (int or float, numpy's too), never a bool, NaN or infinity.

    >>> is_number(0.5), is_number(False), is_number(float("nan")), is_number("1")
    (True, False, False, False)
    """
    return (isinstance(value, numbers.Real) and not isinstance(value, bool | _np_bool())
            and math.isfinite(value))


@functools.cache
def _np_bool() -> type:
    import numpy as np  # numpy registers its integers with ``numbers``; bool_ it does not

    return np.bool_


@dataclass(frozen=True)
class Integer:
    """A whole number (Python or numpy int, never a bool) in ``[low, high]`` (None: open)."""

    low: int | None = None
    high: int | None = None

    def accepts(self, value: Any) -> bool:
        return is_integer(value) and (self.low is None or value >= self.low) and (
            self.high is None or value <= self.high)

    def convert(self, value: Any) -> int:
        return int(value)

    def describe(self) -> str:
        if self.high is None:
            if self.low == 0:
                return "a non-negative integer"
            if self.low == 1:
                return "a positive integer"
            return "an integer" if self.low is None else f"an integer >= {self.low}"
        if self.low is None:
            return f"an integer <= {self.high}"
        return f"an integer in [{self.low}, {self.high}]"


@dataclass(frozen=True)
class Real:
    """A finite real number in an interval whose ends are open or closed.

    ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``; a missing end
    (None) is unbounded. Integers are accepted and returned as floats.
    """

    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        if not is_number(value):
            return False
        if self.low is not None and (value < self.low or (
                value == self.low and self.closed in ("right", "neither"))):
            return False
        return self.high is None or not (value > self.high or (
            value == self.high and self.closed in ("left", "neither")))

    def convert(self, value: Any) -> float:
        return float(value)

    def describe(self) -> str:
        left, right = _BRACKETS[self.closed]
        if self.low is not None and self.high is not None:
            return f"a number in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"a number {'>=' if left == '[' else '>'} {self.low:g}"
        if self.high is not None:
            return f"a number {'<=' if right == ']' else '<'} {self.high:g}"
        return "a finite number"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of values (compared with ``==``)."""

    options: tuple[Any, ...]

    def __init__(self, options: Iterable[Any]) -> None:
        object.__setattr__(self, "options", tuple(options))

    def accepts(self, value: Any) -> bool:
        try:
            return value in self.options
        except TypeError:  # an unhashable or uncomparable value is simply not an option
            return False

    def convert(self, value: Any) -> Any:
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(repr(option) for option in self.options)


@dataclass(frozen=True)
class Boolean:
    """``True`` or ``False`` (numpy's too): a 0 or a "yes" is not a flag."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool | _np_bool())

    def convert(self, value: Any) -> bool:
        return bool(value)

    def describe(self) -> str:
        return "True or False"


Constraint = Integer | Real | Choice | Boolean

#: A seed numpy's generators accept everywhere: an integer in ``[0, 2**32)``.
SEED = Integer(0, 2**32 - 1)


def check(caller: str, name: str, value: Any, constraint: Constraint) -> Any:
    """Return ``value`` converted (int, float, bool) if it meets ``constraint``, else raise.

    Raises
    ------
    InputError
        ``"<caller>: <name> must be <what>, got <value>"``; the value is cut short so a
        long list or string cannot flood the message.
    """
    if constraint.accepts(value):
        return constraint.convert(value)
    prefix = f"{caller}: " if caller else ""
    raise InputError(f"{prefix}{name} must be {constraint.describe()}, got {short_repr(value)}")


def validate_params(**constraints: Constraint) -> Callable[[_F], _F]:
    """Declare the constraints of a function's arguments above its definition.

    The wrapped function receives the converted values; ``None`` passes through for an
    argument whose default is ``None`` (meaning "not given"). On a method ``__init__``
    the caller named in messages is the class.

    >>> @validate_params(bins=Integer(low=2))
    ... def histogram(values, bins=10):
    ...     return bins
    >>> histogram([1.0], bins=4)
    4
    >>> histogram([1.0], bins=1)
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: histogram: bins must be an integer >= 2, got 1
    """

    def decorate(function: _F) -> _F:
        signature = inspect.signature(function)
        unknown = set(constraints) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{function.__qualname__}: no argument named {sorted(unknown)}")
        parts = function.__qualname__.split(".")
        caller = parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else function.__name__
        optional = {name for name, parameter in signature.parameters.items()
                    if parameter.default is None}

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            for name, constraint in constraints.items():
                if name not in bound.arguments:
                    continue
                value = bound.arguments[name]
                if value is None and name in optional:
                    continue
                bound.arguments[name] = check(caller, name, value, constraint)
            return function(*bound.args, **bound.kwargs)

        return checked  # type: ignore[return-value]

    return decorate
