"""The legal values of each lab's parameters, checked in the notebook and sampled at random.

``labs/params.yaml`` declares, for each lab, the range of every parameter of its
``parameters`` cell and the constraints between them::

    labs:
      05_end_to_end:
        ranges:
          n_stream: {type: int, min: 600, max: 10000}
          drift_kind: {choices: [covariate, concept, prior]}
          canary_steps: {type: list, items: {type: float, min: 0.01, max: 1.0},
                         min_length: 1, max_length: 6, increasing: true}
        constraints:
          - drift_at <= n_stream

The cell right after the parameters calls :func:`check_lab_parameters`, so a value out of
range stops the notebook there with one sentence that names the parameter, its value and
what is allowed (:class:`LabParameterError` shows no traceback in Jupyter). The property
run of ``make labs`` draws random legal sets with :func:`random_sets`: any error in a
notebook run with legal values is a bug of the lab.

A constraint is a comparison over parameter names, literals, ``len()``, ``min()``,
``max()``, ``[index]``, ``+ - * /``, ``and``/``or``/``not`` and ``in``; nothing else is
evaluated.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mlcicd.errors import InputError
from mlcicd.params import Boolean, Integer, Real

__all__ = [
    "LabParameterError",
    "LabRanges",
    "ParamRange",
    "check_lab_parameters",
    "find_matrix",
    "load_ranges",
    "random_sets",
]

MATRIX_NAME = "params.yaml"


class LabParameterError(InputError):
    """A lab parameter outside its legal range; shown in Jupyter as its message only."""

    def _render_traceback_(self) -> list[str]:  # IPython's hook for a custom traceback
        return [f"{type(self).__name__}: {self}"]


@dataclass(frozen=True)
class ParamRange:
    """The legal values of one parameter: a type with bounds, or a list of choices."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    items: ParamRange | None = None
    min_length: int = 0
    max_length: int = 20
    increasing: bool = False

    @classmethod
    def from_dict(cls, name: str, spec: Any, where: str) -> ParamRange:
        if not isinstance(spec, dict):
            raise InputError(f"{where}: range of {name!r} must be a mapping, got {spec!r}")
        unknown = set(spec) - {"type", "min", "max", "choices", "items", "min_length",
                               "max_length", "increasing"}
        if unknown:
            raise InputError(f"{where}: range of {name!r} has unknown keys {sorted(unknown)}")
        if "choices" in spec:
            return cls(name, "choice", choices=tuple(spec["choices"]))
        kind = spec.get("type")
        if kind not in {"int", "float", "bool", "list"}:
            raise InputError(f"{where}: range of {name!r} needs choices or a type among int, "
                             f"float, bool, list; got {kind!r}")
        items = cls.from_dict(f"{name}[]", spec["items"], where) if kind == "list" else None
        return cls(name, kind, spec.get("min"), spec.get("max"), (), items,
                   int(spec.get("min_length", 1 if kind == "list" else 0)),
                   int(spec.get("max_length", 20)), bool(spec.get("increasing", False)))

    def describe(self) -> str:
        """What is allowed, in words (``an int from 1 to 10``)."""
        if self.kind == "choice":
            return "one of " + ", ".join(map(repr, self.choices))
        if self.kind == "bool":
            return "True or False"
        if self.kind == "list":
            order = " in increasing order" if self.increasing else ""
            assert self.items is not None
            return (f"a list of {self.min_length} to {self.max_length} values{order}, each "
                    f"{self.items.describe()}")
        noun = "a whole number" if self.kind == "int" else "a number"
        return f"{noun} from {_fmt(self.low)} to {_fmt(self.high)}"

    def problem(self, value: Any) -> str | None:
        """One sentence saying why ``value`` is not legal, or None."""
        if self._legal(value):
            return None
        return f"{self.name} = {value!r} is not allowed: it must be {self.describe()}."

    def _legal(self, value: Any) -> bool:
        if self.kind == "choice":
            return any(value == c and type(value) is type(c) for c in self.choices)
        if self.kind == "bool":
            return Boolean().accepts(value)
        if self.kind == "list":
            assert self.items is not None
            if not isinstance(value, list | tuple):
                return False
            if not self.min_length <= len(value) <= self.max_length:
                return False
            if any(self.items.problem(v) for v in value):
                return False
            return not self.increasing or all(a < b for a, b in zip(value, value[1:],
                                                                    strict=False))
        # The same rule as a library argument: never a bool, NaN or infinity.
        number = Integer(self.low, self.high) if self.kind == "int" else Real(self.low, self.high)
        return number.accepts(value)

    def sample(self, rng: np.random.Generator) -> Any:
        """A random legal value; the bounds themselves come up often (one draw in four)."""
        if self.kind == "choice":
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.kind == "bool":
            return bool(rng.integers(2))
        if self.kind == "list":
            assert self.items is not None
            length = int(rng.integers(self.min_length, self.max_length + 1))
            values = [self.items.sample(rng) for _ in range(length)]
            if self.increasing:
                values = sorted(set(values))
            return values if len(values) >= self.min_length else self.sample(rng)
        low, high = float(self.low if self.low is not None else 0), float(self.high or 1)
        edge = rng.random() < 0.25
        value = (low if rng.random() < 0.5 else high) if edge else rng.uniform(low, high)
        if self.kind == "int":
            return int(round(value))
        return round(float(value), 4)


