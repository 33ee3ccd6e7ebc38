"""What a model server holds besides its routes: the router, worker pools, the release.

:class:`ServerState` answers predictions without ever running a model on the event
loop: each slot's model runs on its own small pool of daemon threads
(:class:`SlotWorkers`), a call that takes longer than the timeout is answered from
the stable slot of a running canary (or with a 504), and a slot whose pool is full
is refused at once instead of queueing without end. A slow or hung canary therefore
only delays the requests routed to it; requests routed elsewhere, ``/healthz`` and
``/metrics`` keep their latency.

The state also runs the canary by itself
(:class:`~mlcicd.deploy.canary_driver.CanaryDriver`), health-checks a slot before
``switch`` sends it traffic, and keeps bounded histories (limits in
:class:`ServerLimits`).
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mlcicd.deploy.blue_green import HealthCheck, HealthReport
from mlcicd.deploy.canary import CanaryRelease
from mlcicd.deploy.canary_driver import CanaryDriver
from mlcicd.deploy.router import Assignment, Response, Router, predict_one
from mlcicd.deploy.versions import ModelVersion
from mlcicd.errors import InputError
from mlcicd.params import Integer, Real, check

__all__ = ["Answer", "ServerLimits", "ServerState", "SlotWorkers"]

_MIRROR: Any = object()  # stands for "whatever the router's mirror runs" in SlotWorkers


@dataclass(frozen=True)
class ServerLimits:
    """Timeouts, pool sizes and the bounds of everything a server keeps in memory.

    Parameters
    ----------
    predict_timeout_s : float, default 2.0
        Longest wait for one model call; then the stable slot answers, or a 504.
    workers_per_slot : int, default 4
        Threads running one slot's model.
    max_pending_per_slot : int, default 256
        Calls running or queued per slot; beyond that a call is refused at once.
    health_timeout_s : float, default 10.0
        Longest wait for the health check that precedes a switch.
    max_body_bytes : int, default 1 MiB
        Largest request body (413 beyond).
    check_every : int, default 10
        A running canary is analysed after this many requests (and on every
        canary error), and at least every ``check_interval_s`` seconds.
    check_interval_s : float, default 0.5
    max_switches : int, default 100
        Entries of the switch history kept (``GET /admin/canary`` shows them).
    smoke_rows : int, default 50
        Recent rows answered by the stable model kept to health-check a switch.

    Examples
    --------
    >>> ServerLimits(predict_timeout_s=0.5).workers_per_slot
    4
    >>> ServerLimits(max_body_bytes=0)
    Traceback (most recent call last):
    ...
    mlcicd.errors.InputError: ServerLimits: max_body_bytes must be a positive integer, got 0
    """

    predict_timeout_s: float = 2.0
    workers_per_slot: int = 4
    max_pending_per_slot: int = 256
    health_timeout_s: float = 10.0
    max_body_bytes: int = 1_048_576
    check_every: int = 10
    check_interval_s: float = 0.5
    max_switches: int = 100
    smoke_rows: int = 50

    def __post_init__(self) -> None:
        for name in ("predict_timeout_s", "health_timeout_s", "check_interval_s"):
            check("ServerLimits", name, getattr(self, name), Real(0, closed="neither"))
        for name in ("workers_per_slot", "max_pending_per_slot", "max_body_bytes",
                     "check_every", "max_switches", "smoke_rows"):
            value = getattr(self, name)
            check("ServerLimits", name, value, Integer(low=1))


class _Pool:
    """A fixed set of daemon threads (a hung model must not keep the process alive)."""

    def __init__(self, workers: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future, Callable[[], Any]] | None] = (
            queue.SimpleQueue())
        self._threads = [threading.Thread(target=self._work, daemon=True, name=f"{name}-{i}")
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, call = job
            if not future.set_running_or_notify_cancel():
                continue  # the caller gave up while the call was queued
            try:
                future.set_result(call())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

    def submit(self, call: Callable[[], Any]) -> Future:
        future: Future = Future()
        self._jobs.put((future, call))
        return future

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)


class SlotWorkers:
    """One :class:`_Pool` per model held by a slot, with a bound on calls in flight.

    A slot that gets a new model gets a new pool: threads stuck in the old model
    cannot delay the new one.
    """

    def __init__(self, workers: int, max_pending: int) -> None:
        self.workers = workers
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._pools: dict[str, tuple[ModelVersion, _Pool]] = {}
        self._pending: dict[str, int] = {}

    def submit(self, slot: str, held: ModelVersion, call: Callable[[], Any]) -> Future | None:
        """Queue ``call`` on ``slot``'s pool; ``None`` when the slot has too much in flight."""
        with self._lock:
            entry = self._pools.get(slot)
            if entry is None or entry[0] is not held:
                if entry is not None:
                    entry[1].close()
                entry = (held, _Pool(self.workers, f"mlcicd-{slot}"))
                self._pools[slot] = entry
                self._pending[slot] = 0
            if self._pending[slot] >= self.max_pending:
                return None
            self._pending[slot] += 1
        future = entry[1].submit(call)
        future.add_done_callback(lambda _: self._release(slot, entry[0]))
        return future

    def _release(self, slot: str, held: ModelVersion) -> None:
        with self._lock:
            entry = self._pools.get(slot)
            if entry is not None and entry[0] is held:
                self._pending[slot] = max(self._pending[slot] - 1, 0)

    def pending(self) -> dict[str, int]:
        """Calls running or queued, per slot."""
        with self._lock:
            return dict(self._pending)

    def close(self) -> None:
        with self._lock:
            for _, pool in self._pools.values():
                pool.close()
            self._pools.clear()


