"""Skipping an optional import that costs every notebook tool a second of CPU.

jsonschema imports ``rfc3987_syntax`` whenever it is installed (here it is: JupyterLab,
for ``make lab``, pulls it in through jupyter-events and jsonschema's ``format-nongpl``
extra). That import compiles some thirty Earley grammars for the "iri" string formats:
about 1.3 s of CPU in every process that imports nbformat, papermill, nbval or
jupyter-book, and ``make test`` starts dozens of them. No schema this project validates
uses an "iri" format (notebooks, jupyter-book's configuration, GitHub workflows and
actions). Marked absent before jsonschema is imported, jsonschema simply has no "iri"
format checker; every other format and every validation is unchanged.

Called first by ``make book`` (the jupyter-book process), the tests' early pytest plugin
(``tests/lean_startup.py``), the nbval run of the lab tests and the workers of
:func:`mlcicd.labs.runner.run_all`. It changes nothing in a process that has already
imported the module.
"""

from __future__ import annotations

import sys

#: Optional modules that no tool of the project needs, and that cost CPU to import.
UNUSED_OPTIONAL = ("rfc3987_syntax",)


def skip_unused_optional_imports() -> None:
    """Mark :data:`UNUSED_OPTIONAL` absent in this process, unless already imported.

    >>> skip_unused_optional_imports()
    >>> import jsonschema
    >>> jsonschema.validate({"a": 1}, {"properties": {"a": {"type": "integer"}}})
    """
    for name in UNUSED_OPTIONAL:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
