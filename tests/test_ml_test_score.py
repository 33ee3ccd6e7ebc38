"""The ML Test Score appendix is generated from book/ml_test_score.yaml: every page,
function and test it names must exist, and the count it claims must be true."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = yaml.safe_load((ROOT / "book" / "ml_test_score.yaml").read_text(encoding="utf-8"))
STATUSES = {"demonstrated", "configured", "not automated"}
SECTIONS = ("Data", "Model", "Infrastructure", "Monitoring")
GOAL = 20


def resolve(dotted: str) -> object:
    """Import the longest importable module prefix, then walk the attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(dotted)


def page_and_what_it_shows(page: Path, script: str | None) -> str:
    """The page's source, the files it includes, and the script it runs (if named)."""
    text = page.read_text(encoding="utf-8")
    included = re.findall(r"^```+\{literalinclude\}\s+(\S+)", text, re.M)
    parts = [text] + [(page.parent / f).read_text(encoding="utf-8") for f in included]
    if script:
        assert script in text, f"{page.name} does not run {script}"
        parts.append((ROOT / script).read_text(encoding="utf-8"))
    return "\n".join(parts)


def toc_files() -> set[str]:
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return set(re.findall(r"file:\s*(\S+)", text)) | {yaml.safe_load(text)["root"]}


def test_the_rubric_has_its_28_tests_seven_per_section():
    assert len(ENTRIES) == 28
    assert len({e["id"] for e in ENTRIES}) == 28
    for section in SECTIONS:
        assert sum(e["section"] == section for e in ENTRIES) == 7, section
    assert {e["status"] for e in ENTRIES} <= STATUSES


def test_at_least_the_goal_is_demonstrated_by_executed_code():
    assert sum(e["status"] == "demonstrated" for e in ENTRIES) >= GOAL


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["status"] != "demonstrated"],
                         ids=lambda e: e["id"])
def test_what_is_not_demonstrated_says_why(entry):
    assert len(entry.get("why", "").split()) >= 10, entry["id"]


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["status"] == "demonstrated"],
                         ids=lambda e: e["id"])
def test_a_demonstrated_test_names_a_real_page_functions_and_tests(entry):
    page = ROOT / f"{entry['page']}.md"
    assert page.is_file(), entry["page"]
    assert entry["page"] in toc_files(), f"{entry['page']} is not in _toc.yml"
    assert entry["functions"] and entry["tests"]
    text = page_and_what_it_shows(page, entry.get("shown_by"))
    shown = [f for f in entry["functions"]
             if f.rsplit(".", 1)[-1] in text or f.rsplit(".", 1)[-1].replace("_", "-") in text]
    if "cli" in entry:
        pattern = rf"(mlcicd|\$MLCICD\"?)\s+{re.escape(entry['cli'])}\b"
        shown += re.findall(pattern, text)
    assert shown, f"{entry['page']} shows none of {entry['functions']}"


@pytest.mark.parametrize("function", sorted({f for e in ENTRIES for f in e.get("functions", [])}))
def test_every_listed_function_exists(function):
    assert callable(resolve(function)), function


@pytest.mark.parametrize("test", sorted({t for e in ENTRIES for t in e.get("tests", [])}))
def test_every_listed_test_exists(test):
    path, _, name = test.partition("::")
    source = (ROOT / path).read_text(encoding="utf-8")
    if name:
        assert re.search(rf"^def {re.escape(name)}\(", source, re.M), test
    else:
        assert ">>> " in source, f"{path} has no doctests"
