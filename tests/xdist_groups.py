"""Make ``--dist loadgroup`` group again under pytest 9.

pytest-xdist 3.8 marks a test of an ``xdist_group`` by appending ``@<group>`` to
``item._nodeid`` on each worker, and its scheduler sends every id with the same suffix
to one worker. pytest 9 reads a node's id from ``item._id``, so the suffix never reaches
the scheduler: the groups are silently ignored and both workers build a group's
expensive fixture. :func:`tag_groups` copies the suffix to where pytest 9 reads it.
"""

from __future__ import annotations

from _pytest.nodeid import NodeId


def tag_groups(items) -> None:
    """Run after xdist's own collection hook (``trylast``) on each worker."""
    for item in items:
        tagged = item.__dict__.get("_nodeid")
        if isinstance(tagged, str) and tagged.startswith(f"{item.nodeid}@"):
            item._id = NodeId.parse(tagged)
