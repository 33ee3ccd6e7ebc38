"""The router's event log: one row per request, stored column by column.

Columns are plain Python lists so that a batch of 10,000 requests is recorded with a
few ``list`` slice assignments instead of 10,000 object creations. The request id
is the row number, so a label arriving later finds its request in constant time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.errors import InputError

__all__ = ["EventLog", "COLUMNS"]

#: Columns of :meth:`EventLog.frame`, in order.
COLUMNS = (
    "request_id", "key", "slot", "version", "prediction", "latency_s", "error", "label",
    "answered",
)
_FILLED = ("key", "slot", "version", "prediction", "latency_s", "error")


class EventLog:
    """Append-only record of requests; not thread-safe (the router holds its lock).

    Examples
    --------
    >>> log = EventLog()
    >>> first = log.reserve(2)
    >>> log.fill_range(first, ["a", "b"], ["blue"] * 2, ["v1"] * 2, [1, 0], [0.001] * 2,
    ...                [None, None])
    >>> log.label([1], [0])
    >>> log.frame()[["request_id", "version", "prediction", "label", "answered"]]
       request_id version  prediction  label  answered
    0           0      v1           1   None      True
    1           1      v1           0      0      True
    """

    def __init__(self) -> None:
        self._cols: dict[str, list[Any]] = {name: [] for name in (*_FILLED, "label")}
        self._answered: list[bool] = []

    def __len__(self) -> int:
        return len(self._answered)

    def reserve(self, n: int) -> int:
        """Allocate ``n`` consecutive request ids and return the first."""
        first = len(self._answered)
        for values in self._cols.values():
            values.extend([None] * n)
        self._answered.extend([False] * n)
        return first

    def fill(self, rid: int, *values: Sequence[Any]) -> None:
        """Record the outcome of one reserved request (columns as 1-element lists)."""
        self.fill_range(rid, *values)

    def fill_range(self, first: int, *values: Sequence[Any]) -> None:
        """Record the outcome of reserved requests ``first, first + 1, ...``."""
        n = len(values[0])
        stop = first + n
        if stop > len(self._answered) or any(self._answered[first:stop]):
            raise RuntimeError(f"requests {first}..{stop - 1}: not reserved or already answered")
        for name, column in zip(_FILLED, values, strict=True):
            plain = [_plain(v) for v in column] if name == "prediction" else list(column)
            self._cols[name][first:stop] = plain
        self._answered[first:stop] = [True] * n

    def label(self, request_ids: Sequence[int], labels: Sequence[Any]) -> None:
        """Attach labels to requests already received."""
        ids = [int(i) for i in request_ids]
        if len(ids) != len(labels):
            raise InputError(f"got {len(labels)} labels for {len(ids)} request ids")
        bad = [i for i in ids if not 0 <= i < len(self._answered)]
        if bad:
            raise InputError(f"unknown request id(s): {bad[:5]}")
        column = self._cols["label"]
        for i, y in zip(ids, labels, strict=True):
            column[i] = _plain(y)

    def frame(self, since: int = 0) -> pd.DataFrame:
        """The log from request ``since`` on, as a DataFrame (columns :data:`COLUMNS`)."""
        n = len(self._answered)
        since = min(max(int(since), 0), n)
        data: dict[str, Any] = {"request_id": np.arange(since, n)}
        for name in (*_FILLED, "label"):
            data[name] = pd.Series(self._cols[name][since:n], dtype=object)
        data["latency_s"] = pd.to_numeric(data["latency_s"], errors="coerce")
        data["answered"] = np.array(self._answered[since:n], dtype=bool)
        return pd.DataFrame(data, columns=list(COLUMNS))

    @staticmethod
    def summarise(events: pd.DataFrame) -> pd.DataFrame:
        """Per version: requests, errors, error_rate, p50/p99 latency (ms), labelled, accuracy.

        Examples
        --------
        >>> events = pd.DataFrame({"version": ["v1", "v1", "v2"], "error": [None, "boom", None],
        ...     "latency_s": [0.001, 0.003, 0.002], "prediction": [1, None, 0],
        ...     "label": [1, 1, None], "answered": [True, True, True]})
        >>> EventLog.summarise(events)[["version", "requests", "errors", "accuracy"]]
          version  requests  errors  accuracy
        0      v1         2       1       1.0
        1      v2         1       0       NaN
        """
        rows = []
        for version, group in events[events["answered"]].groupby("version", sort=True):
            failed = group["error"].notna()
            ok = group[~failed & group["label"].notna()]
            correct = [p == y for p, y in zip(ok["prediction"], ok["label"], strict=True)]
            lat = group["latency_s"].to_numpy(dtype=float) * 1000
            rows.append({
                "version": version,
                "requests": len(group),
                "errors": int(failed.sum()),
                "error_rate": float(failed.mean()),
                "p50_ms": float(np.percentile(lat, 50)),
                "p99_ms": float(np.percentile(lat, 99)),
                "labelled": len(ok),
                "accuracy": float(np.mean(correct)) if correct else float("nan"),
            })
        columns = ["version", "requests", "errors", "error_rate", "p50_ms", "p99_ms",
                   "labelled", "accuracy"]
        return pd.DataFrame(rows, columns=columns)


def _plain(value: Any) -> Any:
    # numpy scalars become Python scalars: JSON-ready and comparable with labels.
    return value.item() if isinstance(value, np.generic) else value
