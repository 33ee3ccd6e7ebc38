"""HTTP serving of a :class:`~mlcicd.deploy.router.Router` with FastAPI and uvicorn: the routes.

Needs the ``serve`` extra (``pip install mlcicd[serve]``); FastAPI is imported when an
app is created, so the rest of the library works without it. What the server holds
(worker pools, the running canary, histories) lives in
:mod:`mlcicd.deploy.server_state`; helpers that start a server for tests are in
:mod:`mlcicd.testing`.

Endpoints
---------
``POST /predict``
    ``{"features": [...], "key": "user-1"}`` -> prediction, request id and version.
``POST /feedback``
    ``{"request_id": 3, "label": 1}``: the true label, for accuracy per version.
``GET /healthz``, ``GET /metrics``
    Live slots and versions; requests, errors, latency and accuracy per version.
``POST /admin/deploy|switch|rollback``, ``POST /admin/canary/start|advance|abort``,
``GET /admin/canary``
    These need ``Authorization: Bearer <token>`` with the token of
    ``MLCICD_ADMIN_TOKEN`` (compared in constant time); without a configured token
    they always answer 401. A switch first health-checks the target slot (409 and
    nothing switched when it fails). A started canary is analysed by the server
    itself after every few requests, with the same analysis as the offline release,
    aborted on a breach and promoted after its last healthy step; ``GET
    /admin/canary`` shows its timeline. Rollback sends everyone back to the slot that
    served them all before the last switch or canary.

Faults
------
Models run on a small thread pool per slot, never on the event loop: a slow, hung
or failing model delays only the requests routed to it. A call that fails or takes
longer than the timeout is answered by the stable slot while a canary runs; without
one it is a 503 (model error, pool full) or a 504 (timeout). ``/healthz`` and
``/metrics`` never wait for a model. Client mistakes are 4xx and are checked before
any model runs, so they never count against a model: bad JSON, a row of the wrong
width, a non-finite value, a value outside the model's input schema or missing where
it forbids one (when its artifact carries one, as ``mlcicd train``'s do; otherwise
beyond +-3.4e38, the float32 range) -> 422. A missing value (``null``) is otherwise
passed to the model: a trained pipeline imputes it.

Limits (defaults of :class:`~mlcicd.deploy.server_state.ServerLimits`)
----------------------------------------------------------------------
- request body: 1 MiB (413 beyond); features per row: 10,000; key: 256 characters;
  label: an integer within +-2**63 or at most 256 characters.
- model call: 2 s, 4 threads and 256 calls in flight per slot (then 503 at once);
  health check before a switch: 10 s.
- event log: the router's ``max_events`` most recent requests (``mlcicd serve``:
  100,000); ``/metrics`` counts every request since the start, latency percentiles
  over the last 1,000 answers of each of the 64 most recent versions; switch
  history: 100 entries; rollback history: 100 routing tables; smoke rows kept for
  health checks: 50; canary timeline: one entry per step decision (steps <= 20).

Every response carries ``X-Model-Version``: the version that answered a prediction,
or the live versions (comma separated) for other endpoints.
"""

import hmac
import math
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np

from mlcicd.deploy.blue_green import HealthCheck
from mlcicd.deploy.router import Router
from mlcicd.deploy.server_state import ServerLimits, ServerState
from mlcicd.errors import InputError
from mlcicd.io import json_safe

__all__ = ["ADMIN_TOKEN_ENV", "create_app", "serve"]

#: Environment variable holding the admin token.
ADMIN_TOKEN_ENV = "MLCICD_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret


def _require_fastapi() -> Any:
    try:
        import fastapi
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError("serving needs the serve extra: pip install 'mlcicd[serve]'") from exc
    return fastapi


def create_app(router: Router, *, admin_token: str | None = None,
               health_check: HealthCheck | None = None,
               limits: ServerLimits | None = None) -> Any:
    """Build the FastAPI app serving ``router`` (nothing is started).

    Parameters
    ----------
    router : Router
    admin_token : str, optional
        Token of the admin endpoints; default: the ``MLCICD_ADMIN_TOKEN`` variable.
        With neither, the admin endpoints are disabled (401).
    health_check : HealthCheck, optional
        Run on a slot before ``/admin/switch`` sends it traffic; a failure is a 409.
        Default: the target must answer the rows the live model answered recently.
    limits : ServerLimits, optional
        Timeouts, pool sizes and memory bounds.

    Examples
    --------
    >>> import httpx
    >>> from sklearn.dummy import DummyClassifier
    >>> from mlcicd.deploy import ModelVersion
    >>> from mlcicd.testing import BackgroundServer
    >>> m = DummyClassifier(strategy="constant", constant=1).fit([[0.0], [1.0]], [0, 1])
    >>> app = create_app(Router({"blue": ModelVersion(m, "v1")}), admin_token="s3cret")
    >>> with BackgroundServer(app) as url, httpx.Client(base_url=url) as client:
    ...     r = client.post("/predict", json={"features": [0.5], "key": "user-1"})
    ...     bad = client.post("/predict", json={"features": [1e308]})
    ...     denied = client.post("/admin/rollback")
    >>> r.status_code, r.json()["prediction"], r.headers["x-model-version"]
    (200, 1, 'v1')
    >>> bad.status_code, bad.json()["detail"], denied.status_code
    (422, 'feature 0 = 1e+308 is beyond +-3.40282e+38', 401)
    """
    fastapi = _require_fastapi()
    from fastapi import FastAPI

    state = ServerState(router, limits, health_check)
    token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="mlcicd model server", version="2", lifespan=lifespan)
    app.state.server = state
    app.add_middleware(_BodyLimit, max_bytes=state.limits.max_body_bytes)
    app.add_middleware(_VersionHeader, router=router)  # outermost: covers the 413s too
    _add_error_handlers(app, fastapi)
    _add_public_routes(app, state)
    _add_admin_routes(app, state, _admin_guard(fastapi, token))
    return app


