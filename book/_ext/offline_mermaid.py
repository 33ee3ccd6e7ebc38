"""Sphinx extension: mermaid diagrams that draw from disk (file://) as well as over HTTP.

sphinxcontrib-mermaid puts an inline ``<script type="module">`` on each page with a
diagram, and that module *imports* mermaid. A browser refuses every module import from
a page opened with ``file://`` (the page has no origin, so the import fails the CORS
check), and the diagrams stay raw text. Inline modules themselves still run.

So on each such page this hook loads the vendored UMD build of mermaid as a classic
deferred script (classic scripts load from disk) and rewrites the module's import into
a read of the global it defines. Deferred classic scripts and module scripts run in
document order after parsing, and the classic script is placed first, so the global is
there when the module runs. If a new sphinxcontrib-mermaid writes its import in another
form, the build fails here instead of shipping a book whose diagrams do not draw.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.builders.html._assets import _JavaScript
from sphinx.errors import ExtensionError

IMPORT = re.compile(r"^import mermaid from [^;\n]+;", flags=re.MULTILINE)


def _load_mermaid_classically(app, pagename, templatename, context: dict[str, Any], doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    for index, script in enumerate(scripts):
        body = script.attributes.get("body", "") if isinstance(script, _JavaScript) else ""
        if script.filename or "mermaid.initialize" not in body:
            continue
        module, count = IMPORT.subn("const mermaid = window.mermaid;", body)
        if count != 1:
            raise ExtensionError(
                f"offline_mermaid: no single 'import mermaid from ...' in the script of "
                f"{pagename}; sphinxcontrib-mermaid changed, update book/_ext/offline_mermaid.py"
            )
        attributes = {**script.attributes, "body": module}
        scripts[index] = _JavaScript(None, priority=script.priority, **attributes)
        scripts.insert(
            index,
            _JavaScript(
                f"_static/{app.config.mermaid_use_local}", priority=script.priority, defer="defer"
            ),
        )
        return


def setup(app):
    # After sphinxcontrib-mermaid's own html-page-context handler (priority 500).
    app.connect("html-page-context", _load_mermaid_classically, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
