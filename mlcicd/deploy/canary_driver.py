"""A server's canary, run by the server itself: analysed as traffic flows, aborted on a breach.

Over HTTP nobody replays a data set through :meth:`CanaryRelease.run`: users arrive
when they arrive. :class:`CanaryDriver` is a background thread that, while a release
is running, applies the very same analysis as the offline release
(:meth:`CanaryRelease.analyze`, then :meth:`CanaryRelease.advance` when the analysis
has something to decide) after every few requests, at once after a canary error,
and at least every ``interval_s`` seconds. A breach aborts the release, which sends
every user back to the stable slot; a healthy last step promotes the candidate. An
operator can still advance, abort or roll back by hand; the admin lock makes the two
take turns.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlcicd.deploy.server_state import ServerState

__all__ = ["CanaryDriver"]


class CanaryDriver:
    """Background analysis of the running canary of a :class:`ServerState`.

    Parameters
    ----------
    state : ServerState
    check_every : int
        Requests between two analyses.
    interval_s : float
        Longest time between two analyses while a release runs.

    Attributes
    ----------
    checks_ : int
        Analyses run so far.
    last_error_ : str or None
        The last exception the analysis raised (the driver keeps going).
    """

    def __init__(self, state: ServerState, check_every: int, interval_s: float) -> None:
        self.state = state
        self.check_every = int(check_every)
        self.interval_s = float(interval_s)
        self.checks_ = 0
        self.last_error_: str | None = None
        self._seen = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()

    def requests_seen(self, *, canary_error: bool = False) -> None:
        """Count one answered request; wake the analysis when due (cheap, lock-free)."""
        self._seen += 1
        if canary_error or self._seen % self.check_every == 0:
            self._wake.set()

    def start(self) -> None:
        """Make sure the background thread runs (one per server, started at the first canary)."""
        with self._thread_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name="mlcicd-canary-driver")
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread (waits up to ``timeout`` seconds)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if not self._stop.is_set():
                self.step()  # idle (a cheap check every interval) when no release runs

    def step(self) -> bool:
        """Analyse the running release once and act; False when none is running."""
        state = self.state
        with state.admin_lock:
            release = state.canary
            if release is None or release.status_ != "running":
                return False
            self.checks_ += 1
            try:
                decision = release.analyze().decision
                if decision != "wait":
                    analysis = release.advance()
                    state.record_switch(f"canary {analysis.decision}",
                                        "; ".join(analysis.reasons))
            except Exception as exc:  # noqa: BLE001 - reported at /admin/canary, retried
                self.last_error_ = f"{type(exc).__name__}: {exc}"
            return release.status_ == "running"

    def report(self) -> dict[str, Any]:
        """What ``GET /admin/canary`` shows of the driver."""
        thread = self._thread
        return {"running": bool(thread is not None and thread.is_alive()),
                "checks": self.checks_, "last_error": self.last_error_,
                "check_every_requests": self.check_every, "interval_s": self.interval_s,
                "as_of": time.time()}