def _reply(body: Any, status: int = 200, version: str | None = None) -> Any:
    from fastapi.responses import JSONResponse

    # Without an explicit version, _VersionHeader names the live versions.
    headers = {"X-Model-Version": version} if version else None
    return JSONResponse(json_safe(body), status_code=status, headers=headers)


def _add_error_handlers(app: Any, fastapi: Any) -> None:
    @app.exception_handler(InputError)
    async def input_error(request: Any, exc: InputError) -> Any:
        return _reply({"detail": str(exc)}, 422)

    @app.exception_handler(fastapi.exceptions.RequestValidationError)
    async def bad_request(request: Any, exc: Any) -> Any:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return _reply({"detail": message[:1000], "errors": errors[:20]}, 422)

    from starlette.exceptions import HTTPException

    @app.exception_handler(HTTPException)
    async def http_error(request: Any, exc: Any) -> Any:
        # e.g. a body that is not parseable at all (FastAPI says 400): a client error
        status = 422 if exc.status_code == 400 else exc.status_code
        response = _reply({"detail": str(exc.detail)}, status)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response


def _add_public_routes(app: Any, state: ServerState) -> None:
    from mlcicd.deploy import schemas

    router = state.router

    @app.post("/predict")
    async def predict(body: schemas.PredictRequest) -> Any:
        row = np.array([math.nan if v is None else v for v in body.features], dtype=float)
        problem = state.input_problem(row)
        if problem is not None:
            return _reply({"detail": problem}, 422)
        answer = await state.predict(row, body.key)
        payload = {"request_id": answer.request_id, "prediction": answer.prediction,
                   "version": answer.version, "slot": answer.slot}
        if answer.fallback_from is not None:
            payload["fallback_from"] = answer.fallback_from
        if answer.detail is not None:
            payload["detail"] = answer.detail
        return _reply(payload, answer.status, answer.version)

    @app.post("/feedback")
    async def feedback(body: schemas.FeedbackRequest) -> Any:
        router.record_label(body.request_id, body.label)
        return _reply({"request_id": body.request_id, "recorded": True})

    @app.get("/healthz")
    async def healthz() -> Any:
        return _reply({"status": "ok", "live": router.live_versions(),
                       "weights": router.table.live, "requests": router.n_requests})

    @app.get("/metrics")
    async def metrics() -> Any:
        return _reply({"requests": router.n_requests, "versions": router.summary(),
                       "fallbacks": state.fallbacks, "timeouts": state.timeouts,
                       "refused_busy": state.refused_busy,
                       "mirror_dropped": state.mirror_dropped,
                       "in_flight": state.workers.pending()})


def _admin_guard(fastapi: Any, token: str | None) -> Any:
    from fastapi import Depends, Header

    def admin(authorization: str | None = Header(default=None)) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if (not token or scheme.lower() != "bearer"
                or not hmac.compare_digest(given.strip().encode(), token.encode())):
            raise fastapi.HTTPException(401, "admin token missing or wrong",
                                        headers={"WWW-Authenticate": "Bearer"})

    return [Depends(admin)]


def _add_admin_routes(app: Any, state: ServerState, guard: list[Any]) -> None:
    from mlcicd.deploy import admin_routes

    admin_routes.add(app, state, guard, _reply)


class _VersionHeader:
    """ASGI middleware: every response without ``X-Model-Version`` gets the live versions.

    It covers what the endpoints do not build themselves: 401s, 404s, 413s, 422s.
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


class _BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is a 413, read no further."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def receive_body() -> Any:
            return replay.pop() if replay else await receive()

        await self.app(scope, receive_body, send)

    async def _refuse(self, send: Any) -> None:
        import json

        body = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body.encode()})


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host:port``; InputError (one line) when it is taken."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"--host {host!r}: cannot resolve it ({exc})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def serve(router: Router, *, host: str = "127.0.0.1", port: int = 8000,
          admin_token: str | None = None, log_level: str = "warning",
          limits: ServerLimits | None = None, sock: socket.socket | None = None) -> None:
    """Run the app with uvicorn until interrupted (binds to loopback by default).

    The port is bound (:func:`bind_socket`) before uvicorn starts, so a port in use is
    one :class:`~mlcicd.errors.InputError` instead of uvicorn's log and exit code.
    ``sock``: an already bound socket to use instead of ``host`` and ``port``.
    """
    import uvicorn

    sock = bind_socket(host, port) if sock is None else sock
    app = create_app(router, admin_token=admin_token, limits=limits)
    config = uvicorn.Config(app, log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
