"""HTTP serving of a :class:`~mlcicd.deploy.router.Router` with FastAPI and uvicorn.

Needs the ``serve`` extra (``pip install mlcicd[serve]``); FastAPI is imported when an
app is created, so the rest of the library works without it.

Endpoints
---------
``POST /predict``
    ``{"features": [...], "key": "user-1"}`` -> prediction, request id and version.
``POST /feedback``
    ``{"request_id": 3, "label": 1}``: the true label, for accuracy per version.
``GET /healthz``, ``GET /metrics``
    Live slots and versions; requests, errors, latency and accuracy per version.
``POST /admin/deploy|switch|rollback``, ``POST /admin/canary/start|advance|abort``
    Rollback sends everyone back to the slot that served them all before the last
    switch or canary (a running or promoted canary is rolled back to stable). These
    need ``Authorization: Bearer <token>`` with the token of ``MLCICD_ADMIN_TOKEN``
    (compared in constant time); without a configured token they always answer 401.

Every response carries ``X-Model-Version``: the version that answered a prediction,
or the live versions (comma separated) for other endpoints. Bad input is a 422 with
a message, never a 500.
"""

import hmac
import math
import os
import socket
import threading
import time
from typing import Any

from mlcicd.deploy.blue_green import HealthCheck
from mlcicd.deploy.canary import CanaryPlan, CanaryRelease
from mlcicd.deploy.router import Router
from mlcicd.deploy.versions import ModelVersion
from mlcicd.errors import InputError

__all__ = [
    "ADMIN_TOKEN_ENV", "BackgroundServer", "ServerProcess", "create_app", "free_loopback_port",
    "serve",
]

#: Environment variable holding the admin token.
ADMIN_TOKEN_ENV = "MLCICD_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _require_fastapi() -> Any:
    try:
        import fastapi
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError("serving needs the serve extra: pip install 'mlcicd[serve]'") from exc
    return fastapi


