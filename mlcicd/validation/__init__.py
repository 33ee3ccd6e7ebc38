"""Data validation driven by a schema, reporting every failure at once.

>>> import pandas as pd
>>> from mlcicd.validation import ColumnSchema, Schema, validate
>>> schema = Schema(columns=(ColumnSchema("income", dtype="float", min=0),))
>>> validate(pd.DataFrame({"income": [1200.0, -5.0]}), schema).ok
False

* :mod:`~mlcicd.validation.schema`: :class:`ColumnSchema`, :class:`Schema` (YAML in and out).
* :mod:`~mlcicd.validation.infer`: :func:`infer_schema` drafts a schema from reference data.
* :mod:`~mlcicd.validation.checks`: :func:`validate` runs every rule.
* :mod:`~mlcicd.validation.report`: :class:`Failure`, :class:`ValidationReport`.
"""

from mlcicd.validation.checks import validate
from mlcicd.validation.infer import infer_schema
from mlcicd.validation.report import Failure, ValidationReport
from mlcicd.validation.schema import DTYPES, ColumnSchema, Schema

__all__ = [
    "DTYPES",
    "ColumnSchema",
    "Failure",
    "Schema",
    "ValidationReport",
    "infer_schema",
    "validate",
]
