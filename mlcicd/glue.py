"""Gluing a value into a book page, for ``{glue:text}`` roles in its prose.

Every number the book's prose shows is computed by the page and *glued*: the kernel
publishes the value's display formats with a ``scrapbook`` marker in the metadata, and
myst-nb pastes them where the prose names them. ``myst_nb.glue`` does exactly that, but
its first call imports nbformat, jsonschema and docutils to reach a four-line function:
about 1.3 s of CPU in every page's kernel, paid again on each of the book's pages, for
modules the kernel never uses. This module publishes the same record with what a kernel
has already loaded (IPython). tests/test_glue.py holds the two to the same output.
"""

from __future__ import annotations

from typing import Any

#: Prefix of every MIME type of a record glued with ``display=False``: myst-nb pastes
#: such outputs into the prose but does not show them in the cell's output.
HIDDEN_PREFIX = "application/papermill.record/"


def glue_record(name: str, variable: Any, display: bool = True) -> tuple[dict, dict]:
    """The data and metadata that :func:`glue` publishes for ``variable``.

    Parameters
    ----------
    name : str
        The key that the prose pastes (``{glue:text}`name```); unique within a page.
    variable : object
        Any value; what is stored is its display formats (text, HTML, PNG, ...), as a
        notebook would show them, not the object.
    display : bool
        Whether the cell's output shows the value too.

    Returns
    -------
    tuple of dict
        ``(data, metadata)``: the MIME bundle, prefixed when hidden, and its metadata with
        the ``scrapbook`` marker that myst-nb looks for.
    """
    from IPython.core.formatters import format_display_data

    bundle, metadata = format_display_data(variable)
    prefix = "" if display else HIDDEN_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    return {prefix + mime: value for mime, value in bundle.items()}, metadata


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Publish ``variable`` under ``name`` for the page's prose (as ``myst_nb.glue``).

    Parameters
    ----------
    name, variable, display
        As in :func:`glue_record`.
    """
    from IPython.display import display as publish

    data, metadata = glue_record(name, variable, display)
    publish(data, raw=True, metadata=metadata)
