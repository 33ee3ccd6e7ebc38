"""Exceptions whose message is meant for a person.

The CLI turns an :class:`InputError` into one line on stderr and exit code 2, so any
problem with what the user gave us (a file, a parameter, a schema) should raise one
with a message that names the thing that is wrong.
"""

from __future__ import annotations

#: Exit codes of every ``mlcicd`` command (and of ``ci/*.sh``): success, a check said
#: no (:class:`CheckFailed`, a gate, drift, a regression), bad usage or input
#: (:class:`InputError`: nothing was changed).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class MlcicdError(Exception):
    """Base class of every error this library raises on purpose."""


class InputError(MlcicdError, ValueError):
    """Bad input or usage: a malformed file, a missing column, a wrong parameter.

    Subclasses ``ValueError`` so that library users who catch ``ValueError`` keep working.
    """


class ArtifactError(InputError):
    """A model artifact is missing, tampered with, truncated or of an unexpected type."""


class CheckFailed(MlcicdError):
    """A check ran and said no (validation, gate, drift). The CLI exits with code 1."""
