"""The built book, opened in a real browser (Debian's chromium, driven by playwright).

These tests read the book that ``make book`` (or ``make test``, which builds it
first) left in ``_build/html``; they never build it themselves. Each page is read
twice, as a reader gets it: served on a loopback port, and opened straight from disk
(``file://``, what ``make book`` tells a newcomer to open). Every request the browser
makes is recorded, so a page that needs the internet, a missing file or a JavaScript
error fails here.

One Chromium serves a whole worker, and each (scheme, page) pair is loaded once: the
visit records everything the page checks need (requests, console, images, tables,
diagrams, formulas) and every test reads that record. The tests of one scheme share
an xdist group, so with ``-n 2`` the two schemes load side by side, each page once.
Every visit of a worker navigates one reused tab: a new tab costs Chromium a new
renderer process, about 1 s of CPU a page (these tests took 93 CPU-s with a tab per
load, 47 with one). The browser still reports every request of each load, cached or
not: each page's list of requests is the same as in a fresh tab.

Without chromium these tests are skipped with one line that says how to install it
(``MLCICD_REQUIRE_SYSTEM_TOOLS=1``, set by CI, turns that skip into a failure).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from system_tools import skip_module_without

pytestmark = pytest.mark.book
skip_module_without(
    ("chromium", "chromium-browser"), "apt-get install chromium", "the book in a browser"
)

ROOT = Path(__file__).resolve().parents[1]
# Another build can be tested in place of _build/html (a book built with --path-output).
HTML = Path(os.environ.get("MLCICD_BOOK_HTML", ROOT / "_build" / "html"))
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCHEMES = ["http", "file"]

# Console errors we accept, each with the reason it is harmless. A failed
# resource load ("Failed to load resource") is never on this list.
CONSOLE_ALLOW_LIST: dict[str, str] = {}


def toc_pages() -> list[str]:
    """Every document of ``_toc.yml``, root first, as paths without a suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                pages.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return [str(Path(page).with_suffix("")) for page in pages]


@dataclass
class PageVisit:
    """What the browser saw while loading one page."""

    status: int | None = None
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    bad_status: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    # Filled in once the page has settled (diagrams drawn, formulas typeset):
    error: str | None = None  # the visit itself failed (timeout, navigation error)
    broken_images: list[str] = field(default_factory=list)
    cut_off_tables: list[str] = field(default_factory=list)
    diagrams: list[dict] = field(default_factory=list)  # per mermaid block: svgs, nodes, width
    formulas: int = 0  # typeset formulas (MathJax SVGs)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def require_built_book() -> None:
    if not (HTML / "index.html").is_file():
        pytest.fail(
            f"the built book is missing ({HTML / 'index.html'}): run `make book` first "
            "(`make test` builds it before running the tests)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """Serve ``_build/html`` on 127.0.0.1 with an ephemeral port."""
    require_built_book()
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def site_of(request):
    """``site_of(scheme)``: the book's root URL, over HTTP or the folder on disk."""

    def root(scheme: str) -> str:
        require_built_book()
        if scheme == "file":
            return HTML.as_uri()
        return request.getfixturevalue("server")

    return root


@pytest.fixture(scope="session")
def browser(chromium):
    """Debian's chromium (found on PATH), never a browser downloaded by playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Tab:
    """The worker's one tab, navigated from page to page (see the module docstring).

    Between two tests it rests on ``about:blank``, so what the previous page does while
    it unloads reaches no visit. A tab that crashed or timed out is replaced by a new one.
    """

    def __init__(self, context) -> None:
        self.context = context
        self.page = context.new_page()

    def rest(self, failed: bool = False) -> None:
        if not failed and not self.page.is_closed():
            try:
                self.page.goto("about:blank")
                return
            except Exception:  # a crashed renderer: start over in a new tab
                pass
        if not self.page.is_closed():
            self.page.close()
        self.page = self.context.new_page()


@pytest.fixture(scope="session")
def tab(browser) -> Iterator[Tab]:
    """One browser context and one tab per worker."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    yield Tab(context)
    context.close()


@pytest.fixture
def page(tab):
    """The worker's tab, for one test; left on ``about:blank`` (or replaced) after it."""
    failed = True
    try:
        yield tab.page
        failed = False
    finally:
        tab.rest(failed)


def visit(page, url: str) -> PageVisit:
    """Load ``url``, wait until diagrams and formulas are drawn, record what happened."""
    seen = PageVisit()
    recorders = {
        "request": lambda request: seen.requests.append(request.url),
        "requestfailed": lambda request: seen.failed.append(request.url),
        "response": lambda response: seen.bad_status.append(
            f"{response.status} {response.url}"
        ) if response.status >= 400 else None,
        "console": lambda message: seen.console_errors.append(message.text)
        if message.type == "error" else None,
        "pageerror": lambda error: seen.page_errors.append(str(error)),
    }
    for event, recorder in recorders.items():
        page.on(event, recorder)
    try:
        response = page.goto(url, wait_until="load")
        seen.status = response.status if response else None
        wait_for_diagrams(page)
        wait_for_formulas(page)
        page.wait_for_load_state("networkidle")
    finally:
        # The tab lives on: the next page's events must not land in this record.
        for event, recorder in recorders.items():
            page.remove_listener(event, recorder)
    return seen


def wait_for_diagrams(page) -> None:
    """Mermaid draws after the load event; wait until every block holds an SVG."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('pre.mermaid, div.mermaid')]"
        ".every(el => el.querySelector('svg') !== null)"
    )


def wait_for_formulas(page) -> None:
    """MathJax typesets after the load event; wait until every formula holds an SVG."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.math')]"
        ".every(el => el.querySelector('mjx-container svg') !== null)"
    )


