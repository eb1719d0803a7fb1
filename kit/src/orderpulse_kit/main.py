"""`python -m orderpulse_<service>`: one service's app, served until SIGTERM or SIGINT."""

import signal
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from faststream.asgi import AsgiFastStream

from orderpulse_kit import logs
from orderpulse_kit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def serve(build_app: Callable[[S], AsgiFastStream], settings: S) -> None:
    """Log as JSON at the configured level and serve `build_app(settings)` over HTTP."""
    logs.configure(settings.log_level)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it; exit 0 so that a stop that
    # went as planned does not read as a crash to the orchestrator.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # uvicorn has no timeout for reading a request's headers or body (timeout_keep_alive only
    # ends idle connections between requests): cutting off slow clients is for a proxy in front.
    uvicorn.run(
        build_app(settings), host=settings.http_host, port=settings.http_port, log_config=None
    )
