"""A router: named model slots, a routing table, and a log of every request.

Every deployment strategy in :mod:`mlcicd.deploy` is a policy that moves traffic
between the slots of one :class:`Router`. The router answers each request with
exactly one model version, records what happened (slot, version, prediction,
latency, error, and the label when it arrives later) and can go back to the
previous routing table at once.

Notes
-----
A request's key is hashed with :func:`~mlcicd.deploy.hashing.stable_bucket` to a
number ``b`` in ``[0, 1)``; it goes to the first slot of the table whose cumulative
weight exceeds ``b``. Routing a batch computes the same buckets with one vectorised
call and predicts once per slot, so batch and one-by-one routing take the same
decisions. The table and the slots are swapped as one immutable snapshot under a
lock, so a switch is atomic: a request sees the old table or the new one, never a mix.

A server that runs models on worker threads splits a request in two:
:meth:`Router.assign` picks the slot (and reserves the request id) and
:meth:`Router.complete` records the outcome, so the model call itself happens
wherever the caller wants, with the lock held only for the bookkeeping. The routing
history kept for :meth:`Router.rollback` holds at most :data:`HISTORY_LIMIT` tables.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcicd.deploy.hashing import stable_bucket, stable_buckets
from mlcicd.deploy.log import EventLog
from mlcicd.deploy.versions import ModelVersion, RoutingTable, model_input
from mlcicd.errors import InputError
from mlcicd.io import python_scalar

__all__ = ["Assignment", "BatchResponse", "HISTORY_LIMIT", "ModelVersion", "Response", "Router",
           "RoutingTable"]

#: Routing tables remembered for :meth:`Router.rollback` (older ones are forgotten).
HISTORY_LIMIT = 100


@dataclass(frozen=True)
class Assignment:
    """Where one request goes: its reserved id, its key, the slot and what the slot held."""

    request_id: int
    key: str
    slot: str
    model: ModelVersion


@dataclass(frozen=True)
class Response:
    """What the router answered for one request."""

    request_id: int
    slot: str
    version: str
    prediction: Any
    error: str | None
    latency_s: float


@dataclass(frozen=True)
class BatchResponse:
    """What the router answered for a batch: one entry per row, in input order."""

    request_ids: np.ndarray
    slots: np.ndarray
    versions: np.ndarray
    predictions: np.ndarray
    errors: np.ndarray

    def __len__(self) -> int:
        return len(self.request_ids)


@dataclass(frozen=True)
class _State:
    table: RoutingTable
    slots: Mapping[str, ModelVersion | None]


class Router:
    """Hold named model slots and route each request to exactly one of them.

    Parameters
    ----------
    slots : mapping of str to ModelVersion or None
        The slot names and what they hold (``None``: empty, e.g. an idle green slot).
    live : str, optional
        The slot that takes all traffic at first; default: the first non-empty slot.
    salt : str, default "router"
        Salt of the stable hash used when a strategy does not set its own.
    max_events : int, optional
        Keep only about this many recent requests in the event log (for a long-running
        server); default: keep all.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> zeros = DummyClassifier(strategy="constant", constant=0).fit([[0], [1]], [0, 1])
    >>> router = Router({"blue": ModelVersion(zeros, "v1"), "green": None})
    >>> r = router.route([0.5], key="user-1")
    >>> (r.slot, r.version, int(r.prediction))
    ('blue', 'v1', 0)
    >>> router.route_batch([[0.1], [0.2]], keys=["a", "b"]).versions.tolist()
    ['v1', 'v1']
    >>> router.record_label(r.request_id, 0)
    >>> router.events_frame()[["request_id", "slot", "version", "label"]].head(1)
       request_id  slot version  label
    0           0  blue      v1      0
    """

    def __init__(
        self,
        slots: Mapping[str, ModelVersion | None],
        *,
        live: str | None = None,
        salt: str = "router",
        max_events: int | None = None,
    ) -> None:
        if not isinstance(slots, Mapping) or not slots:
            raise InputError("slots must be a non-empty mapping of slot name to ModelVersion")
        for name, held in slots.items():
            if not isinstance(name, str) or not name:
                raise InputError(f"slot names must be non-empty strings, got {name!r}")
            if held is not None and not isinstance(held, ModelVersion):
                raise InputError(f"slot {name!r} must hold a ModelVersion or None")
        if live is None:
            live = next((n for n, held in slots.items() if held is not None), None)
            if live is None:
                raise InputError("at least one slot must hold a model")
        elif live not in slots:
            raise InputError(f"unknown slot {live!r} for live; slots are {sorted(slots)}")
        self._lock = threading.Lock()
        self._history: deque[_State] = deque(maxlen=HISTORY_LIMIT)
        self._log = EventLog(max_events)
        #: Called with (request_ids, rows) after each answer, off the answer's path.
        self.mirror: Callable[[np.ndarray, Any], None] | None = None
        self.mirror_failures = 0
        start = RoutingTable(tuple((n, 1.0 if n == live else 0.0) for n in slots), salt)
        self._check_state(start, dict(slots))
        self._state = _State(start, dict(slots))

    # ------------------------------------------------------------------ state
    @property
    def slots(self) -> dict[str, ModelVersion | None]:
        """Current content of every slot."""
        return dict(self._state.slots)

    @property
    def table(self) -> RoutingTable:
        """The routing table in force."""
        return self._state.table

    def version_of(self, slot: str) -> str | None:
        """Version held by ``slot`` (``None`` when empty); InputError for an unknown slot."""
        self._require_slot(slot)
        held = self._state.slots[slot]
        return None if held is None else held.version

    def slot_of(self, version: str) -> str:
        """The slot holding ``version``; InputError for an unknown version."""
        for name, held in self._state.slots.items():
            if held is not None and held.version == version:
                return name
        known = sorted(h.version for h in self._state.slots.values() if h is not None)
        raise InputError(f"unknown version {version!r}; loaded versions are {known}")

    def live_versions(self) -> dict[str, str]:
        """Version of every slot that currently receives traffic."""
        state = self._state
        return {n: state.slots[n].version for n in state.table.live}  # type: ignore[union-attr]

    def _require_slot(self, slot: str) -> None:
        if slot not in self._state.slots:
            raise InputError(f"unknown slot {slot!r}; slots are {sorted(self._state.slots)}")

    @staticmethod
    def _check_state(table: RoutingTable, slots: Mapping[str, ModelVersion | None]) -> None:
        for name in table.live:
            if name not in slots:
                raise InputError(f"unknown slot {name!r}; slots are {sorted(slots)}")
            if slots[name] is None:
                raise InputError(f"slot {name!r} is empty and cannot receive traffic")

    def _swap(self, new: _State, *, remember: bool = True) -> None:
        # Caller holds the lock.
        self._check_state(new.table, new.slots)
        if remember:
            self._history.append(self._state)
        self._state = new

    def deploy(self, slot: str, model: ModelVersion) -> None:
        """Put ``model`` in an idle ``slot``; a slot that receives traffic is refused."""
        if not isinstance(model, ModelVersion):
            raise InputError("deploy needs a ModelVersion (model + version string)")
        self._put(slot, model)

    def clear(self, slot: str) -> None:
        """Empty an idle ``slot``."""
        self._put(slot, None)

    def _put(self, slot: str, model: ModelVersion | None) -> None:
        with self._lock:
            self._require_slot(slot)
            if slot in self._state.table.live:
                raise InputError(f"slot {slot!r} is live; deploy to an idle slot")
            slots = dict(self._state.slots)
            slots[slot] = model
            self._state = _State(self._state.table, slots)

    def set_weights(self, weights: Mapping[str, float], *, salt: str | None = None) -> None:
        """Replace the routing table atomically; slots not named get weight 0.

        The order of ``weights`` is the order of the hash intervals: put the slot
        whose share grows (a canary) first, so raising its weight only adds keys to it.
        """
        with self._lock:
            for name in weights:
                self._require_slot(name)
            order = list(weights) + [n for n in self._state.slots if n not in weights]
            pairs = tuple((n, float(weights.get(n, 0.0))) for n in order)
            table = RoutingTable(pairs, self._state.table.salt if salt is None else salt)
            self._swap(_State(table, self._state.slots))

    def switch(self, slot: str) -> None:
        """Send all traffic to ``slot`` at once."""
        self.set_weights({slot: 1.0})

    def rollback(self) -> RoutingTable:
        """Restore the routing table in force before the last change, and return it."""
        with self._lock:
            if not self._history:
                raise InputError("nothing to roll back: the routing table never changed")
            previous = self._history[-1]
            # Slot contents stay as they are now (a rolled-back candidate stays warm); if
            # the previous table needs a slot emptied since, this raises and keeps state.
            self._swap(_State(previous.table, self._state.slots), remember=False)
            self._history.pop()
            return previous.table

    # ---------------------------------------------------------------- routing
    def route(self, x: Sequence[Any] | np.ndarray, key: object = None) -> Response:
        """Answer one request (one row of features); ``key`` defaults to the request id."""
        row = np.asarray(x)
        if row.ndim != 1:
            raise InputError(f"route takes one row of features, got shape {row.shape}")
        assignment = self.assign(key)
        start = time.perf_counter()
        try:
            prediction, error = predict_one(assignment.model, row), None
        except Exception as exc:  # a failing model is an answered request with an error
            prediction, error = None, f"{type(exc).__name__}: {exc}"
        return self.complete(assignment, row, prediction, error, time.perf_counter() - start)

    def assign(self, key: object = None) -> Assignment:
        """Reserve a request id and pick its slot; the caller then runs the model and
        reports with :meth:`complete` (every assignment must be completed)."""
        with self._lock:
            state = self._state
            rid = self._log.reserve(1)
        key = str(rid) if key is None else str(key)
        slot = state.table.slot_for(stable_bucket(key, state.table.salt))
        held = state.slots[slot]
        assert held is not None
        return Assignment(rid, key, slot, held)

    def complete(self, assignment: Assignment, row: np.ndarray, prediction: Any,
                 error: str | None, latency_s: float, *, mirror: bool = True) -> Response:
        """Record the outcome of an :meth:`assign`-ed request and mirror its row.

        ``mirror=False`` leaves the mirror to the caller (:meth:`send_to_mirror`), e.g.
        a server that must not run a mirrored model on its event loop.
        """
        a = assignment
        with self._lock:
            self._log.fill(a.request_id, [a.key], [a.slot], [a.model.version], [prediction],
                           [latency_s], [error])
        if mirror:
            self.send_to_mirror(np.array([a.request_id]), row[None, :])
        return Response(a.request_id, a.slot, a.model.version, prediction, error, latency_s)

    def route_batch(self, X: Any, keys: Sequence[object] | None = None) -> BatchResponse:
        """Answer many requests at once; same decisions as routing them one by one."""
        frame = X if isinstance(X, pd.DataFrame) else np.asarray(X)
        if frame.ndim != 2:
            raise InputError(f"route_batch takes a 2-D array of rows, got {frame.ndim}-D")
        n = len(frame)
        if keys is not None and len(keys) != n:
            raise InputError(f"got {len(keys)} keys for {n} rows")
        with self._lock:
            state = self._state
            first = self._log.reserve(n)
        ids = np.arange(first, first + n)
        key_list = [str(k) for k in (ids.tolist() if keys is None else keys)]
        names = [name for name, _ in state.table.weights]
        slot_idx = state.table.slots_for(stable_buckets(key_list, state.table.salt))
        predictions = np.empty(n, dtype=object)
        errors = np.full(n, None, dtype=object)
        latencies = np.zeros(n)
        versions = np.empty(n, dtype=object)
        for i in np.unique(slot_idx):
            rows = np.flatnonzero(slot_idx == i)
            held = state.slots[names[i]]
            assert held is not None
            versions[rows] = held.version
            part = frame.iloc[rows] if isinstance(frame, pd.DataFrame) else frame[rows]
            start = time.perf_counter()
            try:
                predictions[rows] = _predict(held.model, part, len(rows))
            except Exception:
                # Isolate the failing rows so each request gets its own outcome, as one by one.
                for j, r in enumerate(rows):
                    single = part.iloc[[j]] if isinstance(part, pd.DataFrame) else part[[j]]
                    try:
                        predictions[r] = _predict(held.model, single, 1)[0]
                    except Exception as exc:
                        errors[r] = f"{type(exc).__name__}: {exc}"
            latencies[rows] = (time.perf_counter() - start) / len(rows)
        slots = np.array(names, dtype=object)[slot_idx]
        with self._lock:
            self._log.fill_range(
                first, key_list, slots.tolist(), versions.tolist(), predictions.tolist(),
                latencies.tolist(), errors.tolist(),
            )
        self.send_to_mirror(ids, frame)
        return BatchResponse(ids, slots, versions, _tidy(predictions, errors), errors)

    def send_to_mirror(self, ids: np.ndarray, rows: Any) -> None:
        """Hand answered requests to :attr:`mirror`, if any (its failures are counted)."""
        mirror = self.mirror
        if mirror is None:
            return
        try:
            mirror(ids, rows)
        except Exception:  # a mirror (shadow) must never break the user's answer
            self.mirror_failures += 1

    # ----------------------------------------------------------------- labels
    def record_label(self, request_id: int, label: Any) -> None:
        """Attach the true outcome of a request, when it becomes known."""
        self.record_labels([request_id], [label])

    def record_labels(self, request_ids: Sequence[int], labels: Sequence[Any]) -> None:
        """Vectorised :meth:`record_label`."""
        with self._lock:
            self._log.label(request_ids, labels)

    # ---------------------------------------------------------------- reports
    def events_frame(self, since: int = 0) -> pd.DataFrame:
        """One row per request from request id ``since`` on: request_id, key, slot, version,
        prediction, latency_s, error, label, answered."""
        with self._lock:  # copy under the lock, build the frame after releasing it
            tail = self._log.tail(since)
        return EventLog.frame_of(*tail)

    @property
    def n_requests(self) -> int:
        """Requests received so far."""
        return len(self._log)

    def metrics_frame(self, since: int = 0) -> pd.DataFrame:
        """Requests, errors, latency percentiles and accuracy per version (from ``since``)."""
        return EventLog.summarise(self.events_frame(since))

    def summary(self) -> list[dict[str, Any]]:
        """Per version since the start, from running counters (cheap, unlike
        :meth:`metrics_frame`): the columns of :meth:`metrics_frame`, latency over each
        version's most recent answers (see :class:`~mlcicd.deploy.log.RunningSummary`)."""
        with self._lock:
            snapshot = self._log.summary.copy()
        return snapshot.rows()