DIAGRAMS = """() => [...document.querySelectorAll('pre.mermaid')].map(block => {
  const svg = block.querySelectorAll('svg');
  return {svgs: svg.length, nodes: svg.length ? svg[0].querySelectorAll('.node').length : 0,
          width: svg.length ? svg[0].getBoundingClientRect().width : 0};
})"""

BROKEN_IMAGES = (
    "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
    ".map(i => i.getAttribute('src'))"
)


def is_local(url: str, site: str) -> bool:
    """Whether the browser fetched ``url`` from the book itself (server or folder)."""
    if url.startswith(("data:", "blob:", "about:")):
        return True
    if site.startswith("file:"):
        return url.startswith(f"{site}/")
    return urlsplit(url).netloc == urlsplit(site).netloc


def served(path: str, requests: list[str]) -> bool:
    """Whether one of ``requests`` fetched the book's file ``path`` (any scheme)."""
    return any(urlsplit(url).path.endswith(f"/{path}") for url in requests)


# Every table of the article whose right edge passes the text column's without a box
# that scrolls sideways around it: the columns past the edge are cut off, out of reach.
CUT_OFF_TABLES = """() => {
  const column = document.querySelector('article.bd-article') || document.body;
  const edge = column.getBoundingClientRect().right + 1;
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const cut = [];
  for (const table of column.querySelectorAll('table')) {
    let box = table;
    for (let el = table.parentElement; el && el !== column; el = el.parentElement) {
      if (scrolls(el)) { box = el; break; }
    }
    if (box.getBoundingClientRect().right > edge) {
      const head = [...table.querySelectorAll('th')].map(th => th.textContent.trim());
      cut.push(head.slice(0, 4).join(' | ') || table.className);
    }
  }
  return cut;
}"""


PAGES = toc_pages()
_VISITS: dict[str, PageVisit] = {}


