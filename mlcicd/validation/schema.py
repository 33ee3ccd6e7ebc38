"""What a data set should look like: a :class:`Schema` of :class:`ColumnSchema` rules.

A schema is plain data. It is written by hand or inferred from reference data
(:mod:`mlcicd.validation.infer`), stored as YAML next to the code, reviewed like code,
and read back with :meth:`Schema.from_yaml`. Reading is strict: an unknown key or a
value of the wrong type is an :class:`~mlcicd.errors.InputError` naming the column and
the key, because a misspelt rule that is silently ignored is a check that never runs.
"""

from __future__ import annotations

import collections
import difflib
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from mlcicd.errors import InputError
from mlcicd.io import atomic_write_text, load_yaml_text, read_utf8
from mlcicd.params import Boolean, Integer, Real, check

__all__ = ["DTYPES", "ColumnSchema", "Schema"]

#: Kinds of values a column may be declared to hold. ``numeric`` and ``float`` accept
#: any finite number (a float column whose values happen to be whole is still fine);
#: ``integer`` accepts whole numbers only, even when stored as floats (a CSV column of
#: integers with a gap is read as floats); ``bool`` accepts booleans, 0/1 and the words
#: true/false/yes/no; ``string`` and ``category`` accept any value, since text that looks
#: like a number is still text: pin their values down with ``allowed``. ``any`` checks
#: nothing about the kind.
DTYPES = ("any", "numeric", "integer", "float", "bool", "string", "category")

NUMERIC_DTYPES = ("numeric", "integer", "float")