def predict_one(held: ModelVersion, row: np.ndarray) -> Any:
    """The prediction of ``held`` for one row (a 1-D array); raises what the model raises.

    A prediction that is not one number, string or boolean (a model answering a
    vector or an arbitrary object per row) raises ``TypeError``: it is the model's
    failure, to be counted against it (and answered by the stable slot during a
    canary), not something to send to a user, who could not compare it with a label.

    >>> class Vector:
    ...     def predict(self, X):
    ...         return np.zeros((len(X), 3))
    >>> predict_one(ModelVersion(Vector(), "v"), np.zeros(2))
    Traceback (most recent call last):
    ...
    TypeError: model returned a ndarray per row, not a single class or number
    """
    prediction = _predict(held.model, row[None, :], 1)[0]
    plain = python_scalar(prediction)
    if not isinstance(plain, int | float | str | bool):
        raise TypeError(f"model returned a {type(plain).__name__} per row, "
                        "not a single class or number")
    return prediction


def _predict(model: Any, rows: Any, n: int) -> np.ndarray:
    out = np.asarray(model.predict(model_input(model, rows)))
    if out.shape[:1] != (n,):
        raise ValueError(f"model returned {out.shape[:1]} predictions for {n} rows")
    return out


def _tidy(predictions: np.ndarray, errors: np.ndarray) -> np.ndarray:
    # A typed array when every row succeeded, so users can compare with labels directly.
    if all(e is None for e in errors):
        return np.array(predictions.tolist())
    return predictions
