"""The outcome of a validation: every failure found, not just the first.

A validator that stops at the first problem makes fixing data a slow loop (fix, rerun,
find the next problem). :class:`ValidationReport` holds all of them, so one run tells
the whole story, as a table, as Markdown for a pull-request comment, or as JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.errors import CheckFailed
from mlcicd.markdown import table

__all__ = ["Failure", "ValidationReport"]


def plain(value: Any) -> Any:
    """A JSON- and YAML-friendly version of one cell value (numpy scalars become Python)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return repr(value)


@dataclass(frozen=True)
class Failure:
    """One check that did not hold.

    Attributes
    ----------
    check : str
        Which rule failed: ``missing_column``, ``unexpected_column``, ``row_count``,
        ``duplicate_rows``, ``dtype``, ``missing``, ``range``, ``allowed``, ``unique``,
        ``mean``, ``std``.
    column : str or None
        The column concerned, ``None`` for rules about the whole data set.
    message : str
        What was expected and what was found, for a person.
    failing_rows : int or None
        How many rows break the rule (``None`` for statistics such as the mean).
    examples : tuple
        A few offending values (or row labels for duplicate rows).

    Examples
    --------
    >>> f = Failure("range", "age", "2 values outside [0, 120]", 2, (150, -1))
    >>> print(f)
    range [age]: 2 values outside [0, 120] (e.g. 150, -1)
    """

    check: str
    column: str | None
    message: str
    failing_rows: int | None = None
    examples: tuple[Any, ...] = ()

    def __str__(self) -> str:
        where = f" [{self.column}]" if self.column is not None else ""
        shown = f" (e.g. {', '.join(map(str, self.examples))})" if self.examples else ""
        return f"{self.check}{where}: {self.message}{shown}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "check": self.check,
            "column": self.column,
            "message": self.message,
            "failing_rows": self.failing_rows,
            "examples": [plain(v) for v in self.examples],
        }


@dataclass(frozen=True)
class ValidationReport:
    """Everything :func:`~mlcicd.validation.validate` found.

    Attributes
    ----------
    failures : tuple of Failure
        Every check that failed, data-set rules first, then column by column.
    n_checks : int
        How many checks ran (passed or failed).
    n_rows, n_columns : int
        Shape of the data that was validated.

    Examples
    --------
    >>> report = ValidationReport(
    ...     failures=(Failure("missing", "age", "2 missing values, none allowed", 2),),
    ...     n_checks=5, n_rows=10, n_columns=3)
    >>> report.ok
    False
    >>> report.summary()
    'validation failed: 1 of 5 checks failed on 10 rows x 3 columns'
    >>> report.raise_if_failed()
    Traceback (most recent call last):
    ...
    mlcicd.errors.CheckFailed: validation failed: 1 of 5 checks failed ...: missing [age]: ...
    """

    failures: tuple[Failure, ...] = field(default_factory=tuple)
    n_checks: int = 0
    n_rows: int = 0
    n_columns: int = 0

    @property
    def ok(self) -> bool:
        """``True`` when no check failed."""
        return not self.failures

    def summary(self) -> str:
        """One line: passed or failed, how many checks, on what shape of data."""
        shape = f"{self.n_rows} rows x {self.n_columns} columns"
        if self.ok:
            return f"validation passed: all {self.n_checks} checks passed on {shape}"
        return (f"validation failed: {len(self.failures)} of {self.n_checks} checks "
                f"failed on {shape}")

    def to_frame(self) -> pd.DataFrame:
        """One row per failure: check, column, failing_rows, message, examples."""
        columns = ["check", "column", "failing_rows", "message", "examples"]
        rows = [
            {
                "check": f.check,
                "column": f.column,
                "failing_rows": f.failing_rows,
                "message": f.message,
                "examples": ", ".join(str(plain(v)) for v in f.examples),
            }
            for f in self.failures
        ]
        frame = pd.DataFrame(rows, columns=columns)
        frame["failing_rows"] = frame["failing_rows"].astype("Int64")
        return frame

    def to_markdown(self) -> str:
        """A summary line and, when something failed, a Markdown table of the failures.

        >>> print(ValidationReport(n_checks=3, n_rows=4, n_columns=1).to_markdown())
        **Validation passed**: all 3 checks passed on 4 rows x 1 columns.
        """
        head, _, tail = self.summary().partition(":")
        lines = [f"**{head[0].upper()}{head[1:]}**:{tail}."]
        if self.failures:
            rows = [(f.check, f.column if f.column is not None else "(data set)",
                     f.failing_rows, f.message, ", ".join(f"`{plain(v)}`" for v in f.examples))
                    for f in self.failures]
            lines += ["", table(rows, ("check", "column", "failing rows", "message", "examples"),
                                align="llrll")]
        return "\n".join(lines)

    def to_table(self) -> str:
        """Plain-text rendering for a terminal."""
        if self.ok:
            return self.summary()
        frame = self.to_frame().fillna({"column": "(data set)"})
        frame["failing_rows"] = frame["failing_rows"].astype(object).where(
            frame["failing_rows"].notna(), "")
        return self.summary() + "\n\n" + frame.to_string(index=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``ok``, counts and the list of failures."""
        return {
            "ok": self.ok,
            "n_checks": self.n_checks,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "failures": [f.to_dict() for f in self.failures],
        }

    def to_json(self) -> str:
        """The report as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def plot(self, ax: Any = None) -> Any:
        """Horizontal bars: failing rows per failed check (statistics count as one).

        Returns the matplotlib ``Axes``; an empty report draws a "passed" note.
        """
        if ax is None:
            import matplotlib.pyplot as plt  # plotting is optional for library users

            _, ax = plt.subplots(figsize=(6, 0.4 * max(len(self.failures), 2) + 1))
        labels = [f"{f.column or '(data set)'}: {f.check}" for f in self.failures][::-1]
        counts = [f.failing_rows or 1 for f in self.failures][::-1]
        if labels:
            ax.barh(labels, counts, color="tab:red")
        else:
            ax.text(0.5, 0.5, "all checks passed", ha="center", va="center")
        ax.set_xlabel("failing rows")
        ax.set_title(self.summary())
        return ax

    def raise_if_failed(self) -> ValidationReport:
        """Raise :class:`~mlcicd.errors.CheckFailed` listing every failure; else return self."""
        if not self.ok:
            raise CheckFailed(self.summary() + ": " + "; ".join(map(str, self.failures)))
        return self

