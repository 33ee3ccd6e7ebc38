"""What every deployment strategy shares: a router, a candidate, a history, a rollback.

A strategy (:class:`~mlcicd.deploy.blue_green.BlueGreenRelease`,
:class:`~mlcicd.deploy.canary.CanaryRelease`, :class:`~mlcicd.deploy.shadow.ShadowRelease`,
:class:`~mlcicd.deploy.ab_test.ABTest`) is a policy over one
:class:`~mlcicd.deploy.router.Router`: it places the candidate in an idle slot, moves
traffic according to its rules, and can put everything back as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mlcicd.deploy.router import ModelVersion, Router
from mlcicd.errors import InputError
from mlcicd.params import Integer, check

__all__ = ["Release", "as_model_version", "live_slot_of"]


def as_model_version(candidate: ModelVersion | str | Path) -> ModelVersion:
    """A :class:`ModelVersion` as given, or loaded (hash-checked) from an artifact folder."""
    if isinstance(candidate, ModelVersion):
        return candidate
    if isinstance(candidate, str | Path):
        return ModelVersion.from_artifact(candidate)
    raise InputError(
        "candidate must be a ModelVersion or an artifact directory, "
        f"got {type(candidate).__name__}"
    )


def live_slot_of(router: Router) -> str:
    """The single slot receiving all traffic; InputError when traffic is split."""
    live = router.table.live
    if len(live) != 1:
        raise InputError(f"expected one live slot, traffic is split as {live}")
    return next(iter(live))


class Release:
    """Base class of the strategies: a router, a state string and a history of actions.

    Attributes
    ----------
    status_ : str
        ``"ready"`` before :meth:`start`; then strategy specific (``"promoted"``,
        ``"rolled_back"``...).
    history_ : list of dict
        One entry per action: ``action``, ``detail`` and the live versions after it.
    """

    def __init__(self, router: Router) -> None:
        if not isinstance(router, Router):
            raise InputError(f"router must be a Router, got {type(router).__name__}")
        self.router = router
        self.status_ = "ready"
        self.history_: list[dict[str, Any]] = []

    def _record(self, action: str, detail: str = "") -> None:
        self.history_.append({
            "action": action,
            "detail": detail,
            "requests_so_far": self.router.n_requests,
            "live": dict(self.router.live_versions()),
        })

    def history_frame(self) -> pd.DataFrame:
        """The actions taken so far, one row each."""
        return pd.DataFrame(self.history_, columns=["action", "detail", "requests_so_far", "live"])

    def _load_candidate(self, slot: str, what: str) -> ModelVersion:
        """Refuse a second start, then load ``self.candidate`` into ``slot``.

        The candidate may be a path to an artifact: loading verifies its hash, so a
        tampered file raises before the router changes.
        """
        if self.status_ != "ready":
            raise InputError(f"this {what} has already started (status {self.status_})")
        model = as_model_version(self.candidate)
        self.router.deploy(slot, model)
        self.candidate = model
        return model

    def _stream_keys(
        self, X: Any, y: Any | None, keys: Any | None, batch_size: int
    ) -> list[object]:
        """Check a stream's labels, keys and batch size; start if needed; return the keys.

        Keys default to ``"row-<i>"``, so a replayed stream gets the same assignments.
        """
        n = len(X)
        if y is not None and len(y) != n:
            raise InputError(f"got {len(y)} labels for {n} rows")
        if keys is not None and len(keys) != n:
            raise InputError(f"got {len(keys)} keys for {n} rows")
        check(type(self).__name__, "batch_size", batch_size, Integer(low=1))
        if self.status_ == "ready":
            self.start()
        return [f"row-{i}" for i in range(n)] if keys is None else list(keys)

    def start(self) -> Release:  # pragma: no cover - interface
        raise NotImplementedError

    def rollback(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError
