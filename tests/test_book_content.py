"""The book's sources and its built HTML, checked without a browser.

The source checks run anywhere (they are part of ``make test-fast``); the checks of
``_build/html`` are marked ``book`` and read what ``make book`` produced, never
building it themselves.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
# Another build can be tested in place of _build/html (a book built with --path-output).
HTML = Path(os.environ.get("MLCICD_BOOK_HTML", ROOT / "_build" / "html"))
JUPYTEXT_HEADER = re.compile(r"\A---\njupytext:\n.*?\nkernelspec:\n.*?\n---\n", re.S)


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return files


def book_pages() -> list[Path]:
    return sorted(BOOK.glob("*.md"))


def require_built_book() -> None:
    if not (HTML / "index.html").is_file():
        pytest.fail("the built book is missing: run `make book` first", pytrace=False)


# -- sources -----------------------------------------------------------------------------


def test_every_chapter_page_is_in_the_table_of_contents():
    listed = set(toc_files())
    missing = [p.relative_to(ROOT).with_suffix("").as_posix() for p in book_pages()
               if p.relative_to(ROOT).with_suffix("").as_posix() not in listed]
    assert missing == []


def test_every_entry_of_the_table_of_contents_exists():
    absent = [f for f in toc_files()
              if not any((ROOT / f).with_suffix(s).is_file() for s in (".md", ".ipynb"))]
    assert absent == []


@pytest.mark.parametrize("page", book_pages(), ids=lambda p: p.name)
def test_page_is_a_myst_notebook_with_a_jupytext_header(page):
    assert JUPYTEXT_HEADER.match(page.read_text(encoding="utf-8")), page.name


@pytest.mark.parametrize("page", book_pages(), ids=lambda p: p.name)
def test_page_has_no_hand_written_output(page):
    text = page.read_text(encoding="utf-8")
    # Outputs come from execution; a heading or a fenced block called "output" is a copy.
    assert not re.search(r"^#+ .*\boutput\b", text, re.I | re.M), page.name
    assert not re.search(r"^```+\s*\{?(output|text-output)\b", text, re.I | re.M), page.name


@pytest.mark.parametrize("page", book_pages(), ids=lambda p: p.name)
def test_included_files_exist(page):
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"^```+\{literalinclude\}\s+(\S+)", text, re.M):
        assert (page.parent / target).resolve().is_file(), f"{page.name}: {target}"


def test_vendored_scripts_carry_their_licences():
    static = BOOK / "_static"
    assert (static / "mermaid" / "mermaid.min.js").stat().st_size > 1_000_000
    assert "MIT" in (static / "mermaid" / "LICENSE").read_text(encoding="utf-8")
    assert (static / "mathjax" / "tex-svg.js").stat().st_size > 1_000_000
    assert "Apache" in (static / "mathjax" / "LICENSE").read_text(encoding="utf-8")


# -- the built HTML ----------------------------------------------------------------------


class _Assets(HTMLParser):
    """Collects every URL a page loads by itself (scripts, styles, images, frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in {"script", "img", "iframe", "source", "video", "audio"}:
            self.urls.append(attributes.get("src") or "")
        elif tag == "link" and (attributes.get("rel") or "") in {
            "stylesheet", "preload", "icon", "modulepreload",
        }:
            self.urls.append(attributes.get("href") or "")


@pytest.mark.book
@pytest.mark.parametrize("doc", toc_files())
def test_built_page_loads_nothing_from_outside_the_site(doc):
    require_built_book()
    page = HTML / f"{Path(doc).with_suffix('').as_posix()}.html"
    assert page.is_file(), f"{page} was not built"
    assets = _Assets()
    assets.feed(page.read_text(encoding="utf-8"))
    outside = [u for u in assets.urls if re.match(r"^(https?:)?//", u)]
    assert outside == []


@pytest.mark.book
def test_execution_table_lists_every_executed_chapter_page():
    require_built_book()
    table = (HTML / "book" / "execution-times.html").read_text(encoding="utf-8")
    for page in book_pages():
        if "{code-cell}" in page.read_text(encoding="utf-8"):
            assert f"book/{page.stem}" in table, page.name


@pytest.mark.book
def test_every_glued_number_was_filled_in():
    require_built_book()
    for page in book_pages():
        html = (HTML / "book" / f"{page.stem}.html").read_text(encoding="utf-8")
        assert "{glue:" not in html, page.name


# -- the CLI transcripts of the end-to-end page -------------------------------------------


@pytest.mark.parametrize("command", ["--version", "validate absent.csv --schema absent.yaml"])
def test_in_process_cli_transcript_matches_the_mlcicd_script(command, tmp_path, capsys):
    # The end-to-end page runs its commands in-process to build faster; a reader must
    # see what the `mlcicd` script prints, exit code included (bad input: 2, one line).
    from mlcicd.testing import CliTranscript

    transcripts = []
    for in_process in (False, True):
        cli = CliTranscript(tmp_path, in_process=in_process)
        cli(command)
        transcripts.append((cli.exit_codes, capsys.readouterr().out))

    assert transcripts[0] == transcripts[1]
    assert transcripts[1][0] == [0 if command == "--version" else 2]
    assert "Traceback" not in transcripts[1][1]