def create_app(router: Router, *, admin_token: str | None = None,
               health_check: HealthCheck | None = None) -> Any:
    """Build the FastAPI app serving ``router`` (nothing is started).

    Parameters
    ----------
    router : Router
    admin_token : str, optional
        Token of the admin endpoints; default: the ``MLCICD_ADMIN_TOKEN`` variable.
        With neither, the admin endpoints are disabled (401).
    health_check : HealthCheck, optional
        Run on a slot before ``/admin/switch`` sends it traffic; a failure is a 409.

    Examples
    --------
    >>> import httpx
    >>> from sklearn.dummy import DummyClassifier
    >>> m = DummyClassifier(strategy="constant", constant=1).fit([[0.0], [1.0]], [0, 1])
    >>> app = create_app(Router({"blue": ModelVersion(m, "v1")}), admin_token="s3cret")
    >>> with BackgroundServer(app) as url, httpx.Client(base_url=url) as client:
    ...     r = client.post("/predict", json={"features": [0.5], "key": "user-1"})
    ...     bad = client.post("/predict", json={"features": "oops"})
    ...     denied = client.post("/admin/rollback")
    >>> r.status_code, r.json()["prediction"], r.headers["x-model-version"]
    (200, 1, 'v1')
    >>> bad.status_code, denied.status_code
    (422, 401)
    """
    fastapi = _require_fastapi()
    from fastapi import Depends, FastAPI, Header, Request
    from fastapi.responses import JSONResponse

    from mlcicd.deploy import schemas

    if not isinstance(router, Router):
        raise InputError(f"router must be a Router, got {type(router).__name__}")
    token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)
    # "previous": the slot that served everyone before the last switch or canary, i.e.
    # where a rollback goes (the router's own rollback would merely undo the last change,
    # and undoing a canary abort would send users back to the canary).
    state: dict[str, Any] = {"canary": None, "previous": None}
    lock = threading.Lock()
    app = FastAPI(title="mlcicd model server", version="1")
    app.state.router = router

    app.add_middleware(_VersionHeader, router=router)

    def json(body: Any, status: int = 200, version: str | None = None) -> Any:
        # Without an explicit version, _VersionHeader names the live versions.
        headers = {"X-Model-Version": version} if version else None
        return JSONResponse(_jsonable(body), status_code=status, headers=headers)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Any:
        return json({"detail": str(exc)}, 422)

    @app.exception_handler(fastapi.exceptions.RequestValidationError)
    async def bad_request(request: Request, exc: Any) -> Any:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return json({"detail": message, "errors": errors}, 422)

    def admin(authorization: str | None = Header(default=None)) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if (not token or scheme.lower() != "bearer"
                or not hmac.compare_digest(given.strip().encode(), token.encode())):
            raise fastapi.HTTPException(401, "admin token missing or wrong",
                                        headers={"WWW-Authenticate": "Bearer"})

    @app.post("/predict")
    async def predict(body: schemas.PredictRequest) -> Any:
        # Inline on the event loop: a one-row sklearn predict costs well under a
        # millisecond, less than the hop to a worker thread. A heavy model would belong
        # in a plain `def` endpoint (FastAPI then runs it in its thread pool).
        row = [math.nan if v is None else v for v in body.features]
        _check_width(router, len(row))
        answer = router.route(row, key=body.key)
        payload = {"request_id": answer.request_id, "prediction": answer.prediction,
                   "version": answer.version, "slot": answer.slot}
        if answer.error is not None:
            return json({**payload, "detail": f"model error: {answer.error}"}, 503,
                        answer.version)
        return json(payload, 200, answer.version)

    @app.post("/feedback")
    def feedback(body: schemas.FeedbackRequest) -> Any:
        router.record_label(body.request_id, body.label)
        return json({"request_id": body.request_id, "recorded": True})

    @app.get("/healthz")
    def healthz() -> Any:
        return json({"status": "ok", "live": router.live_versions(),
                     "weights": router.table.live, "requests": router.n_requests})

    @app.get("/metrics")
    def metrics() -> Any:
        frame = router.metrics_frame()
        return json({"requests": router.n_requests, "versions": frame.to_dict("records")})

    @app.post("/admin/deploy", dependencies=[Depends(admin)])
    def deploy(body: schemas.DeployRequest) -> Any:
        model = ModelVersion.from_artifact(body.artifact)
        router.deploy(body.slot, model)
        return json({"slot": body.slot, "version": model.version})

    @app.post("/admin/switch", dependencies=[Depends(admin)])
    def switch(body: schemas.SwitchRequest) -> Any:
        if (body.slot is None) == (body.version is None):
            raise InputError("give exactly one of slot or version")
        with lock:
            _refuse_during_canary(state)
            slot = body.slot if body.version is None else router.slot_of(body.version)
            held = router.slots.get(slot) if slot in router.slots else None
            if held is None:
                raise InputError(f"slot {slot!r} is unknown or empty")
            if health_check is not None:
                report = health_check.run(held)
                if not report.passed:
                    return json({"detail": f"health check failed: {report.failures()}",
                                 "checks": report.to_frame().to_dict("records")}, 409)
            before = _single_live(router)
            router.switch(slot)
            if before is not None and before != slot:
                state["previous"] = before
        return json({"live": router.live_versions()})

    @app.post("/admin/rollback", dependencies=[Depends(admin)])
    def rollback() -> Any:
        with lock:
            canary = state["canary"]
            if canary is not None and canary.status_ in ("running", "promoted"):
                canary.rollback()
            else:
                previous, live = state["previous"], _single_live(router)
                if previous is None or previous == live or router.version_of(previous) is None:
                    raise InputError("nothing to roll back: no earlier version to return to")
                router.switch(previous)
                state["previous"] = live
        return json({"live": router.live_versions()})

    @app.post("/admin/canary/start", dependencies=[Depends(admin)])
    def canary_start(body: schemas.CanaryStartRequest) -> Any:
        with lock:
            _refuse_during_canary(state)
            held = router.slots.get(body.slot) if body.slot in router.slots else None
            if held is None:
                raise InputError(f"slot {body.slot!r} is unknown or empty")
            plan = CanaryPlan(steps=tuple(body.steps), min_requests=body.min_requests,
                              max_error_rate=body.max_error_rate, min_labels=body.min_labels,
                              max_accuracy_drop=body.max_accuracy_drop)
            release = CanaryRelease(router, held, plan, canary_slot=body.slot).start()
            state["canary"] = release
            state["previous"] = release.stable_slot
        return json({"status": release.status_, "weights": router.table.live})

    @app.post("/admin/canary/advance", dependencies=[Depends(admin)])
    def canary_advance(body: schemas.CanaryAdvanceRequest) -> Any:
        with lock:
            release = _running_canary(state)
            analysis = release.advance(force=body.force)
        return json({"decision": analysis.decision, "reasons": list(analysis.reasons),
                     "metrics": analysis.metrics, "status": release.status_,
                     "weights": router.table.live})

    @app.post("/admin/canary/abort", dependencies=[Depends(admin)])
    def canary_abort() -> Any:
        with lock:
            _running_canary(state).abort()
        return json({"status": "aborted", "live": router.live_versions()})

    return app


