"""The input schema a model artifact carries: which single rows a served model accepts.

``mlcicd train`` stores it in the artifact's metadata (``extra["input_schema"]``, in
the form of :meth:`~mlcicd.validation.schema.Schema.to_dict`) and the server
(:class:`mlcicd.deploy.versions.FeatureLimits`) refuses a row outside it with HTTP 422
before any model runs, so a client's mistake never counts against a model.

What "out of schema" means for one live row (not for a data set):

* **a feature outside its range**: the range observed in the training data, widened
  on each side by ``margin`` times its width, never crossing zero when the training
  data did not (the range rule of :func:`~mlcicd.validation.infer.infer_schema`).
  The default margin, half the observed width, is wide on purpose: a legitimate row
  slightly beyond the training extremes must be served, and the rule is there for
  gross errors (a sign, a unit, a sentinel such as -999, ``1e308``). On the bundled
  breast-cancer data, a schema inferred from the training part of 20 seeded 75/25
  splits refused 2 of the 2,860 held-out rows (see ``tests/test_input_schema.py``).
* **a wrong number of features**, or a value that is not a finite number (the server
  checks these for every model, with or without a schema).

A **missing** value (JSON ``null``) is accepted for every feature: the pipeline of
:func:`mlcicd.training.build_pipeline` imputes it, so a missing value is something
the model was built to take, even when the training data happened to have none.
Data-set rules (mean, spread, duplicates, row counts) say nothing about one row and
are left out; check batches with ``mlcicd validate`` instead.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlcicd.validation.infer import DEFAULT_MARGIN, infer_schema

__all__ = ["SERVING_RULES", "infer_input_schema"]

#: The per-column rules an input schema keeps (the ones that apply to a single row).
SERVING_RULES = ("dtype", "min", "max")


def infer_input_schema(features: pd.DataFrame, *, margin: float = DEFAULT_MARGIN
                       ) -> dict[str, Any]:
    """The input schema of a model trained on ``features`` (see the module notes).

    Parameters
    ----------
    features : pandas.DataFrame
        The feature columns the model is fitted on (no target), in order.
    margin : float
        Share of each column's observed width added on each side of its range.

    Returns
    -------
    dict
        ``{"columns": {name: {"dtype": ..., "min": ..., "max": ...}}}``, plain data
        that :meth:`Schema.from_dict <mlcicd.validation.schema.Schema.from_dict>` reads.

    Examples
    --------
    >>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0], "delta": [-1.0, 0.0, 1.0]})
    >>> infer_input_schema(frame)["columns"]
    {'size': {'dtype': 'float', 'min': 0.0, 'max': 4}, 'delta': {'dtype': 'float', \
'min': -2, 'max': 2}}
    """
    inferred = infer_schema(features, margin=margin)
    columns = {
        name: {key: rule for key, rule in rules.items() if key in SERVING_RULES}
        for name, rules in inferred.to_dict()["columns"].items()
    }
    return {"columns": columns}
