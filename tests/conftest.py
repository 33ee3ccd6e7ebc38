"""Shared pytest settings.

Hypothesis runs derandomized: the same examples on every run, so a CI result does not
depend on luck. Explore more locally with ``--hypothesis-profile=explore``.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=500, database=None, print_blob=True)
settings.load_profile("deterministic")
