"""`python -m orderpulse_<service>`: one service's app, served until SIGTERM or SIGINT."""

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn
from faststream.asgi import AsgiFastStream
from faststream.asgi.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from orderpulse_kit import logs, signals
from orderpulse_kit.batch import collect_for_polls
from orderpulse_kit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)

REQUEST_SECONDS = 30.0
"""How long a client has to send a request and get its answer (from connecting, or from its
previous answer). Probes, metrics, webhooks and the timeline answer in well under a second."""


def serve(build_app: Callable[[S], AsgiFastStream], settings: S) -> None:
    """Log as JSON at the configured level and serve `build_app(settings)` over HTTP, the
    process's garbage collector set for polls once it has started."""
    logs.configure(settings.log_level)
    signals.exit_cleanly_on_sigterm()
    app = collect_for_polls(build_app(settings))
    app.after_startup(signals.started)
    uvicorn.run(
        stopping_at_once_until_started(app),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        http=with_deadline(REQUEST_SECONDS),
    )


def stopping_at_once_until_started(app: AsgiFastStream) -> ASGIApp:
    """`app`, whose start-up first keeps a SIGTERM ending the process at once until it has
    started (`signals.stop_at_once_until_started`)."""

    async def serving(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            signals.stop_at_once_until_started()
        await app(scope, receive, send)

    return serving


def with_deadline(seconds: float) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request is not read and answered
    within `seconds`.

    uvicorn's only timeout ends idle connections between requests: a client that sends its
    headers or body a byte a minute (or never finishes them) held a connection, its buffers and
    the handler awaiting the body for as long as it liked, and a few hundred such clients were
    a cheap way to starve a pod.
    """

    class DeadlineH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()  # the next request on this connection, if it comes, has its own time

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _too_slow(self) -> None:
            if not self.transport.is_closing():
                self.transport.close()

    return DeadlineH11Protocol
