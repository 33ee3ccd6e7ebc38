"""One loopback uvicorn server per test module, with a fresh app mounted for each test.

Starting a :class:`~mlcicd.testing.BackgroundServer` is quick, but stopping one waits
for uvicorn's 0.1 s housekeeping tick and its connection drain: about 0.2 s of idle
wall time per test. The serving tests need a fresh router and server state per test
(counters, canary, histories), not a fresh socket, so :class:`AppHost` keeps one
server for the module and forwards every request to the app the current test
mounted. Tests of one module run one after the other, so two apps never share it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlcicd.testing import BackgroundServer


class AppHost:
    """An ASGI app that forwards to whichever app :meth:`mount` put in place.

    Lifespan events of the shared server are answered here; a mounted app's own
    shutdown (what :func:`mlcicd.deploy.serve.create_app`'s lifespan does: stop the
    canary driver and the worker pools) runs when it is unmounted.
    """

    def __init__(self) -> None:
        self._app: Any = None
        self.url = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": f"{message['type']}.complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        app = self._app
        if app is None:  # a request between two tests: nobody is listening for it
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    @contextmanager
    def mount(self, app: Any) -> Iterator[str]:
        """Serve ``app`` until the block ends; gives the server's URL."""
        if self._app is not None:
            raise RuntimeError("an app is already mounted: tests of a module run one at a time")
        self._app = app
        try:
            yield self.url
        finally:
            self._app = None
            app.state.server.close()


@contextmanager
def app_host() -> Iterator[AppHost]:
    """Start one :class:`AppHost` on a loopback port (for a module-scoped fixture)."""
    host = AppHost()
    with BackgroundServer(host) as url:
        host.url = url
        yield host
