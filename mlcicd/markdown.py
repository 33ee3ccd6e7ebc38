"""Markdown tables for reports (pull-request comments, job summaries, the book).

Every report of the library writes its table through :func:`table`, so every cell is
escaped the same way: a ``|`` inside a cell would otherwise open a new column, and a
newline would end the row, turning a feature called ``a|b`` or a multi-line error
message into a broken table in the pull request.

>>> print(table([["a|b", 0.5]], headers=["feature", "p"], align="lr"))
| feature | p |
|---|---:|
| a\\|b | 0.5 |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["cell", "table"]

_RULES = {"l": "---", "r": "---:", "c": ":---:"}


def cell(value: Any) -> str:
    """One cell's text: ``|`` escaped, line breaks turned into spaces, ``None`` empty.

    >>> cell("two\\nlines | here")
    'two lines \\\\| here'
    """
    if value is None:
        return ""
    return " ".join(str(value).replace("|", "\\|").splitlines())


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str], align: str = "") -> str:
    """A Markdown table of ``rows`` under ``headers``.

    Parameters
    ----------
    rows : iterable of sequences
        One sequence of cell values per row, as many as ``headers``; values are turned
        into text with ``str`` (format numbers before passing them).
    headers : sequence of str
        Column titles.
    align : str
        One letter per column, ``l`` (left, the default), ``r`` (right, for numbers) or
        ``c`` (centre); shorter strings are padded with ``l``.

    Raises
    ------
    ValueError
        If a row does not have one value per header, or ``align`` has an unknown letter:
        a mistake of the code calling this, never of the user.
    """
    width = len(headers)
    letters = align.ljust(width, "l")
    if len(letters) != width or set(letters) - set(_RULES):
        raise ValueError(f"table: align must be {width} letters from 'lrc', got {align!r}")
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join(_RULES[letter] for letter in letters) + "|"]
    for row in rows:
        if len(row) != width:
            raise ValueError(f"table: a row has {len(row)} cells for {width} headers")
        lines.append("| " + " | ".join(cell(value) for value in row) + " |")
    return "\n".join(lines)