class _VersionHeader:
    """ASGI middleware: every response without ``X-Model-Version`` gets the live versions.

    It covers what the endpoints do not build themselves: 401s, 404s, validation errors.
    """

    def __init__(self, app: Any, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-model-version" for name, _ in headers):
                    live = ",".join(sorted(set(self.router.live_versions().values())))
                    headers.append((b"x-model-version", live.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_version)


def _check_width(router: Router, width: int) -> None:
    slots = router.slots
    for slot in router.table.live:
        held = slots.get(slot)
        expected = None if held is None else getattr(held.model, "n_features_in_", None)
        if expected is not None and int(expected) != width:
            raise InputError(f"expected {int(expected)} features, got {width}")


def _single_live(router: Router) -> str | None:
    live = router.table.live
    return next(iter(live)) if len(live) == 1 else None


def _refuse_during_canary(state: dict[str, Any]) -> None:
    canary = state["canary"]
    if canary is not None and canary.status_ == "running":
        raise InputError("a canary is running: advance, abort or roll it back first")


def _running_canary(state: dict[str, Any]) -> CanaryRelease:
    canary = state["canary"]
    if canary is None or canary.status_ != "running":
        raise InputError("no canary is running: start one with /admin/canary/start")
    return canary


def _jsonable(value: Any) -> Any:
    # NaN (e.g. accuracy without labels) is not valid JSON: send null.
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return _jsonable(value.item())
    return value


def serve(router: Router, *, host: str = "127.0.0.1", port: int = 8000,
          admin_token: str | None = None, log_level: str = "warning") -> None:
    """Run the app with uvicorn until interrupted (binds to loopback by default)."""
    import uvicorn

    uvicorn.run(create_app(router, admin_token=admin_token), host=host, port=port,
                log_level=log_level)


class BackgroundServer:
    """Run an app with uvicorn in a thread on an ephemeral loopback port (tests, benches).

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> import httpx
    >>> m = DummyClassifier().fit([[0.0], [1.0]], [0, 1])
    >>> app = create_app(Router({"blue": ModelVersion(m, "v1")}))
    >>> with BackgroundServer(app) as url:
    ...     httpx.get(f"{url}/healthz").json()["live"]
    {'blue': 'v1'}
    """

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        if host not in _LOOPBACK:
            raise InputError(f"BackgroundServer binds to loopback only, got {host!r}")
        self.app = app
        self.host = host
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> str:
        import uvicorn

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False,
                                backlog=1024, timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        daemon=True, name="mlcicd-serve")
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)  # polling for readiness, not pretending to deploy
        return f"http://{self.host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        assert self._thread is not None
        self._thread.join(timeout=10)


def free_loopback_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """Run ``mlcicd serve`` in a child process on a free loopback port (tests, benches).

    A separate process has its own interpreter lock, so a load generator in this
    process does not slow the server down by competing with it.

    Parameters
    ----------
    model : path
        Live model artifact.
    candidate : path, optional
        Candidate artifact, loaded into the idle green slot.
    admin_token : str, optional
        Put in the child's ``MLCICD_ADMIN_TOKEN``.
    """

    def __init__(self, model: str | os.PathLike[str], candidate: str | os.PathLike[str] | None
                 = None, *, admin_token: str | None = None, startup_timeout: float = 60) -> None:
        self.args = ["--model", os.fspath(model)]
        if candidate is not None:
            self.args += ["--candidate", os.fspath(candidate)]
        self.admin_token = admin_token
        self.startup_timeout = startup_timeout
        self._proc: Any = None

    def __enter__(self) -> str:
        import subprocess
        import sys

        import httpx

        port = free_loopback_port()
        env = {k: v for k, v in os.environ.items() if k != ADMIN_TOKEN_ENV}
        if self.admin_token:
            env[ADMIN_TOKEN_ENV] = self.admin_token
        cmd = [sys.executable, "-m", "mlcicd", "serve", *self.args, "--host", "127.0.0.1",
               "--port", str(port)]
        self._proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,  # noqa: S603
                                      stderr=subprocess.PIPE, text=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"mlcicd serve exited: {self._proc.stderr.read().strip()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling for readiness, not pretending to deploy
        self.__exit__()
        raise RuntimeError("mlcicd serve did not answer /healthz in time")

    def __exit__(self, *exc: object) -> None:
        import subprocess

        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self._proc.kill()
            self._proc.wait()
        if self._proc.stderr is not None:
            self._proc.stderr.close()
