"""Training-serving skew: does the deployed service answer like the model that was tested?

The model that passed the gate was scored by the offline pipeline: a DataFrame in, the
artifact's ``predict`` out. Users are answered by a different path: a client builds a
feature vector, sends it as JSON, the server parses it and calls the model. Every step of
that path (column order, units, how a missing value is written, a feature computed again
in another language) can make the served answer differ from the tested one, and no metric
of the offline model will show it. The test is direct: send the same rows through both
paths and compare the answers row by row (:func:`check_skew`).

:func:`http_predictions` is the serving path of this project's server (``mlcicd serve``):
one ``POST /predict`` per row, with JSON ``null`` for a missing value.
"""

from __future__ import annotations

import json
import math
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.errors import InputError
from mlcicd.params import Real, check

__all__ = ["SkewReport", "check_skew", "compare_answers", "http_predictions"]


@dataclass(frozen=True)
class SkewReport:
    """Row-by-row comparison of offline and served answers on the same rows."""

    n_rows: int
    n_mismatches: int
    max_mismatch_rate: float
    mismatches: pd.DataFrame = field(repr=False)

    @property
    def mismatch_rate(self) -> float:
        return self.n_mismatches / self.n_rows

    @property
    def passed(self) -> bool:
        return self.mismatch_rate <= self.max_mismatch_rate

    def summary(self) -> str:
        verdict = "no skew" if self.n_mismatches == 0 else (
            f"{self.n_mismatches} of {self.n_rows} rows answered differently "
            f"({self.mismatch_rate:.1%})")
        return f"{'passed' if self.passed else 'FAILED'}: {verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.n_rows, "mismatches": self.n_mismatches,
                "mismatch_rate": self.mismatch_rate, "passed": self.passed}


def compare_answers(offline: Sequence[Any], served: Sequence[Any], *, index: Any = None,
                    max_mismatch_rate: float = 0.0) -> SkewReport:
    """Compare two answer lists for the same rows (labels compared as text).

    Labels are compared as text because JSON may turn the integer label ``1`` into
    ``1``, ``1.0`` or ``"1"`` depending on the client; those are the same answer.

    >>> compare_answers([0, 1, 1], ["0", 1.0, 0]).summary()
    'FAILED: 1 of 3 rows answered differently (33.3%)'
    """
    a, b = list(offline), list(served)
    if len(a) != len(b) or not a:
        raise InputError(f"offline and served answers must be non-empty and of one length, "
                         f"got {len(a)} and {len(b)}")
    check("compare_answers", "max_mismatch_rate", max_mismatch_rate, Real(0, 1))
    rows = pd.Index(range(len(a)) if index is None else index)
    if len(rows) != len(a):
        raise InputError(f"index: expected {len(a)} labels, got {len(rows)}")
    differ = np.array([_as_label(x) != _as_label(y) for x, y in zip(a, b, strict=True)])
    mismatches = pd.DataFrame({"offline": np.asarray(a, dtype=object)[differ],
                               "served": np.asarray(b, dtype=object)[differ]},
                              index=rows[differ])
    return SkewReport(len(a), int(differ.sum()), float(max_mismatch_rate), mismatches)


def check_skew(model: Any, rows: pd.DataFrame,
               serve: Callable[[pd.DataFrame], Sequence[Any]], *,
               max_mismatch_rate: float = 0.0) -> SkewReport:
    """Send ``rows`` through the offline model and through ``serve``; compare the answers.

    ``serve`` is the serving path under test: a function from the rows (in the training
    column order) to one answer per row, e.g. ``lambda rows: http_predictions(url, rows)``
    or a client that builds features its own way.
    """
    if not isinstance(rows, pd.DataFrame) or rows.empty:
        raise InputError("rows: expected a non-empty DataFrame")
    offline = model.predict(rows)
    return compare_answers(list(offline), list(serve(rows)), index=rows.index,
                           max_mismatch_rate=max_mismatch_rate)


def http_predictions(url: str, rows: pd.DataFrame | np.ndarray, *, key_prefix: str = "skew",
                     timeout: float = 10.0) -> list[Any]:
    """Answers of an ``mlcicd serve`` server for each row (one ``POST /predict`` per row).

    NaN is sent as JSON ``null``, the server's spelling of a missing value. A non-200
    answer raises :class:`InputError` naming the row and the server's reason.
    """
    values = rows.to_numpy(dtype=float) if isinstance(rows, pd.DataFrame) else np.asarray(
        rows, dtype=float)
    answers = []
    for i, row in enumerate(values):
        body = {"features": [None if math.isnan(v) else float(v) for v in row],
                "key": f"{key_prefix}-{i}"}
        answers.append(_post_json(f"{url.rstrip('/')}/predict", body, timeout)["prediction"])
    return answers


def _post_json(url: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise InputError(f"url must start with http:// or https://, got {url!r}")
    # The scheme was checked above: only http(s) reaches urllib.
    request = urllib.request.Request(url, data=json.dumps(body).encode(),  # noqa: S310
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:200]
        raise InputError(f"{url}: HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, TimeoutError) as exc:
        raise InputError(f"{url}: no answer ({exc})") from None


def _as_label(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if isinstance(value, np.generic) else value)
