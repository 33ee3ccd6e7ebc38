"""The admin endpoints of the model server: deploy, switch, rollback and the canary.

Every action takes the server's admin lock, so two operators (or an operator and the
canary driver) never interleave their changes. The endpoints are plain ``def``
functions: FastAPI runs them on its thread pool, so a health check or an artifact
load never blocks the event loop that answers predictions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from mlcicd.deploy import schemas
from mlcicd.deploy.canary import CanaryPlan, CanaryRelease
from mlcicd.deploy.server_state import ServerState
from mlcicd.deploy.versions import ModelVersion
from mlcicd.errors import InputError

__all__ = ["add"]


def add(app: Any, state: ServerState, guard: list[Any], reply: Callable[..., Any]) -> None:
    """Register the admin routes of ``state`` on ``app``, each behind ``guard``."""
    router = state.router

    @app.post("/admin/deploy", dependencies=guard)
    def deploy(body: schemas.DeployRequest) -> Any:
        model = ModelVersion.from_artifact(body.artifact)
        with state.admin_lock:
            router.deploy(body.slot, model)
            state.record_switch("deploy", f"{model.version} to {body.slot}")
        return reply({"slot": body.slot, "version": model.version})

    @app.post("/admin/switch", dependencies=guard)
    def switch(body: schemas.SwitchRequest) -> Any:
        if (body.slot is None) == (body.version is None):
            raise InputError("give exactly one of slot or version")
        with state.admin_lock:
            _refuse_during_canary(state)
            slot = body.slot if body.version is None else router.slot_of(body.version)
            report = state.check_slot(slot)
            if not report.passed:
                reasons = "; ".join(f"{c.name}: {c.detail}" if c.detail else c.name
                                    for c in report.checks if not c.passed)
                return reply({"detail": f"health check failed: {reasons}",
                              "checks": report.to_frame().to_dict("records")}, 409)
            before = _single_live(state)
            router.switch(slot)
            if before is not None and before != slot:
                state.previous = before
            state.record_switch("switch", f"all traffic to {slot}")
        return reply({"live": router.live_versions()})

    @app.post("/admin/rollback", dependencies=guard)
    def rollback() -> Any:
        with state.admin_lock:
            canary = state.canary
            if canary is not None and canary.status_ in ("running", "promoted"):
                canary.rollback()
            else:
                previous, live = state.previous, _single_live(state)
                if previous is None or previous == live or router.version_of(previous) is None:
                    raise InputError("nothing to roll back: no earlier version to return to")
                router.switch(previous)
                state.previous = live
            state.record_switch("rollback", f"live: {router.live_versions()}")
        return reply({"live": router.live_versions()})

    @app.post("/admin/canary/start", dependencies=guard)
    def canary_start(body: schemas.CanaryStartRequest) -> Any:
        with state.admin_lock:
            _refuse_during_canary(state)
            held = state.held(body.slot)
            settings = body.model_dump(exclude={"slot"}, exclude_none=True)
            settings["steps"] = tuple(settings["steps"])
            try:
                plan = CanaryPlan(**settings)
            except TypeError as exc:
                raise InputError(f"canary plan: {exc}") from None
            state.start_canary(CanaryRelease(router, held, plan, canary_slot=body.slot))
            release = state.canary
        return reply({"status": release.status_, "weights": router.table.live})

    @app.post("/admin/canary/advance", dependencies=guard)
    def canary_advance(body: schemas.CanaryAdvanceRequest) -> Any:
        with state.admin_lock:
            release = _running_canary(state)
            analysis = release.advance(force=body.force)
            state.record_switch(f"canary {analysis.decision}",
                                "forced by operator" if body.force else "by operator")
        return reply({"decision": analysis.decision, "reasons": list(analysis.reasons),
                      "metrics": analysis.metrics, "status": release.status_,
                      "weights": router.table.live})

    @app.post("/admin/canary/abort", dependencies=guard)
    def canary_abort() -> Any:
        with state.admin_lock:
            _running_canary(state).abort()
            state.record_switch("canary abort", "by operator")
        return reply({"status": "aborted", "live": router.live_versions()})

    @app.get("/admin/canary", dependencies=guard)
    def canary_report() -> Any:
        with state.admin_lock:
            release = state.canary
            body: dict[str, Any] = {"status": "none" if release is None else release.status_,
                                    "weights": router.table.live,
                                    "driver": state.driver.report(),
                                    "switches": list(state.switches)}
            if release is not None:
                body.update({
                    "canary_slot": release.canary_slot, "stable_slot": release.stable_slot,
                    "step": release.step_, "plan": dataclasses.asdict(release.plan),
                    "timeline": [dict(row) for row in release.timeline_],
                    "history": [dict(row) for row in release.history_],
                })
        return reply(body)


def _single_live(state: ServerState) -> str | None:
    live = state.router.table.live
    return next(iter(live)) if len(live) == 1 else None


def _refuse_during_canary(state: ServerState) -> None:
    canary = state.canary
    if canary is not None and canary.status_ == "running":
        raise InputError("a canary is running: advance, abort or roll it back first")


def _running_canary(state: ServerState) -> CanaryRelease:
    canary = state.canary
    if canary is None or canary.status_ != "running":
        raise InputError("no canary is running: start one with /admin/canary/start")
    return canary