@pytest.fixture
def visited(tab):
    """``visited(site, doc)``: the record of ``doc`` loaded from ``site``, loaded once."""

    def load(site: str, doc: str) -> PageVisit:
        url = f"{site}/{doc}.html"
        if url not in _VISITS:
            failed = True
            try:
                seen = visit(tab.page, url)
                seen.broken_images = tab.page.evaluate(BROKEN_IMAGES)
                seen.cut_off_tables = tab.page.evaluate(CUT_OFF_TABLES)
                seen.diagrams = tab.page.evaluate(DIAGRAMS)
                seen.formulas = tab.page.locator("mjx-container svg").count()
                failed = False
            except Exception as exc:  # a timeout or a crash fails every test of this page
                seen = PageVisit(error=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
            finally:
                tab.rest(failed)
            _VISITS[url] = seen
        seen = _VISITS[url]
        assert seen.error is None, f"{doc}: the page did not load: {seen.error}"
        return seen

    return load


def by_scheme(params: list) -> list:
    """Each (scheme, ...) case in its scheme's xdist group, so it reuses that worker's visits."""
    return [pytest.param(*case, marks=pytest.mark.xdist_group(f"browser-{case[0]}"))
            for case in params]


@pytest.mark.parametrize("scheme, doc", by_scheme([(s, d) for s in SCHEMES for d in PAGES]))
def test_every_page_loads_cleanly_and_offline(visited, site_of, scheme, doc):
    site = site_of(scheme)
    seen = visited(site, doc)

    if site.startswith("http"):
        assert seen.status == 200, f"{doc}: HTTP {seen.status}"
    assert seen.failed == [], f"{doc}: requests failed: {seen.failed}"
    assert seen.bad_status == [], f"{doc}: missing resources: {seen.bad_status}"
    outside = [url for url in seen.requests if not is_local(url, site)]
    assert outside == [], f"{doc}: requests left the book: {outside}"
    errors = [
        text
        for text in seen.console_errors
        if not any(allowed in text for allowed in CONSOLE_ALLOW_LIST)
    ]
    assert errors == [], f"{doc}: console errors: {errors}"
    assert seen.page_errors == [], f"{doc}: uncaught exceptions: {seen.page_errors}"
    assert seen.broken_images == [], f"{doc}: images that did not load: {seen.broken_images}"
    assert seen.cut_off_tables == [], f"{doc}: tables cut off at the column edge"


@pytest.mark.parametrize(
    "scheme, doc, diagrams, min_nodes",
    by_scheme([
        (scheme, doc, diagrams, min_nodes)
        for scheme in SCHEMES
        for doc, diagrams, min_nodes in [
            ("book/why-ml-is-different", 1, 9), ("book/deployment", 2, 6),
            ("book/github-actions", 1, 5),
        ]
    ]),
)
def test_diagrams_are_drawn_from_the_local_copy_of_mermaid(
    visited, site_of, scheme, doc, diagrams, min_nodes
):
    site = site_of(scheme)
    seen = visited(site, doc)

    assert len(seen.diagrams) == diagrams
    for i, drawn in enumerate(seen.diagrams):
        assert drawn["svgs"] == 1, f"{doc}: diagram {i} was not drawn"
        assert drawn["nodes"] >= min_nodes
        assert drawn["width"] > 300
    assert served("_static/mermaid/mermaid.min.js", seen.requests)
    assert all(is_local(url, site) for url in seen.requests)


@pytest.mark.parametrize("scheme", by_scheme([(s,) for s in SCHEMES]))
def test_formulas_are_typeset_by_the_local_copy_of_mathjax(visited, site_of, scheme):
    site = site_of(scheme)
    seen = visited(site, "book/monitoring")

    assert seen.formulas >= 1
    assert served("_static/mathjax/tex-svg.js", seen.requests)
    assert all(is_local(url, site) for url in seen.requests)


@pytest.mark.xdist_group("browser-http")
def test_search_finds_the_canary_release(page, server):
    visit(page, f"{server}/search.html?q=canary")

    results = page.locator("#search-results ul.search li")
    results.first.wait_for()
    assert results.count() >= 1
    assert "deployment" in " ".join(
        results.nth(i).locator("a").first.get_attribute("href") for i in range(results.count())
    )


@pytest.mark.xdist_group("browser-file")
def test_opening_a_solution_dropdown_reveals_the_solution(page):
    require_built_book()
    visit(page, f"{HTML.as_uri()}/book/exercises.html")

    solution = page.locator(".solution.dropdown").first
    body = solution.locator("section, p").last
    assert not body.is_visible(), "a solution is visible before the reader opens it"
    solution.locator("button.toggle-button").click()
    body.wait_for(state="visible")
    assert body.is_visible()


@pytest.mark.parametrize(
    "doc",
    [pytest.param(doc, marks=pytest.mark.xdist_group(group))
     for doc, group in [("book/intro", "browser-http"), ("book/deployment", "browser-file")]],
)
def test_screenshot_of_the_page_is_saved(page, site_of, doc):
    site = site_of("http" if doc == "book/intro" else "file")
    visit(page, f"{site}/{doc}.html")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{Path(doc).name}.png"

    page.screenshot(path=str(target), full_page=True)

    assert target.stat().st_size > 10_000
