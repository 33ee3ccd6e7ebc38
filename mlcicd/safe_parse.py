"""Parsing YAML and JSON that may be hostile: bounded, with one clear error.

A config, schema, gate or metrics file comes from a person or another program, so a
small file must not be able to hang the parser, exhaust memory or end in a
``RecursionError``. Both parsers here accept what this project's files hold and refuse
the rest with an :class:`~mlcicd.errors.InputError` naming the file and the line:

* nesting at most :data:`MAX_NESTING` levels deep;
* integers of at most :data:`MAX_INT_DIGITS` digits (Python refuses to even parse
  5,000 digits, with a traceback);
* no YAML aliases (``*name``): a 500-byte file of nested aliases expands to billions
  of values, and no file of this project needs them;
* no key given twice in one YAML mapping (PyYAML keeps the last one silently).

Error messages quote values through :func:`short_repr`, so they stay short whatever
the file holds. Schemas can have tens of thousands of columns, so YAML is scanned by
libyaml (C) when PyYAML has it, and garbage collection pauses while a document loads.
"""

from __future__ import annotations

import gc
import json
import reprlib
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from mlcicd.errors import InputError

try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

__all__ = ["MAX_INT_DIGITS", "MAX_NESTING", "load_json_text", "load_yaml_text", "short_repr"]

#: Deepest nesting of lists and mappings accepted in a YAML or JSON file.
MAX_NESTING = 64
#: Most digits accepted in an integer of a YAML or JSON file (2**64 has 20).
MAX_INT_DIGITS = 30


def load_yaml_text(text: str, *, source: str = "YAML") -> Any:
    """Parse YAML text with the limits of this module; errors start with ``source``.

    >>> load_yaml_text("a: [1, 2]")
    {'a': [1, 2]}
    >>> load_yaml_text("a: &x [1]\\nb: *x", source="f.yaml")
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: f.yaml: line 2: YAML aliases (*name) are not supported; \
write the value out
    """
    collecting = gc.isenabled()
    # A big document is many small objects made at once: collecting garbage meanwhile
    # only re-scans them, and made loading superlinear in the number of columns.
    gc.disable()
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a safe loader subclass
    except _TooLarge as exc:
        raise InputError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or _first_line(exc)
        raise InputError(f"{source}: not valid YAML{where} ({problem})") from None
    finally:
        if collecting:
            gc.enable()


class _TooLarge(ValueError):
    """A document this module refuses (message without the file name)."""


if yaml.__with_libyaml__:

    class _SafeBase(Composer, CParser, SafeConstructor, Resolver):
        """``yaml.SafeLoader`` scanning and parsing in C (libyaml), composing in Python.

        The composer stays in Python so that :class:`_BoundedLoader` can check every
        node; the C parser makes a schema of 20,000 columns load in about a second.
        """

        def __init__(self, stream: Any) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    _SafeBase = yaml.SafeLoader  # type: ignore[misc, assignment]


class _BoundedLoader(_SafeBase):
    """A safe YAML loader without aliases, with bounded nesting and integer size."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._nesting = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            line = self.peek_event().start_mark.line + 1
            raise _TooLarge(f"line {line}: YAML aliases (*name) are not supported; "
                            "write the value out")
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            line = self.peek_event().start_mark.line + 1
            raise _TooLarge(f"line {line}: nested more than {MAX_NESTING} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._nesting -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        # PyYAML keeps the last of two equal keys silently: a rule written twice is a typo.
        seen = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise _TooLarge(f"line {key_node.start_mark.line + 1}: key "
                                f"{short_repr(key_node.value)} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:
        digits = str(node.value).lstrip("+-").replace("_", "")
        if len(digits) > MAX_INT_DIGITS:
            raise _TooLarge(f"line {node.start_mark.line + 1}: integer with {len(digits)} "
                            f"digits; at most {MAX_INT_DIGITS} are accepted")
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _TooLarge(f"integer with {len(text.lstrip('-'))} digits; "
                        f"at most {MAX_INT_DIGITS} are accepted")
    return int(text)


def _depth(obj: Any) -> int:
    # Iterative, so that measuring a deep document cannot itself recurse too deeply.
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_NESTING:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level + 1) for child in children)
    return deepest


_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlong = 40
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 6
_SHORT.maxlevel = 3


def short_repr(value: Any) -> str:
    """``repr(value)`` cut to a few dozen characters, for error messages.

    >>> short_repr("x" * 1000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
    >>> short_repr(list(range(100)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    return _SHORT.repr(value)


def load_json_text(text: str, *, source: str = "JSON") -> Any:
    """Parse JSON text with the limits of this module; errors start with ``source``.

    >>> load_json_text('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> load_json_text("[" * 100 + "]" * 100, source="m.json")
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: m.json: nested more than 64 levels deep
    """
    try:
        obj = json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON ({_first_line(exc)})") from None
    except RecursionError:
        raise InputError(f"{source}: nested more than {MAX_NESTING} levels deep") from None
    except _TooLarge as exc:
        raise InputError(f"{source}: {exc}") from None
    if _depth(obj) > MAX_NESTING:
        raise InputError(f"{source}: nested more than {MAX_NESTING} levels deep")
    return obj


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
