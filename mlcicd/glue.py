"""myst-nb's ``glue``, for the book's pages, without the import that made it cost 1.3 s.

Every number in the book's prose is computed by its page and glued with ``myst_nb.glue``.
Its first call imports nbformat, whose jsonschema imports an optional grammar package that
no page needs (see :mod:`mlcicd.lean_imports`): about 1.3 s of CPU in each page's kernel,
nearly all of the cost. Importing ``glue`` from here skips that package first and hands
over myst-nb's own function (0.03 s), so the records are myst-nb's by construction.
"""

from __future__ import annotations

from mlcicd.lean_imports import skip_unused_optional_imports

skip_unused_optional_imports()

from myst_nb import glue  # noqa: E402  (after the skip, which must come first)

__all__ = ["glue"]
