"""Subcommands of the ``mlcicd`` CLI, one module per group; see :mod:`mlcicd.cli`."""
