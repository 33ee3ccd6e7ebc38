"""The router's event log: one row per request, stored column by column.

Columns are plain Python lists so that a batch of 10,000 requests is recorded with a
few ``list`` slice assignments instead of 10,000 object creations. The request id
is the row number, so a label arriving later finds its request in constant time.

Beside the rows, the log keeps a :class:`RunningSummary`: counters per version
updated as requests are answered and labelled, so a server's ``/metrics`` costs a
copy of a few counters instead of a DataFrame of every kept request.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.errors import InputError
from mlcicd.io import python_scalar
from mlcicd.params import Integer, check

__all__ = ["COLUMNS", "EventLog", "RunningSummary", "SUMMARY_COLUMNS"]

#: Columns of :meth:`EventLog.frame`, in order.
COLUMNS = (
    "request_id", "key", "slot", "version", "prediction", "latency_s", "error", "label",
    "answered",
)
_FILLED = ("key", "slot", "version", "prediction", "latency_s", "error")
#: Columns of :meth:`RunningSummary.rows` and :meth:`EventLog.summarise`, in order.
SUMMARY_COLUMNS = ("version", "requests", "errors", "error_rate", "p50_ms", "p99_ms",
                   "labelled", "accuracy")


@dataclass
class _VersionCounts:
    requests: int = 0
    errors: int = 0
    labelled: int = 0
    correct: int = 0
    latencies_s: deque[float] = field(default_factory=deque)


class RunningSummary:
    """Requests, errors, latency and accuracy per version, kept up to date per request.

    Not thread-safe (the router holds its lock while updating it). Counts cover every
    request since the start, even those the event log has forgotten; latency
    percentiles cover the ``latency_window`` most recent answers of each version, and
    only the ``max_versions`` most recently seen versions are kept.

    Examples
    --------
    >>> summary = RunningSummary()
    >>> summary.answered(["v1", "v1", "v2"], [0.001, 0.003, 0.002], [None, "boom", None])
    >>> summary.labelled("v1", prediction=1, error=None, old=None, new=1)
    >>> [(r["version"], r["requests"], r["errors"], r["accuracy"]) for r in summary.rows()]
    [('v1', 2, 1, 1.0), ('v2', 1, 0, nan)]
    """

    def __init__(self, latency_window: int = 1000, max_versions: int = 64) -> None:
        check("RunningSummary", "latency_window", latency_window, Integer(low=1))
        check("RunningSummary", "max_versions", max_versions, Integer(low=1))
        self.latency_window = int(latency_window)
        self.max_versions = int(max_versions)
        self._versions: dict[str, _VersionCounts] = {}

    def _counts(self, version: str) -> _VersionCounts:
        counts = self._versions.get(version)
        if counts is None:
            if len(self._versions) >= self.max_versions:
                del self._versions[next(iter(self._versions))]  # the oldest seen
            counts = _VersionCounts(latencies_s=deque(maxlen=self.latency_window))
            self._versions[version] = counts
        return counts

    def answered(self, versions: Sequence[str], latencies_s: Sequence[float],
                 errors: Sequence[str | None]) -> None:
        """Count answered requests."""
        for version, latency, error in zip(versions, latencies_s, errors, strict=True):
            counts = self._counts(version)
            counts.requests += 1
            counts.errors += error is not None
            counts.latencies_s.append(float(latency))

    def labelled(self, version: str, *, prediction: Any, error: str | None, old: Any,
                 new: Any) -> None:
        """Count a label (``new``) replacing ``old`` on an answered request."""
        if error is not None:
            return  # a failed request has no prediction to judge
        counts = self._counts(version)
        if old is not None:
            counts.labelled -= 1
            counts.correct -= bool(prediction == old)
        if new is not None:
            counts.labelled += 1
            counts.correct += bool(prediction == new)

    def copy(self) -> RunningSummary:
        """A snapshot to compute percentiles from outside the router's lock."""
        snapshot = RunningSummary(self.latency_window, self.max_versions)
        snapshot._versions = {
            v: _VersionCounts(c.requests, c.errors, c.labelled, c.correct,
                              deque(c.latencies_s, maxlen=self.latency_window))
            for v, c in self._versions.items()
        }
        return snapshot

    def rows(self) -> list[dict[str, Any]]:
        """One dict per version (sorted), with the keys :data:`SUMMARY_COLUMNS`."""
        rows = []
        for version in sorted(self._versions):
            c = self._versions[version]
            lat = np.fromiter(c.latencies_s, dtype=float) * 1000
            rows.append({
                "version": version, "requests": c.requests, "errors": c.errors,
                "error_rate": c.errors / c.requests if c.requests else float("nan"),
                "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
                "p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
                "labelled": c.labelled,
                "accuracy": c.correct / c.labelled if c.labelled else float("nan"),
            })
        return rows


