"""What executing the book's pages costs, checked from the sources (no build).

The book is built next to the other tests on a two-core machine, so CPU a page spends on
something it does not show is paid by the whole of ``make test``: a kernel started for
a page with no code, or a heavy import made only to glue a number.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md"))


def execution_excluded() -> list[str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["execute"]["exclude_patterns"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_without_code_cells_starts_no_kernel(page):
    has_code = "{code-cell}" in page.read_text(encoding="utf-8")
    excluded = any(fnmatch.fnmatch(page.relative_to(ROOT).as_posix(), pattern)
                   for pattern in execution_excluded())
    assert excluded != has_code, (
        f"{page.name}: {'has code cells but is' if has_code else 'has no code cells and is not'}"
        " in execute.exclude_patterns of _config.yml")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_glue_through_mlcicd_glue(page):
    # mlcicd.glue hands over myst_nb.glue after skipping an optional import that costs
    # ~1.3 s of CPU per page (tests/test_glue.py); importing myst_nb first would pay it.
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from myst_nb\b|import myst_nb\b)", text, re.M), page.name
