"""The first plugin every pytest process of this project loads (``-p lean_startup``).

It runs before the plugins that installed packages register: nbval's imports nbformat,
which imports jsonschema, which would import an optional module that costs about 1.1
CPU-s in every pytest process (the xdist controller and each worker) before a single
test runs: see :mod:`mlcicd.lean_imports`, which the book build, the papermill workers
and the nbval subprocess call too.

Loaded from ``addopts`` through the ``pythonpath`` setting (both in pyproject.toml),
which pytest applies before it loads any ``-p`` plugin. A process that imported
jsonschema already keeps it as it is.
"""

from __future__ import annotations

from mlcicd.lean_imports import skip_unused_optional_imports

skip_unused_optional_imports()