class EventLog:
    """Append-only record of requests; not thread-safe (the router holds its lock).

    Parameters
    ----------
    max_events : int, optional
        Keep about this many of the most recent requests (a long-running server
        must not grow without bound); ``None`` keeps everything.

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

    def __init__(self, max_events: int | None = None) -> None:
        if max_events is not None:
            check("EventLog", "max_events", max_events, Integer(low=1))
        self.max_events = None if max_events is None else int(max_events)
        self._cols: dict[str, list[Any]] = {name: [] for name in (*_FILLED, "label")}
        self._answered: list[bool] = []
        self._offset = 0  # request id of the oldest row kept
        #: Counters per version since the start (see :class:`RunningSummary`).
        self.summary = RunningSummary()

    def __len__(self) -> int:
        """Requests ever received (kept or not)."""
        return self._offset + len(self._answered)

    @property
    def first_kept(self) -> int:
        """Request id of the oldest request still in the log."""
        return self._offset

    def reserve(self, n: int) -> int:
        """Allocate ``n`` consecutive request ids and return the first."""
        first = len(self)
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
        lo = first - self._offset
        hi = lo + n
        if lo < 0 or hi > len(self._answered) or any(self._answered[lo:hi]):
            raise RuntimeError(f"requests {first}..{first + n - 1}: not reserved or already "
                               "answered")
        for name, column in zip(_FILLED, values, strict=True):
            plain = [python_scalar(v) for v in column] if name == "prediction" else list(column)
            self._cols[name][lo:hi] = plain
        self._answered[lo:hi] = [True] * n
        cols = self._cols
        self.summary.answered(cols["version"][lo:hi], cols["latency_s"][lo:hi],
                              cols["error"][lo:hi])
        for i, y in enumerate(cols["label"][lo:hi], start=lo):
            if y is not None:  # a label that arrived before its answer
                self.summary.labelled(cols["version"][i], prediction=cols["prediction"][i],
                                      error=cols["error"][i], old=None, new=y)
        self._trim()

    def _trim(self) -> None:
        # Forget the oldest answered rows once the log is 10 % over its bound, so the
        # cost of deleting from the front of the lists is paid rarely.
        if self.max_events is None or len(self._answered) <= self.max_events * 1.1:
            return
        drop = len(self._answered) - self.max_events
        if False in self._answered[:drop]:  # never forget a request still in flight
            drop = self._answered.index(False)
        for values in self._cols.values():
            del values[:drop]
        del self._answered[:drop]
        self._offset += drop

    def label(self, request_ids: Sequence[int], labels: Sequence[Any]) -> None:
        """Attach labels to requests already received."""
        ids = [int(i) for i in request_ids]
        if len(ids) != len(labels):
            raise InputError(f"got {len(labels)} labels for {len(ids)} request ids")
        bad = [i for i in ids if not 0 <= i < len(self)]
        if bad:
            raise InputError(f"unknown request id(s): {bad[:5]}")
        old = [i for i in ids if i < self._offset]
        if old:
            raise InputError(f"request id(s) {old[:5]} are older than the log keeps "
                             f"(max_events={self.max_events})")
        cols = self._cols
        for i, y in zip(ids, labels, strict=True):
            row = i - self._offset
            new = python_scalar(y)
            if self._answered[row]:
                self.summary.labelled(cols["version"][row], prediction=cols["prediction"][row],
                                      error=cols["error"][row], old=cols["label"][row], new=new)
            cols["label"][row] = new

    def frame(self, since: int = 0) -> pd.DataFrame:
        """The kept log from request ``since`` on, as a DataFrame (columns :data:`COLUMNS`)."""
        return self.frame_of(*self.tail(since))

    def tail(self, since: int = 0) -> tuple[int, dict[str, list[Any]], list[bool]]:
        """Copies of the kept columns from request ``since`` on, with the first id.

        A cheap copy of list slices: a router takes it under its lock and builds the
        DataFrame (:meth:`frame_of`, many times slower) after releasing it, so a
        long read never holds up the requests being routed meanwhile.
        """
        n = len(self._answered)
        lo = min(max(int(since) - self._offset, 0), n)
        columns = {name: self._cols[name][lo:n] for name in (*_FILLED, "label")}
        return self._offset + lo, columns, self._answered[lo:n]

    @staticmethod
    def frame_of(first: int, columns: dict[str, list[Any]], answered: list[bool]
                 ) -> pd.DataFrame:
        """The DataFrame (columns :data:`COLUMNS`) of a :meth:`tail`."""
        data: dict[str, Any] = {"request_id": np.arange(first, first + len(answered))}
        for name, values in columns.items():
            data[name] = pd.Series(values, dtype=object)
        data["latency_s"] = pd.to_numeric(data["latency_s"], errors="coerce")
        data["answered"] = np.array(answered, dtype=bool)
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
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))

