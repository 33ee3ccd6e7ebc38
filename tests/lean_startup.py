"""The first plugin every pytest process of this project loads (``-p lean_startup``).

It runs before the plugins that installed packages register: nbval's imports nbformat,
which imports jsonschema, which imports the optional ``rfc3987_syntax`` if it is
installed (jupyter-events pulls it in). That package compiles some thirty Earley
grammars for the "iri" string formats while it is imported: about 1.1 CPU-s in every
pytest process (the xdist controller and each worker), before a single test runs.

No schema this project validates uses an "iri" format (notebooks, GitHub workflows and
actions). Marked absent, jsonschema imports as before without an "iri" format checker;
every other format and every validation is unchanged. The same mark is set for papermill
workers (``mlcicd.labs.runner``) and the nbval subprocess (``tests/test_labs_nbval.py``).

Loaded from ``addopts`` through the ``pythonpath`` setting (both in pyproject.toml),
which pytest applies before it loads any ``-p`` plugin. A process that imported
jsonschema already keeps it as it is.
"""

from __future__ import annotations

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