@dataclass(frozen=True)
class LabRanges:
    """The ranges of one lab's parameters and the constraints between them."""

    lab: str
    ranges: dict[str, ParamRange]
    constraints: tuple[str, ...] = field(default=())

    def problems(self, values: Mapping[str, Any]) -> list[str]:
        """One sentence per illegal value or broken constraint (empty when all is legal)."""
        found = []
        for name, value in values.items():
            if name in self.ranges and (problem := self.ranges[name].problem(value)):
                found.append(problem)
        if found:
            return found
        for constraint in self.constraints:
            if not _evaluate(constraint, values):
                shown = ", ".join(f"{n} = {values[n]!r}" for n in _names(constraint)
                                  if n in values)
                found.append(f"the parameters must satisfy {constraint} ({shown}).")
        return found


def find_matrix(start: str | Path | None = None) -> Path:
    """``labs/params.yaml``, found from a lab folder, the project root or the package."""
    here = Path(start) if start is not None else Path.cwd()
    candidates = [here / MATRIX_NAME, here.parent / MATRIX_NAME, here / "labs" / MATRIX_NAME,
                  Path(__file__).resolve().parents[2] / "labs" / MATRIX_NAME]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InputError(f"no {MATRIX_NAME} found near {here} (looked in "
                     f"{', '.join(str(c.parent) for c in candidates)})")


def load_ranges(path: str | Path | None = None) -> dict[str, LabRanges]:
    """The ranges of every lab in the matrix file (found with :func:`find_matrix`)."""
    source = Path(path) if path is not None else find_matrix()
    raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    labs = {}
    for lab, spec in (raw.get("labs") or {}).items():
        where = f"{source}: lab {lab!r}"
        ranges = {str(n): ParamRange.from_dict(str(n), r, where)
                  for n, r in (spec.get("ranges") or {}).items()}
        constraints = tuple(str(c) for c in spec.get("constraints") or ())
        for constraint in constraints:
            unknown = [n for n in _names(constraint) if n not in ranges]
            if unknown:
                raise InputError(f"{where}: constraint {constraint!r} names unknown "
                                 f"parameter(s) {', '.join(unknown)}")
        labs[str(lab)] = LabRanges(str(lab), ranges, constraints)
    return labs


def check_lab_parameters(lab: str, namespace: Mapping[str, Any],
                         matrix: str | Path | None = None) -> None:
    """Stop a lab whose parameters are out of range, with one sentence naming the problem.

    ``namespace`` is the notebook's ``globals()``: every parameter with a declared range
    is looked up there.
    """
    ranges = load_ranges(matrix).get(lab)
    if ranges is None:
        raise InputError(f"{find_matrix() if matrix is None else matrix}: no lab {lab!r}")
    values = {name: namespace[name] for name in ranges.ranges if name in namespace}
    missing = [name for name in ranges.ranges if name not in namespace]
    if missing:
        raise LabParameterError(f"lab {lab}: the parameter(s) {', '.join(missing)} are not set; "
                                "run the parameters cell first.")
    problems = ranges.problems(values)
    if problems:
        raise LabParameterError(f"lab {lab}: {problems[0]}")


def random_sets(
    defaults: Mapping[str, Mapping[str, Any]],
    ranges: Mapping[str, LabRanges],
    n: int,
    seed: int,
    *,
    max_changes: int = 3,
) -> list[tuple[str, str, dict[str, Any]]]:
    """``n`` random legal parameter sets, spread over the labs: (lab, name, changes).

    Each set changes one to ``max_changes`` parameters of the lab's defaults; a draw that
    breaks a constraint is drawn again.
    """
    rng = np.random.default_rng(seed)
    labs = [str(lab) for lab in rng.permutation(sorted(ranges))]  # the seed picks the order
    out = []
    for index in range(n):
        lab = labs[index % len(labs)]
        names = sorted(ranges[lab].ranges)
        for _attempt in range(200):
            count = int(rng.integers(1, min(max_changes, len(names)) + 1))
            chosen = sorted(rng.choice(names, size=count, replace=False).tolist())
            changes = {name: ranges[lab].ranges[name].sample(rng) for name in chosen}
            if not ranges[lab].problems({**defaults[lab], **changes}):
                out.append((lab, f"random-{seed}-{index:02d}", changes))
                break
        else:
            raise InputError(f"lab {lab}: no legal random set in 200 draws; check its "
                             "constraints")
    return out


def _fmt(value: float | None) -> str:
    return "any" if value is None else f"{value:g}"


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b, ast.Add: operator.add, ast.Sub: operator.sub,
    ast.Mult: operator.mul, ast.Div: operator.truediv,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"len": len, "min": min, "max": max}


def _names(expression: str) -> list[str]:
    tree = ast.parse(expression, mode="eval")
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(_FUNCTIONS))


def _evaluate(expression: str, values: Mapping[str, Any]) -> Any:
    """Evaluate a constraint over ``values`` with a small whitelist of operations.

    >>> _evaluate("drift_at < n and len(steps) >= 1", {"drift_at": 3, "n": 5, "steps": [1]})
    True
    """
    return _node(ast.parse(expression, mode="eval").body, values)


def _node(node: ast.AST, values: Mapping[str, Any]) -> Any:  # noqa: PLR0911 - one per node kind
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BoolOp):
        parts = (_node(v, values) for v in node.values)
        return all(parts) if isinstance(node.op, ast.And) else any(parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        inner = _node(node.operand, values)
        return (not inner) if isinstance(node.op, ast.Not) else -inner
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_node(node.left, values), _node(node.right, values))
    if isinstance(node, ast.Compare):
        left = _node(node.left, values)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _node(right_node, values)
            if not _OPERATORS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Subscript):
        return _node(node.value, values)[_node(node.slice, values)]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS and not node.keywords):
        return _FUNCTIONS[node.func.id](*(_node(a, values) for a in node.args))
    if isinstance(node, ast.List | ast.Tuple):
        return [_node(e, values) for e in node.elts]
    raise InputError(f"constraint: {ast.unparse(node)!r} is not a supported expression")