def _suggest(key: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class ColumnSchema:
    """Rules for one column. A rule left as ``None`` is not checked.

    Parameters
    ----------
    name : str
        Column name, exactly as in the data.
    dtype : str
        One of :data:`DTYPES`.
    nullable : bool
        ``False`` means no missing value at all is allowed.
    max_missing_rate : float, optional
        Largest allowed share of missing values, in [0, 1] (used when ``nullable``).
    min, max : float, optional
        Inclusive bounds on the values (compared as numbers).
    allowed : tuple, optional
        The only values allowed (missing values are judged by the missing-value rule).
    unique : bool
        No two rows may share a (non-missing) value, as for an identifier.
    mean_min, mean_max : float, optional
        Inclusive bounds on the column mean.
    std_max : float, optional
        Largest allowed standard deviation.
    required : bool
        Whether a data set without this column fails validation.
    description : str
        Free text for people reading the schema; never checked.

    Examples
    --------
    >>> age = ColumnSchema("age", dtype="integer", nullable=False, min=0, max=120)
    >>> age.to_dict()
    {'dtype': 'integer', 'nullable': False, 'min': 0, 'max': 120}
    >>> ColumnSchema.from_dict("age", {"dtype": "integer", "maxx": 120})
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: schema column 'age': unknown key 'maxx' (did you mean 'max'?)
    """

    name: str
    dtype: str = "any"
    nullable: bool = True
    max_missing_rate: float | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None
    unique: bool = False
    mean_min: float | None = None
    mean_max: float | None = None
    std_max: float | None = None
    required: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        where = f"schema column {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"schema: column names must be non-empty text, got {self.name!r}")
        if self.dtype not in DTYPES:
            raise InputError(
                f"{where}: unknown dtype {self.dtype!r}{_suggest(str(self.dtype), DTYPES)}; "
                f"choose from {', '.join(DTYPES)}"
            )
        for key in ("nullable", "unique", "required"):
            object.__setattr__(self, key, check(where, repr(key), getattr(self, key), Boolean()))
        for key, constraint in (("max_missing_rate", Real(0, 1)), ("min", Real()),
                                ("max", Real()), ("mean_min", Real()), ("mean_max", Real()),
                                ("std_max", Real(low=0))):
            if getattr(self, key) is not None:
                check(where, repr(key), getattr(self, key), constraint)
        for low, high in (("min", "max"), ("mean_min", "mean_max")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise InputError(f"{where}: {low!r} ({lo!r}) is larger than {high!r} ({hi!r})")
        if self.allowed is not None:
            if not isinstance(self.allowed, list | tuple | set | frozenset):
                raise InputError(f"{where}: 'allowed' must be a list, got {self.allowed!r}")
            object.__setattr__(self, "allowed", tuple(self.allowed))
        if not isinstance(self.description, str):
            raise InputError(f"{where}: 'description' must be text, got {self.description!r}")

    @classmethod
    def known_keys(cls) -> tuple[str, ...]:
        """The keys a column may have in a schema file."""
        return tuple(f.name for f in fields(cls) if f.name != "name")

    @classmethod
    def from_dict(cls, name: str, spec: Any) -> ColumnSchema:
        """Build from a schema file's entry; a bare string is taken as the dtype."""
        if spec is None:
            spec = {}
        elif isinstance(spec, str):
            spec = {"dtype": spec}
        if not isinstance(spec, dict):
            raise InputError(
                f"schema column {name!r}: expected a mapping of rules, got {type(spec).__name__}"
            )
        known = cls.known_keys()
        for key in spec:
            if key not in known:
                raise InputError(
                    f"schema column {name!r}: unknown key {key!r}{_suggest(str(key), known)}"
                )
        if "allowed" in spec and spec["allowed"] is not None and not isinstance(
            spec["allowed"], list | tuple
        ):
            raise InputError(
                f"schema column {name!r}: 'allowed' must be a list, got {spec['allowed']!r}"
            )
        return cls(name=name, **spec)

    def to_dict(self) -> dict[str, Any]:
        """The column's rules, leaving out those at their default (what a person would write)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "name" or value == f.default:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @property
    def is_numeric(self) -> bool:
        """Whether the declared dtype is a kind of number."""
        return self.dtype in NUMERIC_DTYPES


_SCHEMA_KEYS = ("min_rows", "max_rows", "max_duplicate_rows", "allow_extra_columns", "target",
                "columns")


@dataclass(frozen=True)
class Schema:
    """Rules for a whole data set: its columns, its size and its duplicate rows.

    Parameters
    ----------
    columns : tuple of ColumnSchema
        The expected columns, in order.
    min_rows, max_rows : int, optional
        Inclusive bounds on the number of rows.
    max_duplicate_rows : int, optional
        Largest allowed number of rows that repeat an earlier row exactly.
    allow_extra_columns : bool
        When ``False`` a column the schema does not list is reported.
    target : str, optional
        Name of the label column, when the data set has one (informative).

    Examples
    --------
    >>> schema = Schema.from_dict({
    ...     "min_rows": 1,
    ...     "columns": {"age": {"dtype": "integer", "min": 0, "max": 120}},
    ... })
    >>> schema.column_names
    ('age',)
    >>> Schema.from_dict(schema.to_dict()) == schema
    True
    """

    columns: tuple[ColumnSchema, ...] = ()
    min_rows: int | None = None
    max_rows: int | None = None
    max_duplicate_rows: int | None = None
    allow_extra_columns: bool = False
    target: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        for column in self.columns:
            if not isinstance(column, ColumnSchema):
                raise InputError(f"schema: columns must be ColumnSchema objects, got {column!r}")
        names = [c.name for c in self.columns]
        # Counted in one pass: a schema may have tens of thousands of columns.
        counts = collections.Counter(names)
        repeated = sorted(n for n, k in counts.items() if k > 1)
        if repeated:
            raise InputError(f"schema: column(s) listed twice: {', '.join(map(repr, repeated))}")
        for key in ("min_rows", "max_rows", "max_duplicate_rows"):
            if getattr(self, key) is not None:
                check("schema", repr(key), getattr(self, key), Integer(low=0))
        if (self.min_rows is not None and self.max_rows is not None
                and self.min_rows > self.max_rows):
            raise InputError(
                f"schema: 'min_rows' ({self.min_rows}) is larger than 'max_rows' ({self.max_rows})"
            )
        check("schema", "'allow_extra_columns'", self.allow_extra_columns, Boolean())
        if self.target is not None and self.target not in names:
            raise InputError(f"schema: target {self.target!r} is not one of the columns")

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of the expected columns, in order."""
        return tuple(c.name for c in self.columns)

    def __getitem__(self, name: str) -> ColumnSchema:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    # -- dictionaries and YAML -------------------------------------------------------

    @classmethod
    def from_dict(cls, spec: Any) -> Schema:
        """Build from the structure of a schema file; unknown keys are an error."""
        if not isinstance(spec, dict):
            raise InputError(f"schema: expected a mapping at the top, got {type(spec).__name__}")
        for key in spec:
            if key not in _SCHEMA_KEYS:
                raise InputError(f"schema: unknown key {key!r}{_suggest(str(key), _SCHEMA_KEYS)}")
        columns = spec.get("columns") or {}
        if not isinstance(columns, dict):
            raise InputError(
                "schema: 'columns' must be a mapping of column name to rules, "
                f"got {type(columns).__name__}"
            )
        built = tuple(ColumnSchema.from_dict(str(name), rules) for name, rules in columns.items())
        rest = {k: v for k, v in spec.items() if k != "columns"}
        return cls(columns=built, **rest)

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` turns back into an equal schema."""
        out: dict[str, Any] = {
            key: getattr(self, key) for key in _SCHEMA_KEYS if key != "columns"
        }
        out["columns"] = {c.name: c.to_dict() for c in self.columns}
        return out

    @classmethod
    def from_yaml_text(cls, text: str, *, source: str = "schema") -> Schema:
        """Parse a schema from YAML text; errors are prefixed with ``source``."""
        spec = load_yaml_text(text, source=source)
        if spec is None:
            raise InputError(f"{source}: the schema file is empty")
        try:
            return cls.from_dict(spec)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Schema:
        """Read a schema file written by :meth:`to_yaml` or by hand."""
        return cls.from_yaml_text(read_utf8(path, "a YAML schema"), source=str(Path(path)))

    def to_yaml(self, path: str | os.PathLike[str] | None = None) -> str:
        """Return the schema as YAML text, also writing it (atomically) to ``path`` if given."""
        header = "# mlcicd data schema: rules left out are not checked.\n"
        text = header + yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=False)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def with_columns(self, *columns: ColumnSchema) -> Schema:
        """A copy with ``columns`` replacing those of the same name (or appended)."""
        replaced = {c.name: c for c in columns}
        kept = [replaced.pop(c.name, c) for c in self.columns]
        return replace(self, columns=tuple(kept) + tuple(replaced.values()))

