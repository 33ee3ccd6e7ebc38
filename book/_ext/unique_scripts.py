"""Sphinx extension: include each script once per page.

Under Jupyter Book 1 with Sphinx 7.4, sphinx-thebe and sphinx-togglebutton register
their inline configuration scripts twice. The second copy of
``const THEBE_JS_URL = ...`` then throws "Identifier has already been declared" in
the browser. This hook drops exact duplicates from each page's script list,
keeping the first occurrence and the order.
"""

from __future__ import annotations

from typing import Any


def _drop_duplicate_scripts(app, pagename, templatename, context: dict[str, Any], doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        # The same inline script can arrive with filename None or "": treat both alike.
        key = (getattr(script, "filename", None) or "", tuple(sorted(attributes.items())))
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def setup(app):
    # Run after every other html-page-context handler that may add scripts.
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