@dataclass(frozen=True)
class Answer:
    """A prediction as the user receives it.

    ``status`` is 200, 503 (the model failed or its pool is full) or 504 (no answer in
    time). ``fallback_from`` names the version that failed when the stable slot
    answered in its place.
    """

    status: int
    request_id: int
    slot: str
    version: str
    prediction: Any = None
    detail: str | None = None
    fallback_from: str | None = None


class ServerState:
    """The router of a server and everything that moves its traffic.

    Parameters
    ----------
    router : Router
    limits : ServerLimits, optional
    health_check : HealthCheck, optional
        Run before a switch; default: the recent rows the live model answered (up
        to ``limits.smoke_rows``; a row of zeros before any traffic) must all be
        answered by the target.
    """

    def __init__(self, router: Router, limits: ServerLimits | None = None,
                 health_check: HealthCheck | None = None) -> None:
        if not isinstance(router, Router):
            raise InputError(f"router must be a Router, got {type(router).__name__}")
        if health_check is not None and not isinstance(health_check, HealthCheck):
            raise InputError("health_check must be a HealthCheck")
        self.router = router
        self.limits = ServerLimits() if limits is None else limits
        self.health_check = health_check
        #: Held by every admin action, and by the canary driver while it acts.
        self.admin_lock = threading.Lock()
        self.canary: CanaryRelease | None = None
        # The slot that served everyone before the last switch or canary: where a
        # rollback goes (undoing an abort would send users back to the canary).
        self.previous: str | None = None
        self.switches: deque[dict[str, Any]] = deque(maxlen=self.limits.max_switches)
        self.fallbacks = 0
        self.timeouts = 0
        self.refused_busy = 0
        self._smoke: deque[np.ndarray] = deque(maxlen=self.limits.smoke_rows)
        self.workers = SlotWorkers(self.limits.workers_per_slot,
                                   self.limits.max_pending_per_slot)
        # The router's mirror (a shadow, a paired canary scoring with stable) may run a
        # model: it gets threads of its own, and its calls are dropped when they pile up.
        self._mirror = SlotWorkers(2, self.limits.max_pending_per_slot)
        self.mirror_dropped = 0
        self.driver = CanaryDriver(self, self.limits.check_every, self.limits.check_interval_s)

    # ------------------------------------------------------------- predictions
    def input_problem(self, row: np.ndarray) -> str | None:
        """Why a live model cannot take ``row`` (a client error), or ``None``."""
        slots = self.router.slots
        for slot in self.router.table.live:
            held = slots.get(slot)
            problem = None if held is None else held.limits.problem(row)
            if problem is not None:
                return problem
        return None

    async def predict(self, row: np.ndarray, key: str | None) -> Answer:
        """Route one checked row, run its model off the loop and record the outcome.

        When a canary fails a request, the stable slot answers it instead; when the
        stable model fails on the same row too, the row is one no live model can take:
        it is recorded against the stable slot, not the canary, and answered with a 422.
        """
        stable = self._stable_slot()  # read before the call: the canary may end meanwhile
        assignment = self.router.assign(key)
        stable = stable or self._stable_slot()  # or it may have started meanwhile
        held, slot = assignment.model, assignment.slot
        prediction, error, latency, status = await self._call(slot, held, row)
        fallback = self.router.slots.get(stable) if stable not in (None, slot) else None
        if error is None or fallback is None:
            response = self._complete(assignment, row, prediction, error, latency)
            self.driver.requests_seen(canary_error=error is not None and stable is not None)
            if error is None:
                if slot == stable or stable is None:
                    self._smoke.append(row)
                return Answer(200, response.request_id, slot, held.version, prediction)
            return Answer(status, response.request_id, slot, held.version, None,
                          f"model error: {error}")
        assert stable is not None
        p2, e2, l2, status2 = await self._call(stable, fallback, row)
        if e2 is not None and status2 == 503 and not e2.startswith("busy"):
            both = replace(assignment, slot=stable, model=fallback)
            response = self._complete(both, row, None, e2, l2)
            self.driver.requests_seen()
            return Answer(422, response.request_id, stable, fallback.version, None,
                          f"no live model can answer this row: {e2}")
        response = self._complete(assignment, row, None, error, latency)
        self.driver.requests_seen(canary_error=True)
        if e2 is not None:
            return Answer(status2, response.request_id, stable, fallback.version, None,
                          f"model error: {e2}")
        self.fallbacks += 1
        return Answer(200, response.request_id, stable, fallback.version, p2,
                      fallback_from=held.version)

    def _complete(self, assignment: Assignment, row: np.ndarray, prediction: Any,
                  error: str | None, latency: float) -> Response:
        response = self.router.complete(assignment, row, prediction, error, latency,
                                        mirror=False)
        if self.router.mirror is not None:
            ids = np.array([response.request_id])
            call = functools.partial(self.router.send_to_mirror, ids, row[None, :])
            if self._mirror.submit("mirror", _MIRROR, call) is None:
                self.mirror_dropped += 1
        return response

    async def _call(self, slot: str, held: ModelVersion, row: np.ndarray
                    ) -> tuple[Any, str | None, float, int]:
        def timed() -> tuple[Any, float]:
            start = time.perf_counter()
            return predict_one(held, row), time.perf_counter() - start

        future = self.workers.submit(slot, held, timed)
        if future is None:
            self.refused_busy += 1
            return None, f"busy: {self.limits.max_pending_per_slot} calls in flight", 0.0, 503
        timeout = self.limits.predict_timeout_s
        start = time.perf_counter()
        try:
            prediction, latency = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            self.timeouts += 1
            return None, f"TimeoutError: no answer within {timeout:g} s", timeout, 504
        except Exception as exc:  # a failing model is an answered request with an error
            return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - start, 503
        return prediction, None, latency, 200

    def _stable_slot(self) -> str | None:
        canary = self.canary
        return canary.stable_slot if canary is not None and canary.status_ == "running" else None

    # ------------------------------------------------------------------ admin
    def held(self, slot: str) -> ModelVersion:
        """What ``slot`` holds; InputError when the slot is unknown or empty."""
        held = self.router.slots.get(slot)
        if held is None:
            raise InputError(f"slot {slot!r} is unknown or empty")
        return held

    def check_slot(self, slot: str) -> HealthReport:
        """Health-check the model in ``slot`` on its own pool, within the time limit."""
        held = self.held(slot)
        check = self.health_check or self._default_check(held)
        if check is None:
            return HealthReport(held.version, True, [])
        future = self.workers.submit(slot, held, lambda: check.run(held))
        try:
            if future is None:
                raise TimeoutError("its worker pool is full")
            return future.result(timeout=self.limits.health_timeout_s)
        except TimeoutError as exc:
            from mlcicd.deploy.blue_green import CheckResult

            detail = str(exc) or f"no answer within {self.limits.health_timeout_s:g} s"
            return HealthReport(held.version, False, [CheckResult("answers", False,
                                                                  detail=detail)])

    def _default_check(self, held: ModelVersion) -> HealthCheck | None:
        rows = list(self._smoke)
        rows = [r for r in rows if len(r) == len(rows[-1])] if rows else []
        if not rows:
            width = held.limits.width
            if width is None:
                return None  # nothing known to check with
            rows = [np.zeros(width)]
        return HealthCheck(np.vstack(rows))

    def record_switch(self, action: str, detail: str = "") -> None:
        """Remember an admin action in the bounded switch history."""
        self.switches.append({"action": action, "detail": detail, "at": time.time(),
                              "requests_so_far": self.router.n_requests,
                              "live": self.router.live_versions()})

    def start_canary(self, release: CanaryRelease) -> None:
        """Start ``release`` (caller holds the admin lock) and let the driver run it."""
        release.start()
        self.canary = release
        self.previous = release.stable_slot
        self.record_switch("canary start", f"{release.canary_slot} at "
                                           f"{release.plan.steps[0]:.0%}")
        self.driver.start()

    def close(self) -> None:
        """Stop the canary driver and the worker pools."""
        self.driver.stop()
        self.workers.close()
        self._mirror.close()
