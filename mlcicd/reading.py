"""How long the book takes to read, counted from its pages rather than guessed.

A page is MyST Markdown: prose, code cells, and files shown with ``literalinclude``.
:func:`page_size` counts the words of prose a reader sees and the lines of code they
read (code cells not hidden by a ``remove-cell``/``remove-input`` tag, fenced code
blocks, and the included lines of files); :func:`reading_minutes` turns the totals into
minutes with two stated speeds. Diagrams (``mermaid``) and the page header are skipped.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

from mlcicd.errors import InputError

__all__ = ["PageSize", "page_size", "reading_minutes", "WORDS_PER_MINUTE", "CODE_LINES_PER_MINUTE"]

#: Careful reading of technical prose (people read light prose at 230-300 words a minute).
WORDS_PER_MINUTE = 200
#: Code is read line by line, with the output next to it: about six seconds a line.
CODE_LINES_PER_MINUTE = 10

_FENCE = re.compile(r"^(`{3,}|:{3,})\s*(\{[^}]*\}|\S*)\s*(.*)$")
_HEADER = re.compile(r"\A---\n.*?\n---\n", re.S)
_OPTION = re.compile(r"^:(\w[\w-]*):\s*(.*)$")
_HIDDEN_TAGS = ("remove-cell", "remove-input")


@dataclass(frozen=True)
class PageSize:
    """Words of visible prose and lines of visible code on one page."""

    words: int
    code_lines: int

    def __add__(self, other: PageSize) -> PageSize:
        return PageSize(self.words + other.words, self.code_lines + other.code_lines)


def reading_minutes(size: PageSize, *, words_per_minute: float = WORDS_PER_MINUTE,
                    code_lines_per_minute: float = CODE_LINES_PER_MINUTE) -> float:
    """Minutes to read ``size`` at the given speeds.

    >>> reading_minutes(PageSize(words=2000, code_lines=50))
    15.0
    """
    if words_per_minute <= 0 or code_lines_per_minute <= 0:
        raise InputError("reading speeds must be positive")
    return size.words / words_per_minute + size.code_lines / code_lines_per_minute


def page_size(path: str | os.PathLike[str]) -> PageSize:
    """Count the prose words and code lines a reader of one MyST page goes through.

    >>> import tempfile
    >>> page = Path(tempfile.mkdtemp()) / "p.md"
    >>> _ = page.write_text("---\\na: 1\\n---\\n# Title\\nTwo words.\\n"
    ...                     "```{code-cell} ipython3\\nx = 1\\nprint(x)\\n```\\n"
    ...                     "```{code-cell} ipython3\\n:tags: [remove-cell]\\nhidden()\\n```\\n")
    >>> page_size(page)
    PageSize(words=3, code_lines=2)
    """
    page = Path(path)
    try:
        text = page.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{page}: cannot read ({exc.strerror})") from None
    lines = _HEADER.sub("", text).splitlines()
    words = code = 0
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            words += _prose_words(lines[i])
            i += 1
            continue
        fence, kind, argument = match.groups()
        end = _closing(lines, i + 1, fence)
        body = lines[i + 1:end]
        options = dict(m.groups() for m in map(_OPTION.match, body) if m)
        content = [ln for ln in body if not _OPTION.match(ln)]
        if kind == "{literalinclude}":
            code += _included_lines(page.parent / argument, options)
        elif kind == "{code-cell}":
            if not any(tag in options.get("tags", "") for tag in _HIDDEN_TAGS):
                code += sum(1 for ln in content if ln.strip())
        elif kind in {"{mermaid}", "{nb-exec-table}"}:
            pass
        elif kind.startswith("{") or fence.startswith(":"):
            # Admonitions, exercises, solutions: prose inside, read as prose.
            if kind in {"{admonition}", "{exercise}"}:
                words += _prose_words(argument)
            lines[i:end + 1] = content
            continue
        else:
            code += sum(1 for ln in content if ln.strip())
        i = end + 1
    return PageSize(words=words, code_lines=code)


def _closing(lines: list[str], start: int, fence: str) -> int:
    for j in range(start, len(lines)):
        if lines[j].strip() == fence:
            return j
    return len(lines)


def _prose_words(line: str) -> int:
    if line.startswith(("(", "%")) and line.rstrip().endswith((")=", ")")) and " " not in line:
        return 0  # a label such as (sec-testing)=
    return len(re.findall(r"\w[\w'.,%-]*", re.sub(r"\{[\w:-]+\}`([^`]*)`", r"\1", line)))


def _included_lines(path: Path, options: dict[str, str]) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    if "pyobject" in options:
        tree = ast.parse("\n".join(lines))
        for node in ast.walk(tree):
            if getattr(node, "name", None) == options["pyobject"]:
                lines = lines[node.lineno - 1:node.end_lineno]
                break
    if "lines" in options:
        first, _, last = options["lines"].partition("-")
        lines = lines[int(first) - 1:int(last or first)]
    start = options.get("start-at", "").strip('"').replace('\\"', '"')
    end = options.get("end-before", "").strip('"').replace('\\"', '"')
    if start:
        lines = lines[next((k for k, ln in enumerate(lines) if start in ln), 0):]
    if end:
        lines = lines[:next((k for k, ln in enumerate(lines) if end in ln), len(lines))]
    return sum(1 for ln in lines if ln.strip())
